#!/usr/bin/env python3
"""Operations of a scale-out deployment (docs/scale-out.md, Operations): `lathe status` and /metrics.

Run by ctest (tests/CMakeLists.txt) as:
  scale_out_operations_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 is missing. Runs on a throwaway PostgreSQL 15 (scripts/pg-test-server.sh)
with two API nodes; where PostgreSQL is not installed, on one node's lathe.db.

Covers:
 (a) `lathe status --json` lists every running `lathe serve` as an alive api node with its URL, and
     forgets a node that stopped cleanly;
 (b) unsigned GET /metrics answers Prometheus' text format, with the requests just made counted by
     service, operation and status class, their errors by code, and the store's gauges (nodes);
     where Debian's python3-prometheus-client is installed, its parser reads the whole text;
 (c) a bucket named "metrics": boto3's signed CreateBucket, PutObject, ListObjects (v1 and v2) and
     GetObject reach S3, not the metrics;
 (d) config "metrics": false turns GET /metrics back into an (unsigned, refused) AWS request.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, Server, forget_caller_aws_settings

import boto3
import botocore.exceptions

KEY_ID, SECRET = "LATHETESTKEY000019", "lathe-test-secret-operations-0123456789"
REGION = "us-east-1"
SCRIPT = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "scripts", "pg-test-server.sh")


def s3(server):
    return boto3.client("s3", endpoint_url=server.url, region_name=REGION, aws_access_key_id=KEY_ID,
                        aws_secret_access_key=SECRET, config=NO_RETRY)


def scrape(server):
    """GET /metrics as Prometheus sends it: (status, content type, text)."""
    req = urllib.request.Request(server.url + "/metrics", headers={"Accept": "text/plain;version=0.0.4"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def sample(text, series):
    """The value of one series (name{labels} exactly as written), or None."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ")[-1])
    return None


def status(lathe, where):
    p = subprocess.run([lathe, "status", "--json"] + where, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def check_with_prometheus_parser(text):
    """Debian's python3-prometheus-client (system python) parses the text; False when not installed."""
    code = ("import sys\nfrom prometheus_client.parser import text_string_to_metric_families as f\n"
            "n = sum(len(m.samples) for m in f(sys.stdin.read()))\nprint(n)\n")
    if not os.path.exists("/usr/bin/python3"):
        return False
    p = subprocess.run(["/usr/bin/python3", "-c", code], input=text, capture_output=True, text=True, timeout=60)
    if "No module named 'prometheus_client'" in p.stderr:
        return False
    assert p.returncode == 0 and int(p.stdout) > 0, "prometheus_client could not parse /metrics: " + p.stderr
    return True


def metrics_and_bucket(a, b, lathe, where):
    # (c) a bucket named "metrics", through boto3's signed requests.
    c = s3(a)
    c.create_bucket(Bucket="metrics")
    c.put_object(Bucket="metrics", Key="a.txt", Body=b"hello")
    assert [o["Key"] for o in c.list_objects_v2(Bucket="metrics")["Contents"]] == ["a.txt"]
    assert [o["Key"] for o in c.list_objects(Bucket="metrics")["Contents"]] == ["a.txt"]
    assert c.get_object(Bucket="metrics", Key="a.txt")["Body"].read() == b"hello"
    try:
        c.get_object(Bucket="metrics", Key="missing")
        raise AssertionError("a missing key was found")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchKey", e.response
    print("ok: signed requests to the bucket 'metrics' reach S3")

    # (b) the scrape.
    code, kind, text = scrape(a)
    assert code == 200, (code, text[:500])
    assert kind == "text/plain; version=0.0.4; charset=utf-8", kind
    for series, at_least in [
            ('lathe_http_requests_total{service="s3",operation="CreateBucket",code_class="2xx"}', 1),
            ('lathe_http_requests_total{service="s3",operation="ListObjectsV2",code_class="2xx"}', 1),
            ('lathe_http_requests_total{service="s3",operation="ListObjects",code_class="2xx"}', 1),
            ('lathe_http_requests_total{service="s3",operation="GetObject",code_class="4xx"}', 1),
            ('lathe_http_request_duration_seconds_count{service="s3",operation="PutObject"}', 1),
            ('lathe_nodes{role="api",state="alive"}', 2 if b else 1)]:
        value = sample(text, series)
        assert value is not None and value >= at_least, "%s = %s in:\n%s" % (series, value, text[:4000])
    assert any(line.startswith('lathe_http_request_errors_total{service="s3",error=') for line in text.splitlines()), \
        text[:4000]
    assert "# TYPE lathe_http_request_duration_seconds histogram" in text
    assert "# TYPE lathe_work_items gauge" in text
    if b:  # the other node counts its own requests, and reads the same store
        other = scrape(b)[2]
        assert sample(other, 'lathe_http_requests_total{service="s3",operation="CreateBucket",code_class="2xx"}') \
            is None
        assert sample(other, 'lathe_nodes{role="api",state="alive"}') == 2
    parsed = check_with_prometheus_parser(text)
    print("ok: GET /metrics answers the text format%s" %
          (", read by prometheus_client's parser" if parsed else " (python3-prometheus-client not installed)"))

    # (a) lathe status.
    s = status(lathe, where)
    api = {n["id"]: n for n in s["nodes"] if n["role"] == "api"}
    assert len(api) == (2 if b else 1), s
    for server in [a, b] if b else [a]:
        node = api["api@%s:%d" % (s_host(), server.port)]
        assert node["state"] == "alive" and node["endpoint"] == server.url, node
        assert node["capacity"]["cpus"] >= 1 and node["capacity"]["memoryBytes"] > 0, node
    print("ok: lathe status lists every running node as alive")


def s_host():
    import socket
    return socket.gethostname()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lathe", required=True)
    args = ap.parse_args()
    forget_caller_aws_settings()
    tmp = tempfile.mkdtemp(prefix="lathe-operations-")
    pg_dir = "/tmp/lathe-pg-ops-%d" % os.getpid()  # short: a Unix socket path is bounded
    have_pg = shutil.which("initdb") or os.path.exists("/usr/lib/postgresql/15/bin/initdb")
    try:
        if have_pg:
            url = subprocess.run([SCRIPT, "start", pg_dir], check=True, capture_output=True, text=True).stdout.strip()
            assert url.startswith("postgresql://"), url
            store, where = ["--store", url], ["--store", url]
            with Server(args.lathe, tmp + "/a", keys=(KEY_ID, SECRET), extra_args=store).start() as a:
                b = Server(args.lathe, tmp + "/b", keys=(KEY_ID, SECRET), extra_args=store).start()
                with b:
                    metrics_and_bucket(a, b, args.lathe, where)
                # b stopped cleanly: no longer listed.
                left = [n["id"] for n in status(args.lathe, where)["nodes"]]
                assert left == ["api@%s:%d" % (s_host(), a.port)], left
                print("ok: a node that stopped cleanly is no longer listed")
        else:
            print("PostgreSQL 15 is not installed: one node on lathe.db")
            with Server(args.lathe, tmp + "/a", keys=(KEY_ID, SECRET)).start() as a:
                metrics_and_bucket(a, None, args.lathe, ["--data-dir", tmp + "/a"])

        # (d) turned off: /metrics is an AWS request again, refused unsigned.
        with Server(args.lathe, tmp + "/off", keys=(KEY_ID, SECRET), config={"metrics": False}).start() as off:
            code, _, text = scrape(off)
            assert code == 403 and "lathe_" not in text, (code, text[:300])
        print("ok: \"metrics\": false turns /metrics off")
    finally:
        if have_pg:
            subprocess.run([SCRIPT, "stop", pg_dir], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
