#!/usr/bin/env python3
"""`lathe serve` under load while a job trains: Get/List latency and what the load costs training.

The service issue's targets: at 200 requests/s of Get/List calls, p99 <= 50 ms, and the job's
training throughput keeps >= 90 % of what it has alone. Each number is printed next to its peer
measured in the same run: the loaded job's tokens/s next to the same job trained alone, the latency
under training next to the same load on an idle server.

  bench/bench_serve.py [--lathe build/lathe] [--rate 200] [--epochs 40] [--records 150] [--rounds 1]
                      [--protocols h1|h2|h1,h2]

Phases, on one `lathe serve --no-auth` with the small default model (built once into --home):
  1. alone : a fine-tuning job (--records records made from the repo's banking sample, --epochs
             epochs: ~60-90 s of training on 2 cores) with no other load;
  2. idle  : --idle-seconds of the load on the server with no job running (the latency peer);
  3. loaded: the same job again (new name, new output) with the load running for its whole life.
--rounds N repeats 1 and 3 alternately, so that drift on a shared machine shows as round-to-round
spread instead of a bias. Latency counts only requests started while the job's training ran.
--history N first creates N jobs that end at once (their data fails validation), through the API,
so the List calls run against a server with a past: List cost grows with every job ever created.

The load tool is h2load (Debian package nghttp2-client), one process per operation
(GetModelCustomizationJob on the running job's ARN, ListModelCustomizationJobs,
ListFoundationModels, ListCustomModels), each at rate/4 requests/s. Why h2load:
  - `-r 1 --rate-period 20ms -c N -n N` opens a connection every 20 ms whatever the server does and
    sends one request on it: an open-loop fixed rate, so a slow answer cannot lower the offered
    load and hide its own queueing (wrk and ab are closed loops: they send the next request only
    when the last one has returned, and ab has no rate at all);
  - `--log-file` writes every request's start time, status and duration (microseconds, flushed as
    it goes): exact p50/p99, filtered to the training window; httperf's --rate is open-loop too,
    but it prints only min/avg/max/stddev of reply times and a lifetime histogram in coarse bins.
  The latency is h2load's: request sent to last byte of the answer, TCP connect excluded (~0.2 ms
  on loopback; boto3 keeps its connections alive, so it does not pay it per call either).
--protocols h1,h2 splits the same load between HTTP/1.1 and HTTP/2 (h2load's h2c with prior
knowledge, the JavaScript SDK's way), running side by side, and reports p99 and errors for each;
h2 alone puts the whole load on HTTP/2. Either way one connection carries one request, so HTTP/2
pays its SETTINGS exchange on every request: the figures compare the protocols' per-request
cost on a cold connection, not multiplexing.
The load is unsigned (--no-auth): no HTTP load tool signs AWS SigV4. bench_sigv4 (built beside
lathe, when present) measures the verification a signed request adds, reported next to the p50.

Needs: h2load (apt-get install nghttp2-client) and any python3 (no boto3: unsigned JSON over
urllib, the same requests boto3 sends). Takes 4-6 minutes with the defaults on 2 cores.
"""
import argparse
import fractions
import json
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "samples", "banking_support.jsonl")
TICKS = os.sysconf("SC_CLK_TCK")


def die(msg):
    print("bench_serve: " + msg, file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- the server and its API

class Server:
    def __init__(self, lathe, work, home):
        self.work = work
        data = os.path.join(work, "data")
        config = os.path.join(work, "serve-config.json")
        with open(config, "w") as f:
            # The jobs read their data from (and write outputs to) the work folder.
            json.dump({"models": {"lathe.default-v1": os.path.join(home, "models", "lathe-default")},
                       "fileRoots": [os.path.realpath(work)]}, f)
        self.log = open(os.path.join(work, "serve.log"), "w")
        self.proc = subprocess.Popen([lathe, "serve", "--listen", "127.0.0.1:0", "--no-auth", "--data-dir", data,
                                      "--config", config],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        first = self.proc.stdout.readline()
        if not first.startswith("lathe serve: http://"):
            die("lathe serve did not start (%r); see %s" % (first, self.log.name))
        self.url = first.split()[2]
        self.data = data

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            die("%s %s -> %d %s" % (method, path, e.code, e.read().decode(errors="replace")))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def job_path(arn):
    return "/model-customization-jobs/" + urllib.parse.quote(arn, safe="")  # as botocore encodes a label


# ---------------------------------------------------------------- CPU accounting

def proc_times(pid):
    """(own CPU s, reaped children's CPU s) of a process."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / TICKS, (cutime + cstime) / TICKS


def machine_busy():
    """CPU seconds the whole machine spent busy (all cores)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / TICKS  # less idle and iowait


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class CpuMeter:
    """CPU used between start() and stop(): the server, its training worker, the load tool, the rest."""

    def __init__(self, server_pid):
        self.pid = server_pid

    def snapshot(self):
        own, reaped = proc_times(self.pid)
        return {"t": time.time(), "server": own, "worker": reaped, "load": children_cpu(), "machine": machine_busy(),
                "me": time.process_time()}

    def start(self):
        self.a = self.snapshot()

    def stop(self):
        self.b = self.snapshot()

    def shares(self):
        """Each part's CPU in cores (1.0 = one core busy all the time) over the interval."""
        secs = self.b["t"] - self.a["t"]
        d = {k: (self.b[k] - self.a[k]) / secs for k in ("server", "worker", "load", "machine", "me")}
        d["others"] = max(0.0, d["machine"] - d["server"] - d["worker"] - d["load"] - d["me"])
        return d


def wait_until_quiet(max_cores, max_wait):
    """Waits until the rest of the machine uses < max_cores for 3 s (a shared machine's builds skew
    the training ratio far more than the load does); returns the cores it last measured."""
    deadline, said = time.time() + max_wait, 0.0
    while True:
        b0, t0 = machine_busy(), time.time()
        time.sleep(3)
        others = (machine_busy() - b0) / (time.time() - t0)
        if others < max_cores or time.time() > deadline:
            return others
        if time.time() - said > 60:
            print("    (waiting for a quiet machine: others use %.2f cores)" % others, flush=True)
            said = time.time()


# ---------------------------------------------------------------- the load

class Load:
    """One h2load per URI, each opening connections at a fixed rate (one request each)."""

    def __init__(self, url, paths, rate, seconds, folder, tag, protocols=("h1",)):
        self.procs, self.logs = [], []
        per = fractions.Fraction(rate, len(paths) * len(protocols))  # requests/s per URI and protocol
        per_ms = per / 1000  # = k connections per p ms, both integers (h2load takes whole ms)
        k, p = per_ms.numerator, per_ms.denominator
        n = max(1, int(per * seconds))
        for i, (path, protocol) in enumerate((x, y) for x in paths for y in protocols):
            log = os.path.join(folder, "%s-%d.log" % (tag, i))
            out = open(os.path.join(folder, "%s-%d.out" % (tag, i)), "w")
            self.logs.append((path, log, protocol))
            self.procs.append(subprocess.Popen(
                ["h2load"] + (["--h1"] if protocol == "h1" else []) +
                ["-r", str(k), "--rate-period", "%dms" % p, "-c", str(n), "-n", str(n),
                 "--log-file", log, url + path], stdout=out, stderr=subprocess.STDOUT))

    def running(self):
        return any(p.poll() is None for p in self.procs)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)  # the log is written as requests end: nothing is lost
        for p in self.procs:
            p.wait()

    def requests(self):
        """[(path, start s, status, latency ms, protocol)] of every logged request."""
        rows = []
        for path, log, protocol in self.logs:
            if not os.path.exists(log):
                continue
            with open(log) as f:
                for line in f:
                    cols = line.split("\t")
                    if len(cols) >= 3:
                        rows.append((path, int(cols[0]) / 1e6, int(cols[1]), int(cols[2]) / 1e3, protocol))
        return rows


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[i]  # nearest rank


def latency_stats(rows, t0, t1):
    inside = [r for r in rows if t0 <= r[1] <= t1]
    ms = sorted(r[3] for r in inside)
    errors = sum(1 for r in inside if not 200 <= r[2] < 300)
    per_path = {}
    for r in inside:
        per_path.setdefault(r[0], []).append(r[3])
    return {"n": len(inside), "rate": len(inside) / max(t1 - t0, 1e-9), "errors": errors,
            "p50": percentile(ms, 50), "p90": percentile(ms, 90), "p99": percentile(ms, 99),
            "max": ms[-1] if ms else float("nan"),
            "p99_by_path": {p: percentile(sorted(v), 99) for p, v in per_path.items()}}


# ---------------------------------------------------------------- a job

def write_training_data(folder, records):
    """The banking sample's 50 records, repeated with a numbered prompt up to `records`."""
    with open(SAMPLE) as f:
        sample = [json.loads(line) for line in f if line.strip()]
    path = os.path.join(folder, "train.jsonl")
    with open(path, "w") as f:
        for i in range(records):
            r = dict(sample[i % len(sample)])
            if i >= len(sample):
                r["prompt"] = "%s (%d)" % (r["prompt"], i // len(sample))
            f.write(json.dumps(r) + "\n")
    return path


def make_history(server, n, folder):
    """n finished (Failed: invalid data) jobs, created as users create jobs."""
    bad = os.path.join(folder, "history.jsonl")
    with open(bad, "w") as f:
        f.write('{"prompt": 1}\n')
    arn = None
    for i in range(n):
        arn = server.call("POST", "/model-customization-jobs", {
            "jobName": "history-%d" % i, "customModelName": "history-%d-model" % i,
            "roleArn": "arn:aws:iam::123456789012:role/BedrockFineTuningRole",
            "baseModelIdentifier": "lathe.default-v1", "trainingDataConfig": {"s3Uri": "file://" + bad},
            "outputDataConfig": {"s3Uri": "file://" + os.path.join(folder, "out-history")}})["jobArn"]
    while arn and server.call("GET", job_path(arn))["status"] == "InProgress":  # they run in order
        time.sleep(0.5)


def run_job(server, name, train, epochs, batch, folder, load_factory=None):
    """Creates the job, (optionally) starts the load on it, waits; returns what was measured."""
    arn = server.call("POST", "/model-customization-jobs", {
        "jobName": name, "customModelName": name + "-model",
        "roleArn": "arn:aws:iam::123456789012:role/BedrockFineTuningRole",
        "baseModelIdentifier": "lathe.default-v1",
        "trainingDataConfig": {"s3Uri": "file://" + train},
        "outputDataConfig": {"s3Uri": "file://" + os.path.join(folder, "out-" + name)},
        "hyperParameters": {"epochCount": str(epochs), "batchSize": str(batch), "learningRate": "0.0003"}})["jobArn"]
    load = load_factory(arn) if load_factory else None
    meter = CpuMeter(server.proc.pid)
    t_train = t_end = None
    try:
        while True:
            job = server.call("GET", job_path(arn))
            training = job["statusDetails"]["trainingDetails"]["status"]
            if t_train is None and training == "InProgress":
                t_train = time.time()
                meter.start()
            if job["status"] != "InProgress":
                t_end = time.time()
                break
            if load and not load.running():
                die("the load ended before the job (raise --max-seconds); job: %s" % job["status"])
            time.sleep(0.5)
    finally:
        if load:
            load.stop()  # before the meter reads the load tool's CPU (counted once it has exited)
    meter.stop()
    if job["status"] != "Completed":
        die("job %s ended %s: %s" % (name, job["status"], job.get("failureMessage", "")))
    job_id = arn.rsplit("/", 1)[1]
    with open(os.path.join(server.data, "jobs", job_id, "progress.json")) as f:
        progress = json.load(f)
    return {"name": name, "arn": arn, "t0": t_train, "t1": t_end, "seconds": t_end - t_train,
            "tokens_per_s": progress["tokensPerSecond"], "steps": progress["step"], "cpu": meter.shares(),
            "load": load}


def sigv4_cost(path):
    if not path or not os.path.exists(path):
        return None
    out = subprocess.run([path], capture_output=True, text=True)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lathe", default=os.path.join(REPO, "build", "lathe"))
    p.add_argument("--home", help="caches the small default model (default: bench-serve-home beside --lathe)")
    p.add_argument("--rate", type=int, default=200, help="requests/s, split evenly over the 4 operations")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--records", type=int, default=150, help="training records (the 50-record sample, repeated)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--idle-seconds", type=int, default=15, help="the load alone, without a job (latency peer)")
    p.add_argument("--rounds", type=int, default=1, help="alone/loaded pairs, alternating")
    p.add_argument("--history", type=int, default=0, help="finished jobs to create first (see above)")
    p.add_argument("--max-seconds", type=int, default=900, help="the longest a loaded job may take")
    p.add_argument("--p99-ms", type=float, default=50.0)
    p.add_argument("--min-ratio", type=float, default=0.90)
    p.add_argument("--protocols", default="h1", choices=["h1", "h2", "h1,h2"],
                   help="HTTP/1.1, HTTP/2 (h2c), or both side by side, each with half the rate")
    p.add_argument("--quiet-cores", type=float, default=0.2,
                   help="before each phase, wait until other processes use less than this many cores")
    p.add_argument("--quiet-wait", type=int, default=600, help="seconds to wait for that, per phase")
    p.add_argument("--sigv4-bench", help="default: bench/bench_sigv4 beside --lathe")
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs, h2load logs)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))  # stop the server and the load on the way out

    lathe = os.path.abspath(args.lathe)
    if not os.access(lathe, os.X_OK):
        die("no lathe binary at %s (build it, or pass --lathe)" % lathe)
    if not shutil.which("h2load"):
        die("h2load is missing: apt-get install nghttp2-client")
    protocols = tuple(args.protocols.split(","))
    if args.rate % (4 * len(protocols)):
        die("--rate must be a multiple of %d (one h2load per operation and protocol)" % (4 * len(protocols)))
    home = os.path.abspath(args.home or os.path.join(os.path.dirname(lathe), "bench-serve-home"))
    sigv4 = args.sigv4_bench or os.path.join(os.path.dirname(lathe), "bench", "bench_sigv4")

    subprocess.run([lathe, "models", "build-default", "--data-dir", home, "--max-records", "4000"], check=True,
                   stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="lathe-bench-serve-")
    server = Server(lathe, work, home)
    train = write_training_data(work, args.records)
    loads = os.path.join(work, "load")
    os.makedirs(loads)
    lists = ["/model-customization-jobs", "/foundation-models", "/custom-models"]
    print("lathe serve %s (--no-auth), %d CPUs, load: h2load, %d requests/s open-loop over GetModelCustomizationJob"
          ", ListModelCustomizationJobs, ListFoundationModels, ListCustomModels; job: %d epochs x %d records, "
          "batch %d" % (server.url, os.cpu_count(), args.rate, args.epochs, args.records, args.batch), flush=True)
    if args.history:
        make_history(server, args.history, work)
        print("  history : %d finished jobs" % args.history, flush=True)
    alone, loaded, idle = [], [], None
    try:
        for r in range(args.rounds):
            wait_until_quiet(args.quiet_cores, args.quiet_wait)
            a = run_job(server, "bench-alone-%d" % r, train, args.epochs, args.batch, work)
            alone.append(a)
            print("  alone  #%d: %6.0f tokens/s, training %5.1f s" % (r, a["tokens_per_s"], a["seconds"]), flush=True)
            if idle is None and args.idle_seconds > 0:
                wait_until_quiet(args.quiet_cores, args.quiet_wait)
                load = Load(server.url, [job_path(a["arn"])] + lists, args.rate, args.idle_seconds, loads, "idle",
                            protocols)
                t0 = time.time()
                meter = CpuMeter(server.proc.pid)
                meter.start()
                while load.running():
                    time.sleep(0.2)
                meter.stop()
                idle = {"stats": latency_stats(load.requests(), t0, time.time()), "cpu": meter.shares()}
                s = idle["stats"]
                print("  idle    : %d requests, p50 %.2f ms, p99 %.2f ms (no job)" % (s["n"], s["p50"], s["p99"]),
                      flush=True)
            factory = lambda arn, r=r: Load(server.url, [job_path(arn)] + lists, args.rate, args.max_seconds, loads,
                                            "loaded-%d" % r, protocols)
            wait_until_quiet(args.quiet_cores, args.quiet_wait)
            b = run_job(server, "bench-loaded-%d" % r, train, args.epochs, args.batch, work, factory)
            b["stats"] = latency_stats(b["load"].requests(), b["t0"], b["t1"])
            loaded.append(b)
            print("  loaded #%d: %6.0f tokens/s, training %5.1f s, %d requests, p50 %.2f ms, p99 %.2f ms" %
                  (r, b["tokens_per_s"], b["seconds"], b["stats"]["n"], b["stats"]["p50"], b["stats"]["p99"]),
                  flush=True)
    finally:
        server.stop()

    # Latency over every loaded round's requests together.
    rows = []
    for b in loaded:
        rows += [x for x in b["load"].requests() if b["t0"] <= x[1] <= b["t1"]]
    window = sum(b["seconds"] for b in loaded)
    ms = sorted(x[3] for x in rows)
    lat = {"n": len(ms), "rate": len(ms) / window, "errors": sum(1 for x in rows if not 200 <= x[2] < 300),
           "p50": percentile(ms, 50), "p90": percentile(ms, 90), "p99": percentile(ms, 99), "max": ms[-1]}
    alone_tps = statistics.mean(a["tokens_per_s"] for a in alone)
    loaded_tps = statistics.mean(b["tokens_per_s"] for b in loaded)
    ratio = loaded_tps / alone_tps

    print("\nlatency (ms), requests started while the job trained   | same load, no job (peer) | ratio")
    ist = idle["stats"] if idle else None
    for key in ("p50", "p90", "p99", "max"):
        peer = ist[key] if ist else float("nan")
        print("  %-4s %8.2f                                         | %8.2f                 | %5.2f" %
              (key, lat[key], peer, lat[key] / peer if ist else float("nan")))
    print("  requests %d in %.0f s (%.1f/s offered %d/s), errors %d%s" %
          (lat["n"], window, lat["rate"], args.rate, lat["errors"],
           "; no job: %d, errors %d" % (ist["n"], ist["errors"]) if ist else ""))
    worst = {}
    for b in loaded:
        for path, v in b["stats"]["p99_by_path"].items():
            op = "GetModelCustomizationJob" if path.count("/") > 1 else path
            worst[op] = max(worst.get(op, 0), v)
    print("  p99 by operation: " + ", ".join("%s %.2f" % kv for kv in sorted(worst.items())))
    by_protocol = {}
    for x in rows:
        by_protocol.setdefault(x[4], []).append(x)
    if len(protocols) > 1:
        print("  side by side, requests started while the job trained:")
    for protocol, mine in sorted(by_protocol.items()):
        pms = sorted(x[3] for x in mine)
        by_protocol[protocol] = {"n": len(pms), "p50": percentile(pms, 50), "p99": percentile(pms, 99),
                                 "errors": sum(1 for x in mine if not 200 <= x[2] < 300)}
        if len(protocols) > 1:
            b = by_protocol[protocol]
            print("    %-8s %6d requests, p50 %6.2f ms, p99 %6.2f ms, errors %d" %
                  ("HTTP/1.1" if protocol == "h1" else "HTTP/2", b["n"], b["p50"], b["p99"], b["errors"]))

    print("\ntraining throughput (tokens/s)   alone    loaded   loaded/alone")
    for i, (a, b) in enumerate(zip(alone, loaded)):
        print("  round %d                      %8.0f  %8.0f   %6.3f   (training %.1f s vs %.1f s)" %
              (i, a["tokens_per_s"], b["tokens_per_s"], b["tokens_per_s"] / a["tokens_per_s"], a["seconds"],
               b["seconds"]))
    if len(alone) > 1:
        print("  mean                         %8.0f  %8.0f   %6.3f" % (alone_tps, loaded_tps, ratio))

    print("\nCPU while training, in cores (of %d): worker | server | h2load | others on the machine" % os.cpu_count())
    for label, runs in (("alone ", alone), ("loaded", loaded)):
        c = {k: statistics.mean(x["cpu"][k] for x in runs) for k in ("worker", "server", "load", "others")}
        print("  %s  %5.2f | %5.2f | %5.2f | %5.2f" % (label, c["worker"], c["server"], c["load"], c["others"]))
    if idle:
        c = idle["cpu"]
        print("  no job  %5.2f | %5.2f | %5.2f | %5.2f" % (c["worker"], c["server"], c["load"], c["others"]))

    busiest = max(x["cpu"]["others"] for x in alone + loaded)
    if busiest > args.quiet_cores:
        print("  WARNING: other processes used up to %.2f cores during a job: the tokens/s ratio measures them "
              "as much as the load; rerun on a quiet machine (or with more --rounds)" % busiest)

    sig = sigv4_cost(sigv4)
    if sig:
        print("\nSigV4 (not in the load above): api::VerifySigV4 %.1f us per request = %.1f %% of the loaded p50; "
              "%.1fx its minimal crypto" % (sig["verify_us"], 100 * sig["verify_us"] / 1000 / lat["p50"],
                                            sig["verify_us"] / sig["minimal_crypto_us"]))
    else:
        print("\nSigV4: not measured (no %s)" % sigv4)

    checks = [("p99 %.2f ms <= %.0f ms" % (lat["p99"], args.p99_ms), lat["p99"] <= args.p99_ms),
              ("training loaded/alone %.3f >= %.2f" % (ratio, args.min_ratio), ratio >= args.min_ratio),
              ("errors %d == 0" % lat["errors"], lat["errors"] == 0)]
    if len(protocols) > 1:
        for protocol, b in sorted(by_protocol.items()):
            name = "HTTP/1.1" if protocol == "h1" else "HTTP/2"
            checks.append(("%s p99 %.2f ms <= %.0f ms, errors %d" % (name, b["p99"], args.p99_ms, b["errors"]),
                           b["p99"] <= args.p99_ms and b["errors"] == 0))
    print()
    for what, ok in checks:
        print("%s  %s" % ("PASS" if ok else "FAIL", what))
    print("overall: %s" % ("PASS" if all(ok for _, ok in checks) else "FAIL"))
    if args.keep:
        print("work folder kept: %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
