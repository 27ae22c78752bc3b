#!/usr/bin/env python3
"""The OpenAI-compatible wire (/v1/) as the official `openai` npm package drives it:
js/openai_client_test.mjs against `lathe serve` with ../shared's stories260K as the default
model (a fine-tuning job of one epoch on 12 records takes seconds).

Run by ctest (tests/CMakeLists.txt) as:
  openai_sdk_js_test.py --lathe build/lathe --shared ../shared
Installs the pinned npm packages first (scripts/js-clients.sh). Exit 77 (skipped) without boto3
(the harness's import), node >= 20 and npm, or ../shared's stories260K.

What the node script covers: models list/retrieve; chat completions with a system prompt, seed,
n and sampling (the same seed gives the same answers), streamed with a usage chunk, a stream the
client abandons (the next request is answered); text completions; OpenAI-shaped errors (404
model_not_found, 400 with param, 400 unsupported_parameter, 401 invalid_api_key); files upload
(and a refused one), list, retrieve, content, delete; a fine-tuning job to succeeded, its events
with per-step metrics and its checkpoint; then the fine-tuned model by its returned name.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
# Exits 77 (skipped) without boto3.
from lathe_harness import Server, import_stories260k  # noqa: E402
from s3_sdk_js_test import install_js_clients  # noqa: E402

KEY_ID, SECRET = "LATHETESTKEY000020", "lathe-test-secret-openai-0123456789abcdefg"
API_KEY = "lathe-openai-test-key-0123456789"


def train_records(n=12):
    return "".join(json.dumps({"messages": [{"role": "user", "content": "Tell me about cat %d" % i},
                                            {"role": "assistant", "content": "The cat %d sat on the mat." % i}]}) + "\n"
                   for i in range(n))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--shared", required=True)
    args = p.parse_args()
    install_js_clients()
    with tempfile.TemporaryDirectory() as tmp:
        model = import_stories260k(args.lathe, args.shared, tmp)
        if model is None:
            print("SKIP: %s has no models/stories260K" % args.shared)
            sys.exit(77)
        train = os.path.join(tmp, "train.jsonl")
        with open(train, "w") as f:
            f.write(train_records())
        config = {"models": {"lathe.default-v1": model}, "bedrockApiKeys": [API_KEY], "fileRoots": [tmp]}
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        with Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET), config=config).start() as server:
            env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
            env.update(HOME=home, OPENAI_BASE_URL=server.url + "/v1", OPENAI_API_KEY=API_KEY, TRAIN_FILE=train)
            r = subprocess.run(["node", os.path.join(HERE, "js", "openai_client_test.mjs")], env=env, cwd=tmp,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=400)
            print(r.stdout, end="")
            if r.returncode != 0:
                sys.exit("openai_client_test.mjs failed (exit %d)" % r.returncode)
    print("openai_sdk_js: all steps passed")


if __name__ == "__main__":
    main()
