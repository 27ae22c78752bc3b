#!/usr/bin/env python3
"""Prints requests signed by botocore itself, as JSON, for tests/aws/sigv4_test.cc to verify.

C++ tests cannot call botocore, so its output is generated once and committed:
    python3 tests/aws/botocore_sign_vectors.py > tests/aws/data/botocore_vectors.json
Each request is captured just before it would be sent (nothing leaves the machine), signed at a
fixed time with a fixed key, so the output is the same on every run of the same botocore.
"""
import base64
import datetime
import hashlib
import hmac
import io
import json
import sys
import zlib
from unittest import mock

import botocore
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

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


def presigned(c, operation, params, expires):
    """A presigned URL. botocore signs it for the operation's HTTP method (POST for query
    services such as STS), so that is the method it verifies with."""
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        url = c.generate_presigned_url(operation, Params=params, ExpiresIn=expires)
    method = c.meta.service_model.operation_model(
        c.meta.method_to_api_mapping[operation]).http["method"]
    target = url[url.index("/", url.index("//") + 2):]
    host = url.split("//", 1)[1].split("/", 1)[0]
    return {"method": method, "target": target, "headers": [["Host", host]], "body_base64": ""}


def crc32_base64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def signed_trailer_upload(chunks):
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER upload. botocore signs the seed request
    (SigV4Auth signs the x-amz-content-sha256 it is given); botocore writes no signed chunks, so
    the chunk and trailer signatures are computed here, independently of lathe, from AWS's
    documentation (sigv4-streaming.html, sigv4-streaming-trailers.html)."""
    payload = b"".join(chunks)
    request = AWSRequest(method="PUT", url=ENDPOINT + "/bucket/signed-trailer.bin", headers={
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "X-Amz-Decoded-Content-Length": str(len(payload)),
        "X-Amz-Trailer": "x-amz-checksum-crc32"})
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(request)
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    timestamp = NOW.strftime("%Y%m%dT%H%M%SZ")
    scope = NOW.strftime("%Y%m%d") + "/us-east-1/s3/aws4_request"
    key = ("AWS4" + SECRET_KEY).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()

    def sign(string_to_sign):
        return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()

    def sha(data):
        return hashlib.sha256(data).hexdigest()

    body, previous = b"", seed
    for chunk in list(chunks) + [b""]:
        previous = sign("\n".join(["AWS4-HMAC-SHA256-PAYLOAD", timestamp, scope, previous,
                                   sha(b""), sha(chunk)]))
        body += b"%x;chunk-signature=%s\r\n" % (len(chunk), previous.encode())
        if chunk:
            body += chunk + b"\r\n"
    trailer = "x-amz-checksum-crc32:" + crc32_base64(payload)
    trailer_signature = sign("\n".join(["AWS4-HMAC-SHA256-TRAILER", timestamp, scope, previous,
                                        sha((trailer + "\n").encode())]))
    body += (trailer + "\r\nx-amz-trailer-signature:" + trailer_signature + "\r\n\r\n").encode()
    headers = [[k, v] for k, v in request.headers.items()] + [["Host", "localhost:8080"]]
    return {"method": "PUT", "target": "/bucket/signed-trailer.bin", "headers": headers,
            "body_base64": base64.b64encode(body).decode(),
            "payload_base64": base64.b64encode(payload).decode(),
            "trailers": [["x-amz-checksum-crc32", crc32_base64(payload)]]}


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
                                                   Body=io.BytesIO(b"x" * 300))),
        payload_base64=base64.b64encode(b"x" * 300).decode(),
        trailers=[["x-amz-checksum-crc32", crc32_base64(b"x" * 300)]])
    add("s3 PutObject, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER (chunks signed by this script)",
        "s3", "us-east-1", signed_trailer_upload([b"0123456789" * 10, b"tail"]))
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

    json.dump({"generator": "tests/aws/botocore_sign_vectors.py",
               "botocore_version": botocore.__version__,
               "access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY,
               "signed_at": int(NOW.timestamp()), "vectors": vectors},
              sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
