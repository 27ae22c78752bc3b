#!/usr/bin/env python3
"""Two `lathe serve` nodes sharing one PostgreSQL store (docs/scale-out.md), with boto3.

Run by ctest (tests/CMakeLists.txt) as:
  shared_store_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 or PostgreSQL 15 (initdb, pg_ctl) is missing.

Covers, on one throwaway PostgreSQL (scripts/pg-test-server.sh) and two nodes with their own
data directories:
 (a) what one node writes the other reads: an SNS topic, an S3 bucket, a Step Functions state
     machine created on node A and started on node B, its execution run and described on both;
 (b) a third node started later on the same store (a fresh data directory) sees all of it;
 (c) bad input: a --store that is not a postgresql:// URL, one with an unknown parameter, and an
     unreachable one whose password must not be printed: each refused at start.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, Server, forget_caller_aws_settings

try:
    import boto3
except ImportError:
    print("boto3 is not installed: skipped")
    sys.exit(77)

KEY_ID, SECRET = "LATHETESTKEY000018", "lathe-test-secret-shared-store-0123456789"
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/StepFunctionsRole"
SCRIPT = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "scripts", "pg-test-server.sh")
MACHINE = '{"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": {"ok": true}, "End": true}}}'


def client(server, service):
    return boto3.client(service, endpoint_url=server.url, region_name=REGION, aws_access_key_id=KEY_ID,
                        aws_secret_access_key=SECRET, config=NO_RETRY)


def refused(lathe, data_dir, store):
    """`lathe serve --store STORE` must exit non-zero at start; returns what it printed."""
    env = dict(os.environ, LATHE_ACCESS_KEY_ID=KEY_ID, LATHE_SECRET_ACCESS_KEY=SECRET, LATHE_HOME=data_dir)
    p = subprocess.run([lathe, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--store", store],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0, "started with --store %r: %s" % (store, p.stdout)
    return p.stdout + p.stderr


def shared_rows(a, b, c_start):
    sns_a, sns_b = client(a, "sns"), client(b, "sns")
    topic = sns_a.create_topic(Name="shared-topic")["TopicArn"]
    assert topic in [t["TopicArn"] for t in sns_b.list_topics()["Topics"]]

    s3_a, s3_b = client(a, "s3"), client(b, "s3")
    s3_a.create_bucket(Bucket="shared-bucket")
    assert "shared-bucket" in [x["Name"] for x in s3_b.list_buckets()["Buckets"]]

    sfn_a, sfn_b = client(a, "stepfunctions"), client(b, "stepfunctions")
    machine = sfn_a.create_state_machine(name="shared-machine", definition=MACHINE, roleArn=ROLE)["stateMachineArn"]
    run = sfn_b.start_execution(stateMachineArn=machine, name="run-1")["executionArn"]
    deadline = time.time() + 30
    while sfn_b.describe_execution(executionArn=run)["status"] == "RUNNING":
        assert time.time() < deadline, "the execution did not finish"
        time.sleep(0.1)
    done = sfn_a.describe_execution(executionArn=run)
    assert done["status"] == "SUCCEEDED" and '"ok"' in done["output"], done

    c = c_start()
    try:
        assert topic in [t["TopicArn"] for t in client(c, "sns").list_topics()["Topics"]]
        assert "shared-bucket" in [x["Name"] for x in client(c, "s3").list_buckets()["Buckets"]]
        assert client(c, "stepfunctions").describe_execution(executionArn=run)["status"] == "SUCCEEDED"
    finally:
        c.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lathe", required=True)
    args = ap.parse_args()
    forget_caller_aws_settings()
    if not shutil.which("initdb") and not os.path.exists("/usr/lib/postgresql/15/bin/initdb"):
        print("PostgreSQL 15 (initdb) is not installed: skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="lathe-shared-store-")
    pg_dir = "/tmp/lathe-pg-it-%d" % os.getpid()  # short: a Unix socket path is bounded
    try:
        url = subprocess.run([SCRIPT, "start", pg_dir], check=True, capture_output=True, text=True).stdout.strip()
        assert url.startswith("postgresql://"), url
        store = ["--store", url]
        with Server(args.lathe, tmp + "/a", keys=(KEY_ID, SECRET), extra_args=store).start() as a, \
                Server(args.lathe, tmp + "/b", keys=(KEY_ID, SECRET), extra_args=store).start() as b:
            shared_rows(a, b, lambda: Server(args.lathe, tmp + "/c", keys=(KEY_ID, SECRET), extra_args=store).start())
        print("ok: two nodes and a late third share SNS, S3 and Step Functions rows")

        out = refused(args.lathe, tmp + "/bad1", "mysql://db/lathe")
        assert "postgresql://" in out, out
        out = refused(args.lathe, tmp + "/bad2", url + "&no_such_option=1")
        assert "no_such_option" in out, out
        out = refused(args.lathe, tmp + "/bad3", "postgresql://lathe:hunter2@/db?host=/nonexistent-lathe-pg")
        assert "hunter2" not in out and "***" in out, out
        print("ok: bad --store values are refused at start, without the password")
    finally:
        subprocess.run([SCRIPT, "stop", pg_dir], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
