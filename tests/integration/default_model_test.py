#!/usr/bin/env python3
"""The built-in default model on a fresh `lathe serve`: it starts building at start-up (not at the
first request), `lathe models status` shows how far the build is, InvokeModel answers
ThrottlingException saying how long is left while it builds, and answers once it is built; a SIGTERM during the build stops it (a clean exit; the next start resumes).

A small build (--default-max-records 3000) keeps it to a minute; the full recipe's figures are
bench/bench_default_model.py's.

Run by ctest (tests/CMakeLists.txt) as:
  default_model_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 or Debian's WordNet and fortunes are missing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, Server, forget_caller_aws_settings  # exits 77 without boto3

import boto3
import botocore.exceptions

KEY_ID, SECRET = "LATHETESTKEY000001", "lathe-test-secret-0123456789abcdefghijklmn"
REGION = "us-east-1"
TITAN = "amazon.titan-text-express-v1"  # the tutorials' model id: the default model serves it


def status(lathe, data_dir):
    r = subprocess.run([lathe, "models", "status", "--data-dir", data_dir, "--json"], capture_output=True, text=True)
    assert r.returncode in (0, 3), r.stderr
    s = json.loads(r.stdout)
    assert (r.returncode == 0) == (s["state"] == "built"), (r.returncode, s)
    return s


def invoke(runtime, prompt):
    body = {"inputText": prompt, "textGenerationConfig": {"maxTokenCount": 24, "temperature": 0.1, "topP": 0.9}}
    r = runtime.invoke_model(modelId=TITAN, body=json.dumps(body), contentType="application/json",
                             accept="application/json")
    return json.loads(r["body"].read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lathe", required=True)
    args = ap.parse_args()
    if not (os.path.exists("/usr/share/wordnet/data.noun") and os.path.isdir("/usr/share/games/fortunes")):
        print("SKIP: Debian's wordnet-base and fortunes are not installed (scripts/setup.sh installs them)")
        sys.exit(77)
    forget_caller_aws_settings()
    tmp = tempfile.mkdtemp(prefix="lathe-default-model-")
    data = os.path.join(tmp, "data")
    lathe = os.path.abspath(args.lathe)
    assert status(lathe, data)["state"] == "absent"

    def serve():
        return Server(lathe, data, keys=(KEY_ID, SECRET), default_build="start",
                      extra_args=["--default-max-records", "3000"])

    # Stopped part-way (SIGTERM while pretraining): a clean exit within the harness's 20 s, and the
    # build shows as interrupted; the next start resumes it.
    with serve().start() as first:
        s = None
        deadline = time.time() + 300
        while time.time() < deadline:
            s = status(lathe, data)
            if s["state"] == "built" or (s["state"] == "building" and s["stage"] == "pretraining"):
                break
            time.sleep(0.1)
        assert s and s["state"] in ("building", "built"), (s, first.tail())
    s = status(lathe, data)
    print("stopped during the build: %s" % s)
    assert s["state"] in ("interrupted", "built"), s  # built: it finished before SIGTERM reached it

    server = serve()
    with server.start():
        runtime = boto3.client("bedrock-runtime", endpoint_url=server.url, region_name=REGION,
                               aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, config=NO_RETRY)
        seen, throttled = set(), None
        deadline = time.time() + 600
        while time.time() < deadline:
            s = status(lathe, data)
            seen.add(s["state"])
            if s["state"] == "built":
                break
            # absent / interrupted (the first run's progress file): before the build's thread took its lock
            assert s["state"] in ("absent", "interrupted", "building"), s
            if s["state"] == "building":
                assert s["stage"] in ("corpus", "tokenizer", "pretraining"), s
                assert 0 <= s["fraction"] <= 1, s
                if throttled is None:
                    try:
                        invoke(runtime, "What is a bank?")
                        throttled = ""  # it finished meanwhile
                    except botocore.exceptions.ClientError as e:
                        assert e.response["Error"]["Code"] == "ThrottlingException", e.response
                        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
                        throttled = e.response["Error"]["Message"]
            time.sleep(0.2)
        assert "building" in seen or "built" in status(lathe, data)["state"], (seen, server.tail())
        s = status(lathe, data)
        assert s["state"] == "built", (s, server.tail())
        assert s["heldoutPerplexity"] > 1, s
        if throttled:
            assert "being built" in throttled and " left" in throttled, throttled
        print("while building, InvokeModel said: %s" % throttled)
        with open(server.log_path) as f:
            log = f.read()
        assert "building the default model: pretraining" in log, log[-2000:]
        assert "the default model is built" in log, log[-2000:]

        # Built: it answers in Titan's shape. (What it says is the full recipe's matter, measured by
        # bench/bench_default_model.py: this 3000-record build is too small to judge.)
        body = {"inputText": "What is a bank?", "textGenerationConfig": {"maxTokenCount": 24, "temperature": 0.1}}
        r = runtime.invoke_model(modelId=TITAN, body=json.dumps(body), contentType="application/json",
                                 accept="application/json")
        out = json.loads(r["body"].read())
        assert out["inputTextTokenCount"] > 0 and isinstance(out["results"][0]["outputText"], str), out
        print("What is a bank? -> %r" % out["results"][0]["outputText"])
        card = json.load(open(os.path.join(s["modelDir"], "lathe_model_card.json")))
        assert card["recipe"] == "v2" and card["corpus"]["generatedQuestions"] > 0, card
        assert os.path.getsize(os.path.join(s["modelDir"], "lathe_heldout.jsonl")) > 0

    # The next start finds it built: no second build.
    with serve().start() as again:
        assert status(lathe, data)["state"] == "built"
        with open(again.log_path) as f:
            assert f.read().count("the default model is built") == 1
    print("OK")


if __name__ == "__main__":
    main()
