#!/usr/bin/env python3
"""Evaluation throughput: cases/s of `lathe eval run` batched through the engine, next to the same
cases sent one by one through InvokeModel to a `lathe serve` in the same run.

The issue's target: batched >= 3x the one-by-one rate, for 200 cases x 2 models.

  bench/bench_eval.py [--lathe build/lathe] [--cases 200] [--max-tokens 32] [--batch-size 16]
                      [--model DIR] [--rounds 1]

Both sides run the same command, `lathe eval run` over the same test set, the same two models and
the same settings (greedy, --max-tokens new tokens, no stop sequence); only where the answers come
from differs:
  batched   : --model a=DIR --model b=DIR: the engine in the eval process, --batch-size cases per
              Generate call;
  one by one: --endpoint URL --model stories-a --model stories-b: InvokeModel (Titan text bodies,
              SigV4-signed) to a `lathe serve` that serves DIR under both ids, one request per case,
              as the tutorials' evaluation scripts call Bedrock. A third column, when boto3 is installed: the
              tutorials' own way, a boto3 loop of invoke_model calls (steady cases/s after its first).
Cases/s counts answers (cases x models) from --progress-json's elapsedSeconds: in the steady state
(from the first batch's end to the last's: each side's first-use costs left out, the engine's
thread start-up here, the server's first request there), over the whole generation phase, and over
the command's wall time (with model loading and the reports). --rounds N alternates the two N
times; the ratio reported is the median round's, as the machine's other load moves single rounds.

The model: --model DIR, else stories260K from ../shared (imported into a temporary folder with
`lathe models import`), the real tiny Llama the tests use.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared")

# TinyStories openings, the kind of prompt stories260K continues; repeated with a number so every
# case is its own prompt (and prompt lengths vary as in a real test set).
OPENINGS = ["Once upon a time", "One day, a little girl named Lily", "Tom and his dog went to the",
            "The sun was shining and the birds", "There was a big red ball in the", "Mom said it was time to",
            "The little cat wanted to", "In the park, the children"]


def die(msg):
    print("bench_eval: " + msg, file=sys.stderr)
    sys.exit(2)


def write_test_set(path, n):
    with open(path, "w") as f:
        for i in range(n):
            opening = OPENINGS[i % len(OPENINGS)]
            words = " ".join(["and then"] * (i % 5))
            f.write(json.dumps({"prompt": f"{opening} {words}".strip(), "expectedKeywords": ["happy"],
                                "category": f"opening-{i % len(OPENINGS)}"}) + "\n")


def run_eval(lathe, args, log):
    """Runs `lathe eval run ... --progress-json`; returns (generation seconds, wall seconds)."""
    t0 = time.monotonic()
    proc = subprocess.run([lathe, "eval", "run", *args, "--progress-json"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    with open(log, "a") as f:
        f.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        die(f"lathe eval run failed ({proc.returncode}); see {log}:\n{proc.stderr[-2000:]}")
    progress = [json.loads(l) for l in proc.stderr.splitlines() if l.startswith('{"casesDone"')]
    if not progress:
        die("no progress lines from lathe eval run")
    first, last = progress[0], progress[-1]
    if last["casesDone"] != last["casesTotal"] or len(progress) < 2:
        die(f"the run stopped at {last['casesDone']} of {last['casesTotal']}")
    report = json.load(open(os.path.join(args[args.index("--out") + 1], "report.json")))
    failed = sum(m["failed"] for m in report["models"])
    if failed:
        die(f"{failed} answers failed; see {log}")
    # Steady state: from the end of the first batch (each side's first-use costs: the engine's
    # threads and lazy initialisation here, the server's first request there) to the end.
    steady = (last["casesDone"] - first["casesDone"]) / (last["elapsedSeconds"] - first["elapsedSeconds"])
    return steady, last["casesTotal"] / last["elapsedSeconds"], last["casesTotal"] / wall


def run_boto3(server, dataset, max_tokens):
    """The tutorials' way: a boto3 loop, one invoke_model per case and model; steady cases/s (after
    the first request), or None without boto3."""
    try:
        import boto3
        import botocore.config
    except ImportError:
        return None
    creds = json.load(open(os.path.join(server.data, "credentials.json")))
    client = boto3.client("bedrock-runtime", endpoint_url=server.url, region_name="us-east-1",
                          aws_access_key_id=creds["accessKeyId"], aws_secret_access_key=creds["secretAccessKey"],
                          config=botocore.config.Config(retries={"max_attempts": 1}))
    prompts = [json.loads(l)["prompt"] for l in open(dataset)]
    done, t0 = 0, None
    for model in ("stories-a", "stories-b"):
        for p in prompts:
            body = {"inputText": p, "textGenerationConfig": {"maxTokenCount": max_tokens, "temperature": 0, "topP": 1}}
            json.loads(client.invoke_model(modelId=model, body=json.dumps(body))["body"].read())
            if t0 is None:
                t0 = time.monotonic()
            else:
                done += 1
    return done / (time.monotonic() - t0)


class Server:
    def __init__(self, lathe, work, model_dir):
        data = os.path.join(work, "serve-data")
        config = os.path.join(work, "serve-config.json")
        with open(config, "w") as f:
            json.dump({"models": {"stories-a": model_dir, "stories-b": model_dir}}, f)
        self.data = data
        self.log = open(os.path.join(work, "serve.log"), "w")
        self.proc = subprocess.Popen([lathe, "serve", "--listen", "127.0.0.1:0", "--default-build", "first-use", "--data-dir", data, "--config", config],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        first = self.proc.stdout.readline()
        if not first.startswith("lathe serve: http://"):
            die("lathe serve did not start: " + first)
        self.url = first.split()[2]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lathe", default=os.path.join(REPO, "build", "lathe"))
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--model", help="model directory (default: stories260K from ../shared)")
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    if not os.access(a.lathe, os.X_OK):
        die(f"{a.lathe} is not built (cmake --build build --target lathe)")
    work = tempfile.mkdtemp(prefix="bench_eval.")
    log = os.path.join(work, "eval.log")
    try:
        model = a.model
        if model is None:
            src = os.path.join(SHARED, "models", "stories260K")
            if not os.path.isdir(src):
                die(f"no --model and no {src}")
            model = os.path.join(work, "stories260K")
            subprocess.run([a.lathe, "models", "import", os.path.join(src, "stories260K.bin"), "--tokenizer",
                            os.path.join(src, "tok512.model"), "--out", model], check=True, stdout=subprocess.DEVNULL)
        dataset = os.path.join(work, "cases.jsonl")
        write_test_set(dataset, a.cases)
        common = ["--dataset", dataset, "--max-tokens", str(a.max_tokens), "--temperature", "0", "--no-reference-loss"]
        server = Server(a.lathe, work, model)
        try:
            # The server loads a model on its first request: warm both ids up outside the timing,
            # as the batched side loads its models before its first progress line.
            warm = os.path.join(work, "warm.jsonl")
            write_test_set(warm, 1)
            run_eval(a.lathe, ["--dataset", warm, "--max-tokens", "1", "--endpoint", server.url, "--data-dir",
                               server.data, "--model", "stories-a", "--model", "stories-b", "--out",
                               os.path.join(work, "warm")], log)
            batched, single, boto = [], [], []
            for r in range(a.rounds):
                batched.append(run_eval(a.lathe, common + ["--model", f"a={model}", "--model", f"b={model}",
                                                           "--batch-size", str(a.batch_size),
                                                           "--out", os.path.join(work, f"batched-{r}")], log))
                single.append(run_eval(a.lathe, common + ["--endpoint", server.url, "--data-dir", server.data,
                                                          "--model", "stories-a", "--model", "stories-b",
                                                          "--out", os.path.join(work, f"single-{r}")], log))
                boto.append(run_boto3(server, dataset, a.max_tokens))
        finally:
            server.stop()
        print(f"bench_eval: {a.cases} cases x 2 models, greedy, {a.max_tokens} new tokens at most, "
              f"model {os.path.basename(model.rstrip('/'))}, {os.cpu_count()} cores; cases/s steady "
              f"[whole generation, wall]")
        ratios = []
        for r in range(a.rounds):
            b, s1 = batched[r], single[r]
            ratios.append(b[0] / s1[0])
            print(f"  round {r + 1}: batched (batch {a.batch_size}) {b[0]:6.1f} [{b[1]:6.1f}, {b[2]:6.1f}]  "
                  f"one by one (InvokeModel) {s1[0]:6.1f} [{s1[1]:6.1f}, {s1[2]:6.1f}]  ratio {ratios[-1]:.2f}x "
                  f"[{b[1] / s1[1]:.2f}x, {b[2] / s1[2]:.2f}x]" +
                  (f"; boto3 loop {boto[r]:6.1f}, ratio {b[0] / boto[r]:.2f}x" if boto[r] else ""))
        ratios.sort()
        print(f"  median: batched is {ratios[len(ratios) // 2]:.2f}x the one-by-one rate through lathe's client "
              f"(target >= 3x)", end="")
        if all(boto):
            vs_boto = sorted(b[0] / x for b, x in zip(batched, boto))
            print(f", {vs_boto[len(vs_boto) // 2]:.2f}x a boto3 loop's", end="")
        print()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
