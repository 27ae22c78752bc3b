#!/usr/bin/env python3
"""Start-up cost of build/lathe: wall time and peak RSS of commands that need no model.

The gateway issue's targets: `lathe --help` and `lathe data validate` on a small file in <= 50 ms
and <= 30 MB; `lathe serve` until its port answers, measured beside them. Each number is printed
next to the same command of a peer binary measured in the same run (--peer, e.g. a build from
before the engine became a module), with the ratio lathe / peer.

  bench/bench_startup.py [--lathe build/lathe] [--peer /tmp/lathe-before] [--runs 15]

Commands, each run --runs times per binary, the binaries alternating run by run so that drift on
a shared machine lands on both:
  help     : lathe --help
  validate : lathe data validate <20 records of samples/banking_support.jsonl>
  serve    : lathe serve --listen 127.0.0.1:0 --no-auth --data-dir <fresh dir>, from the spawn
             until GET /foundation-models answers 200 (the URL is read from its first line of
             output; polled every 2 ms); then SIGTERM.
Wall time is the median over the runs (spawn to exit, or to the first answer for serve); peak RSS
is the largest over the runs: GNU time's %M for the short commands (a second run of each), VmHWM
from /proc/PID/status at the first answer for serve. OMP_WAIT_POLICY is removed from the commands'
environment, as a user's shell has it (binaries that linked libtorch re-executed themselves to set
it); --omp-passive sets it instead, so that such a peer starts once.
Needs python3 and GNU time (Debian package time); takes ~20 s, minutes with a slow peer.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "samples", "banking_support.jsonl")
TIME = "/usr/bin/time"  # GNU time (Debian package time): peak RSS of a command


OMP_PASSIVE = False  # --omp-passive


def env_for_child():
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if OMP_PASSIVE:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def run_short(argv, rss_file):
    """(wall seconds, peak RSS bytes) of a command run to its end; fails loudly on a non-zero exit.

    Two runs: the wall time of the command itself, then its peak RSS through GNU time. Not
    ru_maxrss of a child of this script: exec() records the old image's peak as the new one's
    start, and Python's child is a vfork of this interpreter, so the RSS of Python itself (~20 MB)
    would be reported for every command. GNU time's own image is ~1 MB.
    """
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env_for_child())
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit("bench_startup: %s exited %d: %s" % (" ".join(argv), proc.returncode, proc.stderr.decode()))
    subprocess.run([TIME, "-f", "%M", "-o", rss_file] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env_for_child(), check=True)
    with open(rss_file) as f:
        return wall, int(f.read().split()[-1]) * 1024


def vm_hwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def run_serve(lathe, work):
    """(seconds from spawn to the first answer, peak RSS bytes then) of one `lathe serve`."""
    data = tempfile.mkdtemp(dir=work)
    start = time.perf_counter()
    proc = subprocess.Popen([lathe, "serve", "--listen", "127.0.0.1:0", "--default-build", "first-use", "--no-auth", "--data-dir", data],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env_for_child())
    try:
        first = proc.stdout.readline()  # "lathe serve: http://127.0.0.1:PORT  (data: ...)"
        if not first.startswith("lathe serve: http://"):
            sys.exit("bench_startup: %s serve did not start: %r" % (lathe, first))
        url = first.split()[2]
        deadline = start + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/foundation-models", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.perf_counter() > deadline:
                sys.exit("bench_startup: %s serve did not answer in 30 s" % lathe)
            time.sleep(0.002)
        wall = time.perf_counter() - start
        rss = vm_hwm(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return wall, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lathe", default=os.path.join(REPO, "build", "lathe"))
    ap.add_argument("--peer", help="another lathe binary measured in the same run (e.g. before a change)")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--omp-passive", action="store_true",
                    help="run the commands with OMP_WAIT_POLICY=PASSIVE set (binaries that re-executed "
                         "themselves to set it then start once)")
    args = ap.parse_args()
    global OMP_PASSIVE
    OMP_PASSIVE = args.omp_passive
    binaries = [("lathe", os.path.abspath(args.lathe))]
    if args.peer:
        binaries.append(("peer", os.path.abspath(args.peer)))
    if not os.access(TIME, os.X_OK):
        sys.exit("bench_startup: needs GNU time at %s (apt-get install time)" % TIME)
    for _, path in binaries:
        if not os.access(path, os.X_OK):
            sys.exit("bench_startup: %s is not an executable" % path)

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as work:
        rss_file = os.path.join(work, "rss")
        small = os.path.join(work, "small.jsonl")
        with open(SAMPLE) as src, open(small, "w") as out:
            for _ in range(20):
                out.write(src.readline())
        commands = {
            "help": lambda lathe: run_short([lathe, "--help"], rss_file),
            "validate": lambda lathe: run_short([lathe, "data", "validate", "--allow-small", small], rss_file),
            "serve": lambda lathe: run_serve(lathe, work),
        }
        results = {(name, cmd): [] for name, _ in binaries for cmd in commands}
        for _, path in binaries:  # warm the page cache once per binary, unmeasured
            for cmd, fn in commands.items():
                fn(path)
        for _ in range(args.runs):
            for cmd, fn in commands.items():
                for name, path in binaries:
                    results[(name, cmd)].append(fn(path))

    print("bench_startup: median wall time of %d runs, largest peak RSS; OMP_WAIT_POLICY %s" %
          (args.runs, "PASSIVE" if OMP_PASSIVE else "unset"))
    for name, path in binaries:
        print("  %-5s %s" % (name, path))
    header = "| command | lathe ms | lathe MB |"
    if args.peer:
        header += " peer ms | peer MB | ms lathe/peer | MB lathe/peer |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for cmd in commands:
        row = []
        for name, _ in binaries:
            runs = results[(name, cmd)]
            row.append((statistics.median(w for w, _ in runs) * 1e3, max(r for _, r in runs) / 2**20))
        line = "| %s | %.1f | %.1f |" % (cmd, row[0][0], row[0][1])
        if args.peer:
            line += " %.1f | %.1f | %.3f | %.3f |" % (row[1][0], row[1][1], row[0][0] / row[1][0], row[0][1] / row[1][1])
        print(line)


if __name__ == "__main__":
    main()
