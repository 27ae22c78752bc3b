#!/usr/bin/env python3
"""S3 objects through the installed AWS CLI and boto3 (unmodified) against `lathe serve`.

Run by ctest (tests/CMakeLists.txt) as:
  s3_objects_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 or the AWS CLI (`aws`) is missing.

Covers: `aws s3 cp` up and down (1 KB and a few MB, below the CLI's 8 MB multipart threshold),
`aws s3 ls` recursive and by prefix, `aws s3 sync` both ways, `aws s3api put-object / get-object /
head-object / list-object-versions`, `aws s3 rm --recursive`, `aws s3 rb`; with boto3: put/get
(ranges, conditions), list_objects_v2 pages and delimiters, copy_object, delete_objects, tagging,
versioning and delete markers, hostile keys, and presigned URLs (SigV4, and the SigV2 ones boto3
and `aws s3 presign` make by default) fetched with curl. Objects
survive a restart; nothing is left on disk after the bucket is emptied.
"""
import argparse
import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
# Exits 77 (skipped) without boto3.
from lathe_harness import NO_RETRY, AwsCli, Server, expect_error, require_aws_cli, forget_caller_aws_settings

import boto3
import botocore.config
import botocore.exceptions

KEY_ID, SECRET = "LATHETESTKEY000003", "lathe-test-secret-s3-objects-0123456789abc"
BUCKET = "bedrock-finetuning-objects"


def s3_client(url):
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name="us-east-1")
    return session.client("s3", endpoint_url=url, config=NO_RETRY)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def cli_steps(cli, tmp):
    cli.run("s3", "mb", "s3://" + BUCKET)
    small, big = os.path.join(tmp, "small.jsonl"), os.path.join(tmp, "big.bin")
    write(small, b'{"prompt": "p", "completion": "c"}\n' * 30)  # ~1 KB
    write(big, os.urandom(5 << 20))  # 5 MiB: one PutObject, aws-chunked with a trailing checksum
    r = cli.run("s3", "cp", small, "s3://%s/training-data/train.jsonl" % BUCKET)
    assert "upload:" in r.stdout, r.stdout
    cli.run("s3", "cp", big, "s3://%s/training-data/big.bin" % BUCKET)
    for name, src in (("train.jsonl", small), ("big.bin", big)):
        dst = os.path.join(tmp, "down-" + name)
        cli.run("s3", "cp", "s3://%s/training-data/%s" % (BUCKET, name), dst)
        assert filecmp.cmp(src, dst, shallow=False), name

    # sync up a folder, list it, sync it back down.
    local = os.path.join(tmp, "local")
    for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt", "with space/d e.txt"):
        write(os.path.join(local, rel), rel.encode() * 10)
    cli.run("s3", "sync", local, "s3://%s/synced" % BUCKET)
    r = cli.run("s3", "ls", "--recursive", "s3://%s/synced/" % BUCKET)
    listed = sorted(line.split(None, 3)[3] for line in r.stdout.splitlines())
    assert listed == ["synced/a.txt", "synced/sub/b.txt", "synced/sub/deeper/c.txt", "synced/with space/d e.txt"], \
        listed
    r = cli.run("s3", "ls", "s3://%s/synced/" % BUCKET)
    assert "PRE sub/" in r.stdout and "PRE with space/" in r.stdout and "a.txt" in r.stdout, r.stdout
    r = cli.run("s3", "sync", local, "s3://%s/synced" % BUCKET)
    assert r.stdout.strip() == "", "a second sync uploads nothing: " + r.stdout
    back = os.path.join(tmp, "back")
    cli.run("s3", "sync", "s3://%s/synced" % BUCKET, back)
    assert not filecmp.dircmp(local, back).diff_files
    assert os.path.exists(os.path.join(back, "with space", "d e.txt"))

    # s3api, as a user scripts it.
    body = os.path.join(tmp, "api.txt")
    write(body, b"api body")
    r = json.loads(cli.run("s3api", "put-object", "--bucket", BUCKET, "--key", "api/k.txt", "--body", body,
                           "--content-type", "text/plain", "--metadata", "origin=cli").stdout)
    assert r["ETag"] == '"%s"' % hashlib.md5(b"api body").hexdigest(), r
    r = json.loads(cli.run("s3api", "head-object", "--bucket", BUCKET, "--key", "api/k.txt").stdout)
    assert r["ContentLength"] == 8 and r["ContentType"] == "text/plain" and r["Metadata"] == {"origin": "cli"}, r
    out = os.path.join(tmp, "api-out.txt")
    cli.run("s3api", "get-object", "--bucket", BUCKET, "--key", "api/k.txt", out)
    assert open(out, "rb").read() == b"api body"
    r = cli.run("s3api", "head-object", "--bucket", BUCKET, "--key", "api/missing", ok=False)
    assert r.returncode != 0 and "(404)" in r.stderr, r.stderr
    r = json.loads(cli.run("s3api", "list-object-versions", "--bucket", BUCKET, "--prefix", "api/").stdout)
    assert [v["Key"] for v in r["Versions"]] == ["api/k.txt"] and r["Versions"][0]["VersionId"] == "null", r


def boto3_steps(url, tmp):
    s3 = s3_client(url)
    s3.put_object(Bucket=BUCKET, Key="b3/data.txt", Body=b"0123456789", ContentType="text/plain",
                  Metadata={"stage": "raw"}, Tagging="team=ml&kind=text")
    got = s3.get_object(Bucket=BUCKET, Key="b3/data.txt")
    assert got["Body"].read() == b"0123456789" and got["Metadata"] == {"stage": "raw"}, got
    assert got["TagCount"] == 2
    part = s3.get_object(Bucket=BUCKET, Key="b3/data.txt", Range="bytes=2-4")
    assert part["Body"].read() == b"234" and part["ContentRange"] == "bytes 2-4/10", part
    expect_error("InvalidRange", 416, s3.get_object, Bucket=BUCKET, Key="b3/data.txt", Range="bytes=50-")
    etag = got["ETag"]
    try:
        s3.get_object(Bucket=BUCKET, Key="b3/data.txt", IfNoneMatch=etag)
        raise AssertionError("If-None-Match with the current ETag must answer 304")
    except botocore.exceptions.ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 304, e.response
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=BUCKET, Key="b3/data.txt", IfMatch='"00"')
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=BUCKET, Key="b3/missing")

    # Hostile keys are just keys.
    for key in ("../../etc/passwd", "a//b", "%00", "ключ/データ", "k" * 1024):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == key.encode(), key
    expect_error("KeyTooLongError", 400, s3.put_object, Bucket=BUCKET, Key="k" * 1025, Body=b"x")

    # Listing: pages of 2 through the paginator, delimiters, StartAfter.
    for i in range(5):
        s3.put_object(Bucket=BUCKET, Key="pages/%d/item.txt" % i, Body=b"x")
        s3.put_object(Bucket=BUCKET, Key="pages/top%d" % i, Body=b"x")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="pages/", Delimiter="/",
                                                         PaginationConfig={"PageSize": 2})
    keys, prefixes = [], []
    for page in pages:
        keys += [c["Key"] for c in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert prefixes == ["pages/%d/" % i for i in range(5)], prefixes
    assert keys == ["pages/top%d" % i for i in range(5)], keys
    v1 = s3.get_paginator("list_objects").paginate(Bucket=BUCKET, Prefix="pages/", PaginationConfig={"PageSize": 3})
    assert len([c for page in v1 for c in page.get("Contents", [])]) == 10
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix="pages/", StartAfter="pages/4/item.txt")
    assert [c["Key"] for c in r["Contents"]] == ["pages/top%d" % i for i in range(5)], r

    # Copy (a key with spaces and a plus, url-encoded by botocore) and delete_objects.
    s3.put_object(Bucket=BUCKET, Key="copy me+now.txt", Body=b"copied")
    r = s3.copy_object(Bucket=BUCKET, Key="b3/copy.txt", CopySource={"Bucket": BUCKET, "Key": "copy me+now.txt"},
                       MetadataDirective="REPLACE", Metadata={"copied": "yes"})
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"copied").hexdigest(), r
    head = s3.head_object(Bucket=BUCKET, Key="b3/copy.txt")
    assert head["Metadata"] == {"copied": "yes"} and head["ContentLength"] == 6, head
    expect_error("InvalidRequest", 400, s3.copy_object, Bucket=BUCKET, Key="b3/copy.txt",
                 CopySource={"Bucket": BUCKET, "Key": "b3/copy.txt"})
    r = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "pages/top%d" % i} for i in range(5)]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["pages/top%d" % i for i in range(5)], r

    # Tagging.
    s3.put_object_tagging(Bucket=BUCKET, Key="b3/copy.txt", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    assert s3.get_object_tagging(Bucket=BUCKET, Key="b3/copy.txt")["TagSet"] == [{"Key": "a", "Value": "1"}]
    expect_error("InvalidTag", 400, s3.put_object_tagging, Bucket=BUCKET, Key="b3/copy.txt",
                 Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]})

    # Versioning in a bucket of its own.
    s3.create_bucket(Bucket="versioned-data")
    s3.put_bucket_versioning(Bucket="versioned-data", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="versioned-data")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="versioned-data", Key="ds.jsonl", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="versioned-data", Key="ds.jsonl", Body=b"two")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket="versioned-data", Key="ds.jsonl", VersionId=v1)["Body"].read() == b"one"
    marker = s3.delete_object(Bucket="versioned-data", Key="ds.jsonl")
    assert marker["DeleteMarker"] is True, marker
    expect_error("NoSuchKey", 404, s3.get_object, Bucket="versioned-data", Key="ds.jsonl")
    versions = s3.list_object_versions(Bucket="versioned-data")
    assert [v["VersionId"] for v in versions["Versions"]] == [v2, v1], versions
    assert versions["DeleteMarkers"][0]["VersionId"] == marker["VersionId"]
    s3.delete_object(Bucket="versioned-data", Key="ds.jsonl", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket="versioned-data", Key="ds.jsonl")["Body"].read() == b"two"
    for v in (v1, v2):
        s3.delete_object(Bucket="versioned-data", Key="ds.jsonl", VersionId=v)
    s3.delete_bucket(Bucket="versioned-data")

    # A presigned GET, fetched by curl with no AWS library at all. SigV4 here (boto3 presigns with
    # SigV2 unless told: presigned_v2_steps).
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name="us-east-1")
    v4 = session.client("s3", endpoint_url=url, config=NO_RETRY.merge(botocore.config.Config(signature_version="s3v4")))
    presigned = v4.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "b3/data.txt"},
                                          ExpiresIn=300)
    if shutil.which("curl"):
        out = subprocess.run(["curl", "-sf", presigned], capture_output=True, timeout=60)
        assert out.returncode == 0 and out.stdout == b"0123456789", (out.returncode, out.stdout[:200])
    else:
        import urllib.request
        with urllib.request.urlopen(presigned, timeout=60) as resp:
            assert resp.read() == b"0123456789"


def fetch(url, upload=None):
    """(HTTP status, body) of a GET, or with `upload` (a file path) a PUT of that file, by curl
    when installed (what a user handed a presigned link runs), else urllib. Neither sends a
    Content-Type on the PUT, which a presigned URL signs as empty."""
    if shutil.which("curl"):
        cmd = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}"] + (["-T", upload] if upload else []) + [url]
        out = subprocess.run(cmd, capture_output=True, timeout=60)
        assert out.returncode == 0, (out.returncode, out.stderr[:200])
        body, _, status = out.stdout.rpartition(b"\n")
        return int(status), body
    import urllib.error
    import urllib.request
    data = open(upload, "rb").read() if upload else None
    req = urllib.request.Request(url, data=data, method="PUT" if upload else "GET")
    if upload:
        req.add_unredirected_header("Content-Type", "")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def presigned_v2_steps(cli, url, tmp):
    """SigV2 presigned URLs, which boto3 (no Config) and `aws s3 presign` (CLI v1) still make."""
    s3 = s3_client(url)
    link = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "b3/data.txt"})
    assert "AWSAccessKeyId=" in link and "Signature=" in link and "Expires=" in link, link
    assert fetch(link) == (200, b"0123456789")
    # A key that is encoded in the path, and a response override that is a signed sub-resource.
    s3.put_object(Bucket=BUCKET, Key="presign/a b+c~.txt", Body=b"odd key")
    link = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "presign/a b+c~.txt",
                                                           "ResponseContentType": "text/plain"})
    assert fetch(link) == (200, b"odd key")
    # Expired, tampered, unknown key: S3's codes.
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "b3/data.txt"},
                                        ExpiresIn=-60)
    status, body = fetch(expired)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body, body
    status, body = fetch(link.replace("presign/a", "presign/b"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, body
    status, body = fetch(link.replace("AWSAccessKeyId=" + KEY_ID, "AWSAccessKeyId=NOSUCHKEY"))
    assert status == 403 and b"<Code>InvalidAccessKeyId</Code>" in body, body
    # A presigned upload: the body is UNSIGNED-PAYLOAD, as in SigV4's presigned PUT.
    src = os.path.join(tmp, "presigned-put.bin")
    write(src, os.urandom(70000))
    link = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "presign/put.bin"})
    assert fetch(link, upload=src)[0] == 200
    assert s3.get_object(Bucket=BUCKET, Key="presign/put.bin")["Body"].read() == open(src, "rb").read()
    for key in ("presign/put.bin", "presign/a b+c~.txt"):
        s3.delete_object(Bucket=BUCKET, Key=key)
    # The AWS CLI's own presign (SigV2 in CLI v1, SigV4 in v2): either way curl gets the bytes.
    link = cli.run("s3", "presign", "s3://%s/b3/data.txt" % BUCKET, "--expires-in", "300").stdout.strip()
    assert fetch(link) == (200, b"0123456789"), link


def cleanup_steps(cli, data):
    r = cli.run("s3", "rm", "--recursive", "s3://" + BUCKET)
    assert "delete:" in r.stdout, r.stdout
    assert cli.run("s3", "ls", "--recursive", "s3://" + BUCKET).stdout.strip() == ""
    r = cli.run("s3", "rb", "s3://" + BUCKET)
    assert "remove_bucket: " + BUCKET in r.stdout, r.stdout
    # Every blob went with its object.
    left = [os.path.join(d, f) for d, _, files in os.walk(os.path.join(data, "s3")) for f in files]
    assert left == [], left


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    require_aws_cli()
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    with tempfile.TemporaryDirectory() as tmp:
        data, home = os.path.join(tmp, "data"), os.path.join(tmp, "home")
        with Server(args.lathe, data, keys=(KEY_ID, SECRET)).start() as server:
            cli_steps(AwsCli(home, server.url, (KEY_ID, SECRET), "us-east-1"), tmp)
            boto3_steps(server.url, tmp)
            presigned_v2_steps(AwsCli(home, server.url, (KEY_ID, SECRET), "us-east-1"), server.url, tmp)
        # Objects survive a restart; then the tutorial's cleanup empties and removes the bucket.
        with Server(args.lathe, data, keys=(KEY_ID, SECRET)).start() as server:
            cli = AwsCli(home, server.url, (KEY_ID, SECRET), "us-east-1")
            got = s3_client(server.url).get_object(Bucket=BUCKET, Key="b3/data.txt")["Body"].read()
            assert got == b"0123456789"
            cleanup_steps(cli, data)
    print("OK")


if __name__ == "__main__":
    main()
