#!/usr/bin/env python3
"""Prints requests signed by botocore itself, as JSON, for tests/api/sigv4_test.cc to verify.

C++ tests cannot call botocore, so its output is generated once and committed:
    python3 tests/api/botocore_sign_vectors.py > tests/api/data/botocore_vectors.json
Each request is captured just before it would be sent (nothing leaves the machine), signed at a
fixed time with a fixed key, so the output is the same on every run of the same botocore.
"""
import base64
import datetime
import io
import json
import sys
from unittest import mock

import botocore
import botocore.session
from botocore.config import Config

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
ENDPOINT = "http://localhost:8080"
TLS_ENDPOINT = "https://localhost:8443"  # botocore sends UNSIGNED-PAYLOAD / trailers only over TLS


class Captured(Exception):
    pass


def client(service, endpoint=ENDPOINT, region="us-east-1", **config):
    session = botocore.session.get_session()
    return session.create_client(
        service, region_name=region, endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, config=Config(retries={"max_attempts": 0}, **config))


def capture(c, call):
    """The request `call` makes on client `c`, exactly as signed."""
    seen = {}

    def before_send(request, **_):
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        elif body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, (bytes, bytearray)):
            body = b"".join(body)
        seen["request"] = request
        seen["body"] = bytes(body)
        raise Captured()

    c.meta.events.register("before-send", before_send)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        try:
            call(c)
        except Captured:
            pass
    request = seen["request"]
    url = request.url
    target = url[url.index("/", url.index("//") + 2):]
    # Unsigned and different on every run or machine: left out so the output is reproducible.
    noise = {"user-agent", "amz-sdk-invocation-id"}
    headers = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in request.headers.items()
               if k.lower() not in noise]
    host = url.split("//", 1)[1].split("/", 1)[0]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.append(["Host", host])  # urllib3 adds it on the wire; botocore signed it
    return {"method": request.method, "target": target, "headers": headers,
            "body_base64": base64.b64encode(seen["body"]).decode()}


def presigned(c, method, params, expires):
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        url = c.generate_presigned_url(method, Params=params, ExpiresIn=expires)
    target = url[url.index("/", url.index("//") + 2):]
    host = url.split("//", 1)[1].split("/", 1)[0]
    return {"method": "GET", "target": target, "headers": [["Host", host]], "body_base64": ""}


def main():
    vectors = []

    def add(name, service, region, request, **extra):
        request.update({"name": name, "service": service, "region": region}, **extra)
        vectors.append(request)

    s3_unsigned = client("s3", TLS_ENDPOINT, s3={"payload_signing_enabled": False,
                                                 "addressing_style": "path"},
                         request_checksum_calculation="when_required")
    add("s3 PutObject, UNSIGNED-PAYLOAD", "s3", "us-east-1",
        capture(s3_unsigned, lambda c: c.put_object(Bucket="bucket", Key="dir/a b+c~d.txt",
                                                    Body=b"hello lathe")))
    s3_signed = client("s3", s3={"addressing_style": "path"},
                       request_checksum_calculation="when_required")
    add("s3 PutObject, payload hashed, key needing encoding", "s3", "eu-west-1",
        capture(client("s3", region="eu-west-1", s3={"addressing_style": "path"},
                       request_checksum_calculation="when_required"),
                lambda c: c.put_object(Bucket="bucket", Key="photos/\u00e9t\u00e9 2013/(1)*!'.jpg",
                                       Body=b"\x89PNG...")))
    add("s3 ListObjectsV2 with query", "s3", "us-east-1",
        capture(s3_signed, lambda c: c.list_objects_v2(Bucket="bucket", Prefix="a/b c",
                                                       MaxKeys=5)))
    s3_trailer = client("s3", TLS_ENDPOINT, s3={"addressing_style": "path"},
                        request_checksum_calculation="when_supported")
    add("s3 PutObject, STREAMING-UNSIGNED-PAYLOAD-TRAILER (aws-chunked, crc32)", "s3", "us-east-1",
        capture(s3_trailer, lambda c: c.put_object(Bucket="bucket", Key="streamed.bin",
                                                   Body=io.BytesIO(b"x" * 300))))
    add("iam ListUsers (query protocol POST)", "iam", "us-east-1",
        capture(client("iam"), lambda c: c.list_users(MaxItems=10)))
    add("sts GetCallerIdentity", "sts", "us-east-1",
        capture(client("sts"), lambda c: c.get_caller_identity()))
    add("bedrock-runtime InvokeModel", "bedrock", "us-west-2",
        capture(client("bedrock-runtime", region="us-west-2"),
                lambda c: c.invoke_model(modelId="arn:aws:bedrock:us-west-2:123456789012:custom-model/m",
                                         body=b'{"prompt":"hi"}', contentType="application/json")))
    add("s3 presigned GetObject URL", "s3", "us-east-1",
        presigned(client("s3", signature_version="s3v4", s3={"addressing_style": "path"}),
                  "get_object", {"Bucket": "bucket", "Key": "dir/report 1.pdf"}, 3600),
        expires=3600)
    add("sts presigned GetCallerIdentity URL", "sts", "us-east-1",
        presigned(client("sts"), "get_caller_identity", {}, 900), expires=900)

    json.dump({"generator": "tests/api/botocore_sign_vectors.py",
               "botocore_version": botocore.__version__,
               "access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY,
               "signed_at": int(NOW.timestamp()), "vectors": vectors},
              sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
