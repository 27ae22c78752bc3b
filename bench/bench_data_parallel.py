#!/usr/bin/env python3
"""Data-parallel training throughput: `lathe train --workers 2` (two ranks over c10d's Gloo on
this machine) next to the same job in one process, and the ratio 2-process / 1-process.

  bench/bench_data_parallel.py [--lathe build/lathe] [--model DIR] [--epochs 4] [--runs 3]

The job: LoRA on the banking sample (samples/banking_support.jsonl, 50 records, batchSize 8) with
the model in --model (default: ../shared/models/stories260K imported into a temporary folder).
Each run is a fresh --out; the two setups alternate run by run so that drift on a shared machine
lands on both. Throughput is trained tokens / training seconds from each run's
training_summary.json (the loop, without process start and model load), median over the runs;
wall time (spawn to exit) is printed beside it. No target: two ranks share the cores (each gets
cores / 2 threads), so on a 2-core machine the ratio shows what the all-reduces and the smaller
per-rank matmuls cost, not a speed-up; with a core per thread and larger models it approaches 2.
Takes ~1 min with the defaults.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "samples", "banking_support.jsonl")
SHARED_MODEL = os.path.join(os.path.dirname(REPO), "shared", "models", "stories260K")


def run_train(lathe, model, out, epochs, workers):
    args = [lathe, "train", "--model", model, "--train", SAMPLE, "--out", out, "--json",
            "--set", "epochCount=%d" % epochs, "--set", "batchSize=8", "--set", "checkpointSteps=0",
            "--workers", str(workers)]
    start = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True)
    wall = time.monotonic() - start
    if done.returncode != 0:
        sys.exit("lathe train --workers %d failed:\n%s" % (workers, done.stderr[-2000:]))
    with open(os.path.join(out, "training_summary.json")) as f:
        summary = json.load(f)
    return summary["trainedTokens"] / max(summary["seconds"], 1e-9), wall, summary["finalTrainingLoss"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lathe", default=os.path.join(REPO, "build", "lathe"))
    p.add_argument("--model", default="")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = a.model
        if not model:
            if not os.path.isdir(SHARED_MODEL):
                sys.exit("no --model and no %s" % SHARED_MODEL)
            model = os.path.join(tmp, "stories260K")
            subprocess.run([a.lathe, "models", "import", os.path.join(SHARED_MODEL, "stories260K.bin"), "--tokenizer",
                            os.path.join(SHARED_MODEL, "tok512.model"), "--out", model], check=True,
                           capture_output=True)
        results = {1: [], 2: []}
        for run in range(a.runs):
            for workers in (1, 2):
                results[workers].append(run_train(a.lathe, model, os.path.join(tmp, "run-%d-%d" % (workers, run)),
                                                  a.epochs, workers))
        cores = os.cpu_count()
        print("data-parallel training, %d cores, LoRA on %s, %d epochs of the banking sample, batchSize 8, "
              "median of %d runs" % (cores, os.path.basename(model), a.epochs, a.runs))
        tps = {}
        for workers in (1, 2):
            tps[workers] = statistics.median(r[0] for r in results[workers])
            wall = statistics.median(r[1] for r in results[workers])
            loss = results[workers][-1][2]
            print("  %d process%s  %9.0f tokens/s  wall %6.2f s  final loss %.4f" %
                  (workers, "  " if workers == 1 else "es", tps[workers], wall, loss))
        print("  ratio 2 / 1     %9.2f" % (tps[2] / tps[1]))


if __name__ == "__main__":
    main()
