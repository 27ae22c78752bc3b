#!/usr/bin/env python3
"""Writes tests/aws/data/*.txt: request bodies exactly as botocore's QuerySerializer encodes them,
so the C++ form parser is tested against the real client's bytes. Run once; commit the output.
    python3 tests/aws/make_query_bodies.py
"""
import json
import pathlib
import urllib.parse

import botocore.session
from botocore.serialize import create_serializer

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                   "Resource": ["arn:aws:s3:::bedrock-finetuning-bucket",
                                "arn:aws:s3:::bedrock-finetuning-bucket/*"]}],
}

CASES = {
    "iam_create_role": ("iam", "CreateRole", {
        "RoleName": "BedrockFineTuningRole", "Path": "/service/",
        "AssumeRolePolicyDocument": json.dumps(TRUST, indent=4),
        "Description": "Bedrock fine-tuning + S3 & more", "MaxSessionDuration": 7200,
        "Tags": [{"Key": "team", "Value": "ml ops"}, {"Key": "cost:center", "Value": "42"}]}),
    "iam_put_role_policy": ("iam", "PutRolePolicy", {
        "RoleName": "BedrockFineTuningRole", "PolicyName": "BedrockS3Access",
        "PolicyDocument": json.dumps(S3_POLICY, indent=4)}),
    "iam_list_roles": ("iam", "ListRoles", {"Marker": "bedrockfinetuningrole", "MaxItems": 2}),
    "sts_get_caller_identity": ("sts", "GetCallerIdentity", {}),
}


def main():
    out = pathlib.Path(__file__).parent / "data"
    out.mkdir(exist_ok=True)
    session = botocore.session.get_session()
    for name, (service, operation, params) in CASES.items():
        model = session.get_service_model(service)
        serializer = create_serializer(model.metadata["protocol"])
        request = serializer.serialize_to_request(params, model.operation_model(operation))
        # The HTTP layer form-encodes the dict the serializer returns, as below.
        body = urllib.parse.urlencode(request["body"], doseq=True)
        (out / f"{name}.txt").write_text(body)
        print(name, len(body))


if __name__ == "__main__":
    main()
