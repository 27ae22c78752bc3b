#!/usr/bin/env python3
"""Bedrock with the AWS SDK for JavaScript v3 and its default request handlers: js/bedrock_client_test.mjs
against `lathe serve`, over http:// (the runtime client speaks HTTP/2 cleartext with prior
knowledge, issue #21) and, with --tls, over https:// with the server's self-signed CA
(NODE_EXTRA_CA_CERTS; ALPN picks h2 for the runtime client, http/1.1 for the control plane):
list models, a fine-tuning job created and watched to Completed, InvokeModel, Converse, ConverseStream and
InvokeModelWithResponseStream (event-stream over HTTP/2), errors;
over https also the S3 suite of js/s3_client_test.mjs (put/get and the rest).

Run by ctest (tests/CMakeLists.txt) as:
  bedrock_sdk_js_test.py --lathe build/lathe --home DIR [--tls]
DIR caches the small default model (as bedrock_boto3_test.py). Installs the pinned npm packages
first (scripts/js-clients.sh). Exit 77 (skipped) without boto3 (the harness), node >= 20 or npm.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from lathe_harness import Server, small_default_model  # noqa: E402
from s3_sdk_js_test import install_js_clients  # noqa: E402

KEY_ID, SECRET = "LATHETESTKEY000021", "lathe-test-secret-h2-0123456789abcdefghijk"
REGION = "us-east-1"


def run_node(script, url, home, data, ca=None):
    """js/SCRIPT against URL; data: the folder of the job's input and outputs (in fileRoots)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=home, BEDROCK_ENDPOINT=url, BEDROCK_ACCESS_KEY_ID=KEY_ID, BEDROCK_SECRET_ACCESS_KEY=SECRET,
               BEDROCK_REGION=REGION, BEDROCK_TRAIN_URI="file://" + os.path.join(data, "train.jsonl"),
               BEDROCK_OUTPUT_URI="file://" + os.path.join(data, "out", os.path.basename(url.replace(":", "-"))),
               S3_ENDPOINT=url, S3_ACCESS_KEY_ID=KEY_ID, S3_SECRET_ACCESS_KEY=SECRET, S3_REGION=REGION)
    if ca:
        env["NODE_EXTRA_CA_CERTS"] = ca
    r = subprocess.run(["node", os.path.join(HERE, "js", script)], env=env, cwd=home,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=400)
    print("\n".join(line for line in r.stdout.splitlines() if line.startswith(("ok ", "FAIL", "all "))))
    if r.returncode != 0:
        print(r.stdout)
        sys.exit("%s failed against %s (exit %d)" % (script, url, r.returncode))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--home", required=True, help="LATHE_HOME holding (or receiving) the small default model")
    p.add_argument("--tls", action="store_true", help="also over https:// with --tls-self-signed")
    args = p.parse_args()
    args.lathe, args.home = os.path.abspath(args.lathe), os.path.abspath(args.home)
    install_js_clients()
    models = small_default_model(args.lathe, args.home)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        config = {"models": models, "fileRoots": [tmp]}
        shutil.copy(os.path.join(REPO, "samples", "banking_support.jsonl"), os.path.join(tmp, "train.jsonl"))
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        with Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET), config=config).start() as server:
            print("-- over %s (h2c for the runtime client)" % server.url)
            run_node("bedrock_client_test.mjs", server.url, home, tmp)
        if args.tls:
            extra = ["--tls-self-signed"]
            data = os.path.join(tmp, "tls-data")
            with Server(args.lathe, data, keys=(KEY_ID, SECRET), config=config, extra_args=extra).start() as server:
                ca = os.path.join(data, "tls", "ca.pem")  # what the AWS_CA_BUNDLE line names
                assert server.url.startswith("https://") and os.path.exists(ca), server.url
                print("-- over %s (ALPN; CA %s)" % (server.url, ca))
                run_node("bedrock_client_test.mjs", server.url, home, tmp, ca)
                print("-- S3 over %s (the JavaScript S3 client, HTTP/1.1 by ALPN)" % server.url)
                run_node("s3_client_test.mjs", server.url, home, tmp, ca)
    print("bedrock_sdk_js: all steps passed")


if __name__ == "__main__":
    main()
