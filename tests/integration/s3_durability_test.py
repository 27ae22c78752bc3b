#!/usr/bin/env python3
"""S3 uploads survive a crash whole or not at all (issue #11's fault tests), against `lathe serve`.

Run by ctest as:  s3_durability_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 is missing.

For each moment of a 40 MB PutObject over a key that already holds an object -- half the body
sent, the whole body sent but no answer read -- and of a multipart upload (a part half sent),
the server is killed with SIGKILL and started again on the same data directory. Then the key
must hold the old object or the new one, byte for byte, never anything else; listing shows no
torn object; and no file is left behind: DATA_DIR/s3/tmp is empty and every blob on disk
belongs to an object or a part still recorded (the number of blob files equals what the index
refers to, read back through the API).
"""
import argparse
import hashlib
import os
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, Server  # exits 77 without boto3

import boto3
import botocore.auth
import botocore.credentials
from botocore.awsrequest import AWSRequest
from botocore.config import Config

KEY_ID, SECRET = "LATHETESTKEY000011", "lathe-test-secret-durability-0123456789ab"
BUCKET = "durability"
BIG = 40 << 20


def client(url):
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name="us-east-1")
    return session.client("s3", endpoint_url=url, config=NO_RETRY)


def blob_files(data_dir):
    found = []
    for root, _, files in os.walk(os.path.join(data_dir, "s3", "blobs")):
        found += [os.path.join(root, f) for f in files]
    return found


def tmp_files(data_dir):
    tmp = os.path.join(data_dir, "s3", "tmp")
    return os.listdir(tmp) if os.path.isdir(tmp) else []


def start_put(server, key, size, send):
    """Sends a signed PutObject of `size` bytes of 'n' but only its first `send` bytes; returns
    the open socket (the upload in flight)."""
    url = "%s/%s/%s" % (server.url, BUCKET, key)
    req = AWSRequest(method="PUT", url=url, headers={"Content-Length": str(size)})
    # UNSIGNED-PAYLOAD, as botocore signs when told not to hash the body.
    req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(KEY_ID, SECRET), "s3", "us-east-1").add_auth(req)
    head = "PUT /%s/%s HTTP/1.1\r\nHost: %s:%d\r\n" % (BUCKET, key, server.host, server.port)
    for name, value in req.headers.items():
        if name.lower() != "host":
            head += "%s: %s\r\n" % (name, value)
    sock = socket.create_connection((server.host, server.port), timeout=30)
    sock.sendall((head + "\r\n").encode())
    chunk = b"n" * (1 << 20)
    left = send
    while left > 0:
        n = min(left, len(chunk))
        sock.sendall(chunk[:n])
        left -= n
    return sock


def check_key(s3, key, old):
    """The key holds `old` (bytes) or the complete new object, or (old None) nothing."""
    try:
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        assert old is None, "%s lost its old object" % key
        return "none"
    if old is not None and body == old:
        return "old"
    assert body == b"n" * BIG, "%s holds a torn object of %d bytes" % (key, len(body))
    return "new"


def check_no_strays(server, s3):
    """No temporary file, and exactly one blob per object (no versioning here) and uploaded part."""
    assert tmp_files(server.data_dir) == [], "stray temporary files: %s" % tmp_files(server.data_dir)
    objects = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    parts = 0
    for upload in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        parts += len(s3.list_parts(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"]).get("Parts", []))
    blobs = blob_files(server.data_dir)
    assert len(blobs) == len(objects) + parts, "blobs on disk %d, objects %d, parts %d" % (
        len(blobs), len(objects), parts)


def crash_during(server, s3, key, old, send):
    sock = start_put(server, key, BIG, send)
    if send == BIG:
        time.sleep(0.5)  # the server may be committing right now
    server.kill9()
    sock.close()
    server.killed = False
    server.start()
    state = check_key(s3, key, old)
    check_no_strays(server, s3)
    print("ok: SIGKILL with %d of %d bytes sent: the key holds the %s object" % (send, BIG, state))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lathe", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lathe-s3-durability-") as tmp:
        server = Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET)).start()
        with server:
            s3 = client(server.url)
            s3.create_bucket(Bucket=BUCKET)
            # The raw upload the crashes interrupt is one the server accepts when left alone.
            sock = start_put(server, "accepted.bin", 1000, 1000)
            answer = sock.recv(4096)
            sock.close()
            assert answer.startswith(b"HTTP/1.1 200"), answer[:400]
            assert s3.get_object(Bucket=BUCKET, Key="accepted.bin")["Body"].read() == b"n" * 1000
            s3.delete_object(Bucket=BUCKET, Key="accepted.bin")
            old = b"old object\n"
            s3.put_object(Bucket=BUCKET, Key="data.jsonl", Body=old)
            # Half the body: the upload cannot have finished; the old object must be there.
            crash_during(server, s3, "data.jsonl", old, BIG // 2)
            assert check_key(s3, "data.jsonl", old) == "old"
            # A new key, half sent: nothing at all.
            crash_during(server, s3, "fresh.jsonl", None, BIG // 3)
            assert check_key(s3, "fresh.jsonl", None) == "none"
            # The whole body sent, the answer not read: old or new, whole.
            crash_during(server, s3, "data.jsonl", old, BIG)

            # A multipart upload with one part done and the next half sent.
            upload = s3.create_multipart_upload(Bucket=BUCKET, Key="multi.bin")["UploadId"]
            s3.upload_part(Bucket=BUCKET, Key="multi.bin", UploadId=upload, PartNumber=1, Body=b"p" * (5 << 20))
            sock = start_put(server, "multi.bin?partNumber=2&uploadId=" + upload, 8 << 20, 4 << 20)
            server.kill9()
            sock.close()
            server.killed = False
            server.start()
            parts = s3.list_parts(Bucket=BUCKET, Key="multi.bin", UploadId=upload).get("Parts", [])
            assert [p["PartNumber"] for p in parts] == [1], parts
            check_no_strays(server, s3)
            s3.abort_multipart_upload(Bucket=BUCKET, Key="multi.bin", UploadId=upload)
            check_no_strays(server, s3)
            print("ok: SIGKILL during a part upload keeps the parts before it and leaves no file")
    print("s3 durability: all checks passed")


if __name__ == "__main__":
    main()
