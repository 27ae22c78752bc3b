#!/usr/bin/env python3
"""Prints the SigV2 presigned URLs that botocore's own HmacV1QueryAuth
produces for fixed inputs, so sigv2_presigned_test.cc can hard-code them. Run by hand:
  python3 tests/aws/sigv2_presign_vectors.py
(botocore 1.43.11 produced the values in the test.)"""
from unittest import mock

from botocore.auth import HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
NOW = 1440938160  # HmacV1QueryAuth writes Expires = now + expires


def presign(method, url, expires=3600, headers=None):
    request = AWSRequest(method=method, url=url, headers=headers or {})
    auth = HmacV1QueryAuth(CREDS, expires=expires)
    with mock.patch("botocore.auth.time.time", return_value=NOW):
        auth.add_auth(request)
    print(request.url)
    print()


presign("GET", "http://127.0.0.1:9000/bucket/key")
presign("GET", "http://127.0.0.1:9000/bucket/dir/a%20b%2Bc.txt?versionId=v1&response-content-type=text%2Fplain")
presign("PUT", "http://127.0.0.1:9000/bucket/up.bin", headers={"Content-Type": "application/octet-stream"})
