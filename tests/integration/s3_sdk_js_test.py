#!/usr/bin/env python3
"""The S3 wire as a second, independent client sees it: js/s3_client_test.mjs (the AWS SDK for
JavaScript v3) against `lathe serve`.

Run by ctest (tests/CMakeLists.txt) as:
  s3_sdk_js_test.py --lathe build/lathe
Installs the pinned npm packages into tests/integration/js/node_modules first (scripts/js-clients.sh:
`npm ci` when missing or installed from another lock file). Exit 77 (skipped) when boto3 (the
harness's import), node >= 20 or npm is missing; a failed npm install is a failure.

What the node script covers: buckets (Create, Head, List, Delete, BucketNotEmpty), objects (Put
with Metadata and Content-Type, Head, Get with Range, an odd key, ListObjectsV2 with prefix,
delimiter and paging, Copy, Delete, DeleteObjects, tagging), a two-part multipart upload, a CRC32
flexible checksum, a presigned GET fetched without the SDK, NoSuchKey and NoSuchBucket. It prints
one line per step and stops at the first failure, naming the step.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
# Exits 77 (skipped) without boto3.
from lathe_harness import Server  # noqa: E402

KEY_ID, SECRET = "LATHETESTKEY000003", "lathe-test-secret-js-0123456789abcdefghijk"
REGION = "us-east-1"


def install_js_clients():
    """scripts/js-clients.sh: exits 77 here when it does (no node/npm), fails on any other error."""
    r = subprocess.run([os.path.join(REPO, "scripts", "js-clients.sh")], stdout=subprocess.PIPE, text=True,
                       timeout=600)
    if r.returncode == 77:
        sys.exit(77)  # its SKIP message went to stderr
    assert r.returncode == 0, "scripts/js-clients.sh failed (%d); see its output above" % r.returncode


def node_env(url, home):
    """Only what the script reads: no AWS_* variable or ~/.aws of the person running the test
    (the SDK would read AWS_PROFILE, AWS_REGION, config files...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=home, S3_ENDPOINT=url, S3_ACCESS_KEY_ID=KEY_ID, S3_SECRET_ACCESS_KEY=SECRET, S3_REGION=REGION)
    return env


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    install_js_clients()
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        with Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET)).start() as server:
            r = subprocess.run(["node", os.path.join(HERE, "js", "s3_client_test.mjs")], env=node_env(server.url, home),
                               cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240)
            print(r.stdout, end="")
            if r.returncode != 0:  # the server's log is printed on the way out (Server.__exit__)
                sys.exit("s3_client_test.mjs failed (exit %d)" % r.returncode)
    print("s3_sdk_js: all steps passed")


if __name__ == "__main__":
    main()
