#!/usr/bin/env python3
"""Reads the IAM and STS responses lathe writes with botocore's own QueryParser (and the IAM
policy-decoding handler boto3 runs after it), so a response that botocore would misread fails
here and not in a user's script.
    parse_with_botocore.py --generator build/tests/write_query_samples
Exit 77 (skipped) when botocore is not installed."""
import argparse
import pathlib
import subprocess
import sys
import tempfile

try:
    import botocore.session
    from botocore import handlers, parsers
except ImportError:
    print("botocore is not installed: skipped")
    sys.exit(77)


def parse(session, service, operation, path):
    model = session.get_service_model(service).operation_model(operation)
    status = int(path.name.split(".")[-2])
    response = {"body": path.read_bytes(), "headers": {}, "status_code": status}
    parsed = parsers.create_parser("query").parse(response, model.output_shape)
    if service == "iam" and status < 300:
        handlers.json_decode_policies(parsed, model)
    return parsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--generator", required=True)
    args = ap.parse_args()
    session = botocore.session.get_session()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([args.generator, tmp], check=True)
        out = pathlib.Path(tmp)

        def one(service, operation, status):
            return parse(session, service, operation, out / f"{operation}.{status}.xml")

        created = one("iam", "CreateRole", 200)["Role"]
        assert created["Arn"] == "arn:aws:iam::123456789012:role/BedrockFineTuningRole", created
        assert created["Tags"] == [{"Key": "team", "Value": "ml"}], created
        assert created["Description"] == "fine-tuning", created

        got = one("iam", "GetRole", 200)
        role = got["Role"]
        assert role["RoleName"] == "BedrockFineTuningRole", role
        assert role["Arn"] == created["Arn"], role
        assert role["RoleId"].startswith("AROA") and len(role["RoleId"]) == 21, role
        assert role["CreateDate"].tzinfo is not None, role  # parsed as a timestamp
        assert role["MaxSessionDuration"] == 3600, role
        # botocore URL-decodes and JSON-parses policy documents.
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "bedrock.amazonaws.com"}
        assert got["ResponseMetadata"]["RequestId"] == "4a2b8c7e-0000-4000-8000-000000000001", got

        policy = one("iam", "GetRolePolicy", 200)
        assert policy["PolicyName"] == "BedrockS3Access", policy
        assert policy["PolicyDocument"]["Statement"]["Resource"] == "arn:aws:s3:::b/*", policy

        names = one("iam", "ListRolePolicies", 200)
        assert names["PolicyNames"] == ["BedrockS3Access"] and names["IsTruncated"] is False, names

        attached = one("iam", "ListAttachedRolePolicies", 200)
        assert attached["AttachedPolicies"] == [
            {"PolicyName": "AmazonS3FullAccess", "PolicyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}], attached

        roles = one("iam", "ListRoles", 200)
        assert [r["RoleName"] for r in roles["Roles"]] == ["BedrockFineTuningRole"], roles
        assert roles["IsTruncated"] is True and roles["Marker"], roles

        assert "ResponseMetadata" in one("iam", "PutRolePolicy", 200)

        conflict = one("iam", "DeleteRole", 409)
        assert conflict["Error"]["Code"] == "DeleteConflict", conflict
        assert conflict["Error"]["Type"] == "Sender", conflict
        missing = one("iam", "GetRole", 404)
        assert missing["Error"]["Code"] == "NoSuchEntity", missing
        assert missing["Error"]["Message"] == "The role with name Missing cannot be found.", missing
        assert missing["ResponseMetadata"]["RequestId"] == "4a2b8c7e-0000-4000-8000-000000000001", missing

        me = one("sts", "GetCallerIdentity", 200)
        assert me["Account"] == "123456789012" and me["UserId"] == "AIDAEXAMPLEUSERID0001", me
        assert me["Arn"] == "arn:aws:iam::123456789012:user/alice", me
    print("botocore parsed every response as expected")


if __name__ == "__main__":
    main()
