#!/usr/bin/env python3
"""The automation tutorial's S3 bucket steps (AWS CLI and boto3, unmodified) against `lathe serve`.

Run by ctest (tests/CMakeLists.txt) as:
  s3_buckets_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 or the AWS CLI (`aws`) is missing.

Covers: `aws s3 mb ... --region ap-south-1`, `aws s3 ls`, `aws s3api get-bucket-location`,
`aws s3api head-bucket` (present and missing), buckets surviving a restart, `aws s3 rb`; with boto3:
the tutorial's list_buckets check, creating twice, invalid names; and raw requests signed with
botocore's S3SigV4Auth whose errors botocore's rest-xml parser reads: malformed XML, unsigned,
forged.
"""
import argparse
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
# Exits 77 (skipped) without boto3.
from lathe_harness import NO_RETRY, AwsCli, Server, expect_error, expect_error_response, require_aws_cli, forget_caller_aws_settings

import boto3
import botocore.auth
import botocore.credentials
import botocore.parsers
from botocore.awsrequest import AWSRequest

KEY_ID, SECRET = "LATHETESTKEY000002", "lathe-test-secret-s3-0123456789abcdefghijk"
BUCKET = "bedrock-finetuning-your-unique-name"


def s3_client(url, region, secret=SECRET):
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=secret, region_name=region)
    return session.client("s3", endpoint_url=url, config=NO_RETRY)


def raw(url, method, path, body=b"", sign=True, secret=SECRET, region="ap-south-1"):
    """A request signed exactly as botocore's S3SigV4Auth signs; the error parsed by botocore's
    own rest-xml parser. Returns (status, parsed)."""
    req = AWSRequest(method=method, url=url + path, data=body, headers={})
    if sign:
        creds = botocore.credentials.Credentials(KEY_ID, secret)
        botocore.auth.S3SigV4Auth(creds, "s3", region).add_auth(req)
    prepared = req.prepare()
    http_req = urllib.request.Request(prepared.url, data=body or None, method=method,
                                      headers=dict(prepared.headers.items()))
    try:
        with urllib.request.urlopen(http_req, timeout=30) as resp:
            status, headers, content = resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as e:
        status, headers, content = e.code, dict(e.headers.items()), e.read()
    parser = botocore.parsers.create_parser("rest-xml")
    parsed = parser.parse({"status_code": status, "headers": headers, "body": content}, None)
    return status, parsed


def cli_steps(cli):
    # Setup Step 4: aws s3 mb s3://bedrock-finetuning-your-unique-name --region ap-south-1
    r = cli.run("s3", "mb", "s3://" + BUCKET, "--region", "ap-south-1")
    assert "make_bucket: " + BUCKET in r.stdout, r.stdout
    r = cli.run("s3", "ls")
    assert BUCKET in r.stdout, r.stdout
    r = cli.run("s3api", "get-bucket-location", "--bucket", BUCKET)
    assert json.loads(r.stdout) == {"LocationConstraint": "ap-south-1"}, r.stdout
    cli.run("s3api", "head-bucket", "--bucket", BUCKET)
    r = cli.run("s3api", "head-bucket", "--bucket", "no-such-bucket-here", ok=False)
    assert r.returncode != 0 and "(404)" in r.stderr, (r.returncode, r.stderr)
    # Making it again from its own region: BucketAlreadyOwnedByYou.
    r = cli.run("s3", "mb", "s3://" + BUCKET, "--region", "ap-south-1", ok=False)
    assert r.returncode != 0 and "BucketAlreadyOwnedByYou" in r.stderr, r.stderr


def boto3_steps(url):
    # The automation tutorial's check: boto3.client("s3").list_buckets(), AWS_ENDPOINT_URL set.
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                                        region_name="ap-south-1")
        buckets = session.client("s3").list_buckets()
    finally:
        del os.environ["AWS_ENDPOINT_URL"]
    bucket_names = [b["Name"] for b in buckets["Buckets"]]
    ft_buckets = [b for b in bucket_names if "finetuning" in b.lower()]
    assert ft_buckets == [BUCKET], bucket_names
    assert len(buckets["Owner"]["ID"]) == 64, buckets["Owner"]
    assert buckets["Buckets"][0]["CreationDate"].year >= 2024

    south, east = s3_client(url, "ap-south-1"), s3_client(url, "us-east-1")
    south.create_bucket(Bucket="boto3-twice", CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    e = expect_error_response("BucketAlreadyOwnedByYou", 409, south.create_bucket, Bucket="boto3-twice",
                              CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    assert e["Error"]["BucketName"] == "boto3-twice", e["Error"]
    # us-east-1 answers success for a us-east-1 bucket it already has (AWS's legacy behaviour).
    east.create_bucket(Bucket="boto3-twice-east")
    east.create_bucket(Bucket="boto3-twice-east")
    assert east.head_bucket(Bucket="boto3-twice-east")["BucketRegion"] == "us-east-1"
    assert east.get_bucket_location(Bucket="boto3-twice-east")["LocationConstraint"] is None
    # Location rules.
    expect_error("IllegalLocationConstraintException", 400, south.create_bucket, Bucket="no-constraint-given")
    expect_error("InvalidLocationConstraint", 400, east.create_bucket, Bucket="east-named-east",
                 CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    # Names botocore lets through and S3 refuses.
    for bad in ("Upper-Case-Bucket", "under_score", "ab", "a..b", "192.168.5.4", "xn--punycode", "abc-s3alias",
                "-leading-dash"):
        expect_error("InvalidBucketName", 400, east.create_bucket, Bucket=bad)
    expect_error("NoSuchBucket", 404, east.delete_bucket, Bucket="never-created")
    expect_error("NoSuchBucket", 404, east.get_bucket_location, Bucket="never-created")
    expect_error("404", 404, east.head_bucket, Bucket="never-created")
    # Paged listing, as the ListBuckets paginator asks.
    pages = east.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": 1})
    names = [b["Name"] for page in pages for b in page["Buckets"]]
    assert names == sorted(["boto3-twice", "boto3-twice-east", BUCKET]), names
    south.delete_bucket(Bucket="boto3-twice")
    east.delete_bucket(Bucket="boto3-twice-east")


def raw_steps(url):
    status, parsed = raw(url, "PUT", "/malformed-xml-bucket", b"<CreateBucketConfiguration><LocationConstraint>")
    assert status == 400 and parsed["Error"]["Code"] == "MalformedXML", (status, parsed)
    assert parsed["ResponseMetadata"]["RequestId"], parsed
    status, parsed = raw(url, "PUT", "/unsigned-bucket", sign=False)
    assert status == 403 and parsed["Error"]["Code"] == "AccessDenied", (status, parsed)
    status, parsed = raw(url, "PUT", "/forged-bucket", secret="not-the-secret")
    assert status == 403 and parsed["Error"]["Code"] == "SignatureDoesNotMatch", (status, parsed)
    status, parsed = raw(url, "PUT", "/too-big-bucket", b"<x>" + b" " * (64 << 10) + b"</x>")
    assert status == 413 and parsed["Error"]["Code"] == "EntityTooLarge", (status, parsed)
    # None of them made a bucket.
    names = [b["Name"] for b in s3_client(url, "us-east-1").list_buckets()["Buckets"]]
    assert names == [BUCKET], names


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    require_aws_cli()
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    with tempfile.TemporaryDirectory() as tmp:
        data, home = os.path.join(tmp, "data"), os.path.join(tmp, "home")
        with Server(args.lathe, data, keys=(KEY_ID, SECRET)).start() as server:
            cli_steps(AwsCli(home, server.url, (KEY_ID, SECRET), "us-east-1"))
            boto3_steps(server.url)
            raw_steps(server.url)
        # The bucket survives a restart; then the tutorial's cleanup removes it.
        with Server(args.lathe, data, keys=(KEY_ID, SECRET)).start() as server:
            cli = AwsCli(home, server.url, (KEY_ID, SECRET), "us-east-1")
            assert BUCKET in cli.run("s3", "ls").stdout
            r = cli.run("s3", "rb", "s3://" + BUCKET)
            assert "remove_bucket: " + BUCKET in r.stdout, r.stdout
            r = cli.run("s3api", "head-bucket", "--bucket", BUCKET, ok=False)
            assert "(404)" in r.stderr, r.stderr
            assert BUCKET not in cli.run("s3", "ls").stdout
    print("OK")


if __name__ == "__main__":
    main()
