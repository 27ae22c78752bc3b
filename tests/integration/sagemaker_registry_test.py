"""SageMaker's Model Registry subset against a real `lathe serve`, with boto3's `sagemaker` client
and the AWS CLI, and `lathe registry` on the same data directory while the server runs.

Run by ctest (tests/CMakeLists.txt) as:
  sagemaker_registry_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 or the AWS CLI is missing.

Covers: a group; packages registered as versions 1 and 2 (CustomerMetadataProperties' customModelArn
is the version's model); ListModelPackages with status filters and MaxResults/NextToken paging;
DescribeModelPackage by ARN and by <group>/<version>; UpdateModelPackage's approval; the delete
rules (a group with versions, an aliased version: ConflictException); bad input as SageMaker
answers it; `aws sagemaker list-model-package-groups`; `lathe registry` seeing and moving the same
state as the server, and its export to an s3:// prefix of the server.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, AwsCli, Server, expect_error, forget_caller_aws_settings, require_aws_cli

import boto3

KEY_ID, SECRET = "LATHETESTKEY000015", "lathe-test-secret-registry-0123456789abc"
REGION = "us-east-1"
ACCOUNT = "000000000000"
GROUP = "banking-assistant"
MODEL = "arn:aws:bedrock:%s:%s:custom-model/banking-v%d"


def registry(lathe, data, *argv, env=None):
    r = subprocess.run([lathe, "registry", *argv, "--data-dir", data, "--json"], capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 0, (argv, r.stdout, r.stderr)
    return json.loads(r.stdout)


def boto3_steps(sm):
    arn = sm.create_model_package_group(ModelPackageGroupName=GROUP,
                                        ModelPackageGroupDescription="banking support answers")["ModelPackageGroupArn"]
    assert arn == "arn:aws:sagemaker:%s:%s:model-package-group/%s" % (REGION, ACCOUNT, GROUP), arn
    d = sm.describe_model_package_group(ModelPackageGroupName=GROUP)
    assert d["ModelPackageGroupStatus"] == "Completed" and d["ModelPackageGroupArn"] == arn, d
    packages = []
    for n in (1, 2):
        r = sm.create_model_package(ModelPackageGroupName=GROUP, ModelPackageDescription="v%d" % n,
                                    ModelApprovalStatus="PendingManualApproval",
                                    CustomerMetadataProperties={"customModelArn": MODEL % (REGION, ACCOUNT, n),
                                                                "overallScore": "0.%d" % (6 + n)})
        packages.append(r["ModelPackageArn"])
    assert packages[1].endswith(":model-package/%s/2" % GROUP), packages

    d = sm.describe_model_package(ModelPackageName=packages[0])
    assert d["ModelPackageVersion"] == 1 and d["ModelApprovalStatus"] == "PendingManualApproval", d
    assert d["CustomerMetadataProperties"]["customModelArn"] == MODEL % (REGION, ACCOUNT, 1), d
    assert d["InferenceSpecification"]["Containers"][0]["Image"] == MODEL % (REGION, ACCOUNT, 1), d
    assert sm.describe_model_package(ModelPackageName="%s/2" % GROUP)["ModelPackageArn"] == packages[1]

    sm.update_model_package(ModelPackageArn=packages[1], ModelApprovalStatus="Approved",
                            ApprovalDescription="beats v1")
    approved = sm.list_model_packages(ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved")
    assert [s["ModelPackageVersion"] for s in approved["ModelPackageSummaryList"]] == [2], approved
    pending = sm.list_model_packages(ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval")
    assert [s["ModelPackageVersion"] for s in pending["ModelPackageSummaryList"]] == [1], pending

    # Paging one at a time, oldest first; and boto3's paginator over the same.
    seen, kw = [], dict(ModelPackageGroupName=GROUP, MaxResults=1, SortOrder="Ascending")
    while True:
        page = sm.list_model_packages(**kw)
        seen += [s["ModelPackageVersion"] for s in page["ModelPackageSummaryList"]]
        if "NextToken" not in page:
            break
        kw["NextToken"] = page["NextToken"]
    assert seen == [1, 2], seen
    paged = [s["ModelPackageVersion"] for p in sm.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=GROUP, PaginationConfig={"PageSize": 1}) for s in p["ModelPackageSummaryList"]]
    assert paged == [1, 2], paged  # oldest first by default (botocore: "The default is Ascending")
    return packages


def bad_input_steps(sm):
    expect_error("ValidationException", 400, sm.describe_model_package_group, ModelPackageGroupName="missing")
    expect_error("ValidationException", 400, sm.create_model_package_group, ModelPackageGroupName=GROUP)
    expect_error("ValidationException", 400, sm.create_model_package_group, ModelPackageGroupName="../etc")
    expect_error("ValidationException", 400, sm.describe_model_package, ModelPackageName="%s/99" % GROUP)
    expect_error("ValidationException", 400, sm.list_model_packages, ModelPackageGroupName=GROUP,
                 NextToken="forged-token")
    expect_error("ValidationException", 400, sm.describe_model_package,
                 ModelPackageName="arn:aws:sagemaker:%s:999999999999:model-package/%s/1" % (REGION, GROUP))
    message = expect_error("ValidationException", 400, sm.create_model_package, ModelPackageGroupName=GROUP,
                           SourceUri="s3://bucket/model")
    assert "lathe does not support SourceUri" in message, message


def delete_steps(sm, lathe, data, packages):
    expect_error("ConflictException", 400, sm.delete_model_package_group, ModelPackageGroupName=GROUP)
    # `lathe registry` works on the running server's data: an alias it sets protects version 2.
    moved = registry(lathe, data, "alias", "set", GROUP, "production", "2", "--reason", "approved")
    assert moved["toVersion"] == 2, moved
    assert [v["version"] for v in registry(lathe, data, "versions", GROUP)] == [1, 2]
    expect_error("ConflictException", 400, sm.delete_model_package, ModelPackageName=packages[1])
    sm.delete_model_package(ModelPackageName=packages[0])
    listed = sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert [s["ModelPackageVersion"] for s in listed] == [2], listed


def export_steps(lathe, data, server):
    """`lathe registry export` to an s3:// prefix of the running server: the guide's layout."""
    s3 = boto3.client("s3", endpoint_url=server.url, region_name=REGION, aws_access_key_id=KEY_ID,
                      aws_secret_access_key=SECRET, config=NO_RETRY)
    s3.create_bucket(Bucket="registry-exports")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION=REGION)
    out = registry(lathe, data, "export", "%s/2" % GROUP, "--out", "s3://registry-exports/models/",
                   "--endpoint", server.url, env=env)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="registry-exports")["Contents"])
    folder = "models/%s-v2/" % GROUP
    assert keys == [folder + n for n in ("evaluation-report.json", "model-id.txt", "training-config.json",
                                         "training-data-manifest.json")], (keys, out)
    model_id = s3.get_object(Bucket="registry-exports", Key=folder + "model-id.txt")["Body"].read().decode()
    assert model_id.strip() == MODEL % (REGION, ACCOUNT, 2), model_id


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    require_aws_cli()
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    with tempfile.TemporaryDirectory() as tmp:
        data, home = os.path.join(tmp, "data"), os.path.join(tmp, "home")
        with Server(args.lathe, data, keys=(KEY_ID, SECRET)).start() as server:
            sm = boto3.client("sagemaker", endpoint_url=server.url, region_name=REGION, aws_access_key_id=KEY_ID,
                              aws_secret_access_key=SECRET, config=NO_RETRY)
            packages = boto3_steps(sm)
            bad_input_steps(sm)
            cli = AwsCli(home, server.url, (KEY_ID, SECRET), REGION)
            out = json.loads(cli.run("sagemaker", "list-model-package-groups", "--output", "json").stdout)
            assert [g["ModelPackageGroupName"] for g in out["ModelPackageGroupSummaryList"]] == [GROUP], out
            delete_steps(sm, args.lathe, data, packages)
            export_steps(args.lathe, data, server)
    print("OK")


if __name__ == "__main__":
    main()
