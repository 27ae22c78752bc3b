#!/usr/bin/env python3
"""The built-in default model: the current recipe (v2) next to the first one (v1), built in the
same run on this machine and measured on the same text no training step of either saw.

  bench/bench_default_model.py [--lathe build/lathe] [--work DIR] [--recipes v1,v2] [--demo]

For each recipe: `lathe models build-default --recipe R` into its own data directory (wall time:
the issue's budget is 5 minutes on this 2-core machine), then
  - held-out perplexity, per token, from the build's own validation pass over lathe_heldout.jsonl
    (WordNet glosses and fortunes of held-out synsets, chosen by hash: the same file for every
    recipe, which this script checks), and bits per byte (the same loss over the held-out text's
    bytes: tokenizer-independent, since each recipe trains its own tokenizer);
  - answers at temperature 0 to 20 varied questions (the tutorials' banking questions and general
    ones): how many have at least five words (the issue's target: all 20).
With --demo, `lathe demo` then runs on the v2 model (LATHE_HOME = its data directory), and the
evaluation's base-vs-fine-tuned verdicts for keyword coverage and ROUGE-L are printed (the
issue's target: "better", significant).
Ratios are v2 / v1, measured in the same run.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

QUESTIONS = [
    "How do I reset my online banking password?",
    "What is the process to dispute a credit card transaction?",
    "How do I set up automatic bill payments?",
    "What should I do if I suspect fraudulent activity on my account?",
    "How do I apply for a personal loan?",
    "What are the fees for international wire transfers?",
    "How can I increase my credit card limit?",
    "What happens if I miss a mortgage payment?",
    "What is the difference between a savings account and a money market account?",
    "How do I set up two-factor authentication on my account?",
    "What is a bank?",
    "What does interest mean?",
    "Can you explain what a mortgage is?",
    "What is another word for money?",
    "What does it mean to borrow?",
    "What is the opposite of safe?",
    "Why is the sky blue?",
    "Who was the first person to walk on the moon?",
    "What is the capital of France?",
    "Tell me something about dogs.",
]


def run(cmd, env=None, timeout=3600):
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def build(lathe, home, recipe):
    started = time.time()
    r = run([lathe, "models", "build-default", "--data-dir", home, "--recipe", recipe, "--json"],
            env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
    if r.returncode != 0:
        sys.exit("building %s failed: %s" % (recipe, r.stderr[-2000:]))
    wall = time.time() - started
    model = json.loads(r.stdout)["modelDir"]
    with open(os.path.join(model, "lathe_model_card.json")) as f:
        card = json.load(f)
    return model, card, wall


def heldout_tokens(lathe, model, heldout):
    """Tokens of the held-out records with the model's tokenizer (lathe data stats)."""
    tok = os.path.join(model, "tokenizer.model")
    r = run([lathe, "data", "stats", heldout, "--tokenizer", tok, "--json"])
    if r.returncode != 0:
        sys.exit("lathe data stats failed: " + r.stderr[-2000:])
    stats = json.loads(r.stdout)
    found = [v for k, v in walk(stats) if k in ("totalTokens", "tokens_total", "tokensTotal")]
    return found[0] if found else None


def walk(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, k)
    elif key is not None:
        yield key, node


def answers(lathe, model):
    out = []
    for q in QUESTIONS:
        r = run([lathe, "generate", "--model", model, "--prompt", q, "--temperature", "0", "--max-tokens", "64"])
        out.append((q, r.stdout.strip() if r.returncode == 0 else "(error: %s)" % r.stderr.strip()[-200:]))
    return out


def words(text):
    return len(re.findall(r"[A-Za-z][A-Za-z'-]*", text))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lathe", default=os.path.join(REPO, "build", "lathe"))
    ap.add_argument("--work", default=None, help="folder for the builds (default: a temporary one)")
    ap.add_argument("--recipes", default="v1,v2")
    ap.add_argument("--demo", action="store_true", help="also run `lathe demo` on the v2 model")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="lathe-bench-default-")
    results = {}
    heldout_text = None
    for recipe in args.recipes.split(","):
        home = os.path.join(work, recipe)
        model, card, wall = build(args.lathe, home, recipe)
        heldout = os.path.join(model, "lathe_heldout.jsonl")
        with open(heldout, "rb") as f:
            text = f.read()
        if heldout_text is None:
            heldout_text = text
        elif text != heldout_text:
            sys.exit("the recipes' held-out files differ: the comparison would not be on the same text")
        records = [json.loads(line)["input"] for line in text.decode().splitlines() if line.strip()]
        nbytes = sum(len(r.encode()) + 1 for r in records)  # each record ends with the end token
        tokens = heldout_tokens(args.lathe, model, heldout)
        loss = card["heldoutLoss"]
        bpb = loss * (tokens + len(records)) / nbytes / math.log(2) if tokens else float("nan")
        got = answers(args.lathe, model)
        results[recipe] = dict(wall=wall, card=card, ppl=card["heldoutPerplexity"], bpb=bpb, answers=got,
                               answered=sum(words(a) >= 5 for _, a in got), model=model)
        print("%s: built in %.0f s (%d parameters, %d tokens trained), held-out perplexity %.1f, %.3f bits/byte, "
              "%d/%d questions answered with >= 5 words" %
              (recipe, wall, card["parameters"], card["trainedTokens"], card["heldoutPerplexity"], bpb,
               results[recipe]["answered"], len(QUESTIONS)), flush=True)
        for q, a in got:
            print("   Q: %s\n   A: %s" % (q, a[:160]))
    if "v1" in results and "v2" in results:
        a, b = results["v1"], results["v2"]
        print("\nv2 / v1: perplexity %.2f, bits/byte %.2f, build time %.2f, questions answered %d vs %d"
              % (b["ppl"] / a["ppl"], b["bpb"] / a["bpb"], b["wall"] / a["wall"], b["answered"], a["answered"]))
    if args.demo and "v2" in results:
        demo_dir = os.path.join(work, "demo")
        r = run([args.lathe, "demo", "--dir", demo_dir],
                env=dict(os.environ, LATHE_HOME=os.path.join(work, "v2"), OMP_WAIT_POLICY="PASSIVE"))
        print("\nlathe demo (exit %d), its evaluation:" % r.returncode)
        for line in r.stdout.splitlines():
            if re.search(r"keyword|rouge|better|worse|significant", line, re.I):
                print("  " + line)
    print("\n(builds kept in %s)" % work)


if __name__ == "__main__":
    main()
