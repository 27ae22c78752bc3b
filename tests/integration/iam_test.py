#!/usr/bin/env python3
"""IAM users, keys and policies enforced on every request of `lathe serve`, with real clients.

Run by ctest (tests/CMakeLists.txt, `iam_enforcement`) as:
  iam_test.py --lathe build/lathe --shared ../shared
Exit 77 (skipped) when boto3 or the `aws` CLI is missing.

1. The administrator (the server's key) creates a user, a managed policy holding the fine-tuning
   guide's policy document (from ../shared's guide, unmodified but for the bucket name), attaches
   it and creates the user's access key; a second role to pass.
2. With the user's keys (boto3 and the AWS CLI): the guide's S3 upload and listing and its job
   creation are allowed; deleting another bucket, reading another bucket, passing another role
   (to Bedrock and to Step Functions), SNS and IAM calls are refused — AccessDenied in each
   protocol's shape and AWS's message ("User: arn:... is not authorized to perform: ...").
3. An explicit Deny beats the Allow; SimulatePrincipalPolicy and `lathe iam simulate` say which
   statement decided; bad input to SimulatePrincipalPolicy is refused with IAM's codes.
4. A key made Inactive is locked out on the next request and works again when Active; forged
   keys are refused; deleting the user removes its keys.
5. `lathe audit` lists the calls with principal, source address, action, outcome and request id;
   changing calls are EventBridge events ("AWS API Call via CloudTrail") that a rule acts on.
The server's own key keeps full access throughout.
"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, AwsCli, Server, expect_error,  # exits 77 without boto3
                           forget_caller_aws_settings, require_aws_cli, wait_for)

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY_ID, SECRET = "LATHEIAMTESTADMIN001", "lathe-iam-admin-secret-0123456789abcdef"
REGION = "us-east-1"
ACCOUNT = "000000000000"
BUCKET, OTHER_BUCKET = "iam-training-bucket", "iam-other-bucket"
USER = "ml-engineer"
USER_ARN = "arn:aws:iam::%s:user/%s" % (ACCOUNT, USER)
ROLE_ARN = "arn:aws:iam::%s:role/BedrockFineTuningRole" % ACCOUNT
OTHER_ROLE_ARN = "arn:aws:iam::%s:role/SomeoneElsesRole" % ACCOUNT
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
STATE_MACHINE = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


def guide_policy(shared):
    """The fine-tuning guide's "Required IAM Permissions" document, the bucket name filled in."""
    with open(os.path.join(shared, "seeds", "bedrock-fine-tuning-guide.md")) as f:
        text = f.read()
    section = text[text.index("### Required IAM Permissions"):]
    block = section[section.index("```json") + len("```json"):]
    document = block[:block.index("```")]
    json.loads(document)  # the guide's document as written is valid JSON
    return document.replace("your-training-bucket", BUCKET)


def raw_iam(server, form):
    """An IAM query request with the administrator's key, its form as given (wrong types included,
    which boto3 would refuse to send): (HTTP status, error code)."""
    body = "&".join("%s=%s" % kv for kv in [("Action", "SimulatePrincipalPolicy"), ("Version", "2010-05-08")] + form)
    req = AWSRequest(method="POST", url=server.url + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(KEY_ID, SECRET), "iam", REGION).add_auth(req)
    prepared = req.prepare()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    try:
        conn.request("POST", "/", body=prepared.body, headers=dict(prepared.headers.items()))
        resp = conn.getresponse()
        text = resp.read().decode()
        code = re.search(r"<Code>([^<]*)</Code>", text)
        return resp.status, code.group(1) if code else text
    finally:
        conn.close()


def denied(code, fn, *args, **kwargs):
    """Calls fn, which IAM must refuse (code, 403); returns the message after checking its form."""
    message = expect_error(code, 403, fn, *args, **kwargs)
    assert message.startswith("User: %s is not authorized to perform: " % USER_ARN), message
    return message


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--shared", required=True)
    args = p.parse_args()
    require_aws_cli()
    guide = os.path.join(args.shared, "seeds", "bedrock-fine-tuning-guide.md")
    if not os.path.exists(guide):
        print("SKIP: %s is missing" % guide)
        return 77
    forget_caller_aws_settings()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        data = os.path.join(tmp, "data")
        with Server(args.lathe, data, keys=(KEY_ID, SECRET)).start() as server:
            admin = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
            iam = admin.client("iam", endpoint_url=server.url, config=NO_RETRY)
            s3_admin = admin.client("s3", endpoint_url=server.url, config=NO_RETRY)

            # 1. The administrator sets up the user.
            for bucket in (BUCKET, OTHER_BUCKET):
                s3_admin.create_bucket(Bucket=bucket)
            s3_admin.put_object(Bucket=OTHER_BUCKET, Key="private.jsonl", Body=b'{"prompt": "x"}\n')
            iam.create_role(RoleName="BedrockFineTuningRole", AssumeRolePolicyDocument=TRUST)
            iam.create_role(RoleName="SomeoneElsesRole", AssumeRolePolicyDocument=TRUST)
            # Changes to IAM reach EventBridge as CloudTrail's events: a rule starts a state machine.
            sfn_admin = admin.client("stepfunctions", endpoint_url=server.url, config=NO_RETRY)
            sink = sfn_admin.create_state_machine(name="iam-changes", definition=STATE_MACHINE,
                                                  roleArn=ROLE_ARN)["stateMachineArn"]
            events = admin.client("events", endpoint_url=server.url, config=NO_RETRY)
            events.put_rule(Name="iam-changes", EventPattern=json.dumps({
                "source": ["aws.iam"], "detail-type": ["AWS API Call via CloudTrail"],
                "detail": {"eventName": ["CreateAccessKey"]}}))
            events.put_targets(Rule="iam-changes", Targets=[{"Id": "sink", "Arn": sink, "RoleArn": ROLE_ARN}])
            iam.create_user(UserName=USER)
            policy_arn = iam.create_policy(PolicyName="BedrockFineTuning",
                                           PolicyDocument=guide_policy(args.shared))["Policy"]["Arn"]
            iam.attach_user_policy(UserName=USER, PolicyArn=policy_arn)
            key = iam.create_access_key(UserName=USER)["AccessKey"]
            assert key["Status"] == "Active" and len(key["SecretAccessKey"]) == 40, key
            secrets_file = os.path.join(data, "iam", "access-keys.json")
            assert os.stat(secrets_file).st_mode & 0o077 == 0, oct(os.stat(secrets_file).st_mode)

            started = wait_for(lambda: sfn_admin.list_executions(stateMachineArn=sink)["executions"],
                               lambda e: len(e) == 1, 30, "the CreateAccessKey event's execution")
            event = json.loads(sfn_admin.describe_execution(executionArn=started[0]["executionArn"])["input"])
            assert event["detail-type"] == "AWS API Call via CloudTrail" and event["source"] == "aws.iam", event
            assert event["detail"]["eventName"] == "CreateAccessKey", event
            assert event["detail"]["userIdentity"]["type"] == "Root", event

            user = boto3.session.Session(aws_access_key_id=key["AccessKeyId"],
                                         aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)
            s3 = user.client("s3", endpoint_url=server.url, config=NO_RETRY)
            bedrock = user.client("bedrock", endpoint_url=server.url, config=NO_RETRY)
            assert user.client("sts", endpoint_url=server.url).get_caller_identity()["Arn"] == USER_ARN

            # 2. The guide's upload and job: allowed.
            train = os.path.join(tmp, "train.jsonl")
            with open(train, "w") as f:
                for i in range(8):
                    f.write(json.dumps({"prompt": "question %d" % i, "completion": " answer %d" % i}) + "\n")
            s3.upload_file(train, BUCKET, "training-data/train.jsonl")
            listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="training-data/")
            assert [o["Key"] for o in listed["Contents"]] == ["training-data/train.jsonl"], listed
            assert s3.get_object(Bucket=BUCKET, Key="training-data/train.jsonl")["Body"].read().startswith(b"{")
            job = dict(jobName="iam-job", customModelName="iam-job-model", roleArn=ROLE_ARN,
                       baseModelIdentifier="amazon.titan-text-express-v1",
                       trainingDataConfig={"s3Uri": "s3://%s/training-data/train.jsonl" % BUCKET},
                       outputDataConfig={"s3Uri": "s3://%s/output/" % BUCKET},
                       hyperParameters={"epochCount": "1", "batchSize": "4", "learningRate": "0.003"})
            job_arn = bedrock.create_model_customization_job(**job)["jobArn"]
            assert bedrock.get_model_customization_job(jobIdentifier=job_arn)["roleArn"] == ROLE_ARN
            bedrock.list_custom_models()
            # The job reads and writes as its role, which lathe's IAM holds: with no policy, it may
            # not read its data; allowed to read but not to write, it may not write its output.
            def ended(arn):
                return wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=arn),
                                lambda j: j["status"] not in ("InProgress", "Stopping"), 60, "job " + arn)
            failed = ended(job_arn)
            assert failed["status"] == "Failed", failed
            assert "User: %s is not authorized to perform: s3:GetObject" % ROLE_ARN in failed["failureMessage"], failed
            iam.put_role_policy(RoleName="BedrockFineTuningRole", PolicyName="read", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % BUCKET}]}))
            failed = ended(bedrock.create_model_customization_job(
                **dict(job, jobName="iam-job-3", customModelName="iam-job-3-model"))["jobArn"])
            assert "s3:PutObject on resource: arn:aws:s3:::%s/output/" % BUCKET in failed["failureMessage"], failed

            # ... and what the policy does not grant: refused, in each protocol's shape.
            m = denied("AccessDenied", s3.delete_bucket, Bucket=OTHER_BUCKET)
            assert "s3:DeleteBucket on resource: arn:aws:s3:::%s" % OTHER_BUCKET in m, m
            m = denied("AccessDenied", s3.get_object, Bucket=OTHER_BUCKET, Key="private.jsonl")
            assert "s3:GetObject on resource: arn:aws:s3:::%s/private.jsonl" % OTHER_BUCKET in m, m
            denied("AccessDenied", s3.list_objects_v2, Bucket=OTHER_BUCKET)
            m = denied("AccessDeniedException", bedrock.create_model_customization_job,
                       **dict(job, jobName="iam-job-2", customModelName="iam-job-2-model", roleArn=OTHER_ROLE_ARN))
            assert "iam:PassRole on resource: %s" % OTHER_ROLE_ARN in m, m
            denied("AccessDeniedException", bedrock.list_foundation_models)
            denied("AuthorizationError", user.client("sns", endpoint_url=server.url, config=NO_RETRY).create_topic,
                   Name="not-mine")
            # aws:ResourceTag: the user may publish to the team's topics only.
            sns_admin = admin.client("sns", endpoint_url=server.url, config=NO_RETRY)
            ours = sns_admin.create_topic(Name="ml-alerts", Tags=[{"Key": "team", "Value": "ml"}])["TopicArn"]
            theirs = sns_admin.create_topic(Name="billing-alerts")["TopicArn"]
            iam.put_user_policy(UserName=USER, PolicyName="team-topics", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*",
                     "Condition": {"StringEquals": {"aws:ResourceTag/team": "ml"}}}]}))
            user_sns = user.client("sns", endpoint_url=server.url, config=NO_RETRY)
            user_sns.publish(TopicArn=ours, Message="model ready")
            denied("AuthorizationError", user_sns.publish, TopicArn=theirs, Message="model ready")
            user_iam = user.client("iam", endpoint_url=server.url, config=NO_RETRY)
            m = denied("AccessDenied", user_iam.list_users)
            assert "iam:ListUsers on resource: *" in m, m
            denied("AccessDenied", user_iam.create_access_key, UserName="admin-to-be")
            assert s3_admin.head_bucket(Bucket=OTHER_BUCKET)  # refused calls changed nothing

            # Step Functions: passing a role needs iam:PassRole too.
            iam.put_user_policy(UserName=USER, PolicyName="states", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["states:CreateStateMachine", "states:DeleteStateMachine"],
                     "Resource": "*"}]}))
            sfn = user.client("stepfunctions", endpoint_url=server.url, config=NO_RETRY)
            m = denied("AccessDeniedException", sfn.create_state_machine, name="other", definition=STATE_MACHINE,
                       roleArn=OTHER_ROLE_ARN)
            assert "iam:PassRole on resource: %s" % OTHER_ROLE_ARN in m, m
            sm = sfn.create_state_machine(name="mine", definition=STATE_MACHINE, roleArn=ROLE_ARN)["stateMachineArn"]
            denied("AccessDeniedException", sfn.list_state_machines)
            sfn.delete_state_machine(stateMachineArn=sm)

            # The AWS CLI, with the user's keys.
            cli = AwsCli(os.path.join(tmp, "aws-home"), server.url, (key["AccessKeyId"], key["SecretAccessKey"]),
                         REGION, cwd=tmp)
            cli.run("s3", "cp", train, "s3://%s/training-data/copy.jsonl" % BUCKET)
            assert "copy.jsonl" in cli.run("s3", "ls", "s3://%s/training-data/" % BUCKET).stdout
            r = cli.run("s3", "ls", "s3://%s/" % OTHER_BUCKET, ok=False)
            assert r.returncode != 0 and "AccessDenied" in r.stderr, r.stderr
            r = cli.run("bedrock", "list-foundation-models", ok=False)
            assert r.returncode != 0 and "AccessDeniedException" in r.stderr, r.stderr

            # 3. An explicit Deny beats the Allow.
            iam.put_user_policy(UserName=USER, PolicyName="no-copies", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Sid": "NoCopies", "Effect": "Deny", "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::%s/training-data/copy*" % BUCKET}]}))
            m = denied("AccessDenied", s3.get_object, Bucket=BUCKET, Key="training-data/copy.jsonl")
            assert "explicit deny" in m and "NoCopies" in m, m
            s3.get_object(Bucket=BUCKET, Key="training-data/train.jsonl")

            # SimulatePrincipalPolicy names the deciding statement.
            sim = iam.simulate_principal_policy(
                PolicySourceArn=USER_ARN, ActionNames=["s3:GetObject", "s3:DeleteBucket"],
                ResourceArns=["arn:aws:s3:::%s/training-data/copy.jsonl" % BUCKET,
                              "arn:aws:s3:::%s/training-data/train.jsonl" % BUCKET])
            decisions = [(r["EvalActionName"], r["EvalResourceName"].rsplit("/", 1)[-1], r["EvalDecision"])
                         for r in sim["EvaluationResults"]]
            assert decisions == [("s3:GetObject", "copy.jsonl", "explicitDeny"),
                                 ("s3:GetObject", "train.jsonl", "allowed"),
                                 ("s3:DeleteBucket", "copy.jsonl", "implicitDeny"),
                                 ("s3:DeleteBucket", "train.jsonl", "implicitDeny")], decisions
            assert sim["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyId"] == "no-copies", sim
            assert sim["EvaluationResults"][1]["MatchedStatements"][0]["SourcePolicyId"] == policy_arn, sim
            page = iam.simulate_principal_policy(PolicySourceArn=USER_ARN, ActionNames=["s3:GetObject", "s3:PutObject"],
                                                 MaxItems=1)
            assert page["IsTruncated"] and len(page["EvaluationResults"]) == 1, page
            rest = iam.simulate_principal_policy(PolicySourceArn=USER_ARN, ActionNames=["s3:GetObject", "s3:PutObject"],
                                                 MaxItems=1, Marker=page["Marker"])
            assert not rest["IsTruncated"] and rest["EvaluationResults"][0]["EvalActionName"] == "s3:PutObject", rest
            # Bad input: IAM's codes, nothing evaluated.
            simulate = iam.simulate_principal_policy
            expect_error("InvalidInput", 400, simulate, PolicySourceArn=USER_ARN, ActionNames=["s3:GetObject"],
                         Marker="forged-marker")
            expect_error("InvalidInput", 400, simulate, PolicySourceArn=USER_ARN,
                         ActionNames=["s3:A%d" % i for i in range(101)])
            expect_error("InvalidInput", 400, simulate, PolicySourceArn="arn:aws:iam::999999999999:user/" + USER,
                         ActionNames=["s3:GetObject"])
            expect_error("NoSuchEntity", 404, simulate, PolicySourceArn=USER_ARN + "\u202e../x",
                         ActionNames=["s3:GetObject"])
            expect_error("InvalidInput", 400, simulate, PolicySourceArn=USER_ARN, ActionNames=["not an action"])
            expect_error("MalformedPolicyDocument", 400, simulate, PolicySourceArn=USER_ARN,
                         ActionNames=["s3:GetObject"], PolicyInputList=['{"Statement": "x' + "a" * 7000 + '"}'])
            expect_error("ValidationError", 400, simulate, PolicySourceArn=USER_ARN, ActionNames=["s3:GetObject"],
                         PolicyInputList=['{"Version": "2012-10-17", "Statement": []}' + " " * 140000])
            expect_error("InvalidInput", 400, simulate, PolicySourceArn=USER_ARN, ActionNames=["s3:GetObject"],
                         ResourcePolicy="{}")

            source = ("PolicySourceArn", USER_ARN.replace(":", "%3A").replace("/", "%2F"))
            for form, want in [([source, ("ActionNames.member.1", "s3:GetObject"), ("MaxItems", "abc")],
                                (400, "ValidationError")),
                               ([source, ("ActionNames.member.2", "s3:GetObject")], (400, "ValidationError")),
                               ([source], (400, "ValidationError")),
                               ([("ActionNames.member.1", "s3:GetObject")], (400, "ValidationError")),
                               ([source, ("ActionNames.member.1", "s3:GetObject"),
                                 ("ContextEntries.member.1.ContextKeyName", "aws:SourceIp"),
                                 ("ContextEntries.member.1.ContextKeyType", "nonsense")], (400, "ValidationError"))]:
                assert raw_iam(server, form) == want, (form, raw_iam(server, form))

            # `lathe iam simulate`: the same answer from the data directory.
            r = subprocess.run([args.lathe, "iam", "simulate", "--data-dir", data, "--user", USER, "--action",
                                "s3:DeleteBucket", "--resource", "arn:aws:s3:::" + OTHER_BUCKET, "--json"],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 3, (r.returncode, r.stderr)
            assert json.loads(r.stdout)[0]["decision"] == "implicitDeny", r.stdout

            # 4. Inactive keys are locked out at once; forged ones never get in.
            iam.update_access_key(UserName=USER, AccessKeyId=key["AccessKeyId"], Status="Inactive")
            expect_error("InvalidAccessKeyId", 403, s3.list_objects_v2, Bucket=BUCKET)
            iam.update_access_key(UserName=USER, AccessKeyId=key["AccessKeyId"], Status="Active")
            s3.list_objects_v2(Bucket=BUCKET)
            forged = boto3.session.Session(aws_access_key_id=key["AccessKeyId"],
                                           aws_secret_access_key="x" * 40, region_name=REGION)
            expect_error("SignatureDoesNotMatch", 403, forged.client("s3", endpoint_url=server.url,
                                                                       config=NO_RETRY).list_objects_v2, Bucket=BUCKET)
            unknown = boto3.session.Session(aws_access_key_id="AKIA" + "A" * 16, aws_secret_access_key="x" * 40,
                                            region_name=REGION)
            expect_error("InvalidClientTokenId", 403, unknown.client("sts", endpoint_url=server.url,
                                                                       config=NO_RETRY).get_caller_identity)

            # Deleting the user removes its keys.
            for name in ("states", "no-copies", "team-topics"):
                iam.delete_user_policy(UserName=USER, PolicyName=name)
            iam.detach_user_policy(UserName=USER, PolicyArn=policy_arn)
            iam.delete_user(UserName=USER)
            expect_error("InvalidAccessKeyId", 403, s3.list_objects_v2, Bucket=BUCKET)

            # The administrator was never restricted.
            s3_admin.delete_object(Bucket=OTHER_BUCKET, Key="private.jsonl")
            s3_admin.delete_bucket(Bucket=OTHER_BUCKET)

        # 5. The audit trail, read without the server.
        r = subprocess.run([args.lathe, "audit", "--data-dir", data, "--principal", USER_ARN, "--denied", "--json",
                            "--limit", "1000"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        records = json.loads(r.stdout)
        deletes = [x for x in records if x["action"] == "s3:DeleteBucket"]
        assert len(deletes) == 1, records
        d = deletes[0]
        assert d["errorCode"] == "AccessDenied" and d["httpStatus"] == 403, d
        assert d["sourceIPAddress"] == "127.0.0.1" and d["userIdentity"]["arn"] == USER_ARN, d
        assert d["resources"] == [{"ARN": "arn:aws:s3:::" + OTHER_BUCKET}] and re.match(r"^[0-9A-Za-z-]+$", d["requestID"]), d
        assert d["eventSource"] == "s3.amazonaws.com" and d["eventName"] == "DeleteBucket", d
        r = subprocess.run([args.lathe, "audit", "--data-dir", data, "--action", "iam:CreateAccessKey", "--json"],
                           capture_output=True, text=True, timeout=60)
        calls = json.loads(r.stdout)
        assert [c.get("errorCode", "OK") for c in calls] == ["OK", "AccessDenied"], calls
        assert calls[0]["userIdentity"]["type"] == "Root", calls[0]
        r = subprocess.run([args.lathe, "audit", "--data-dir", data, "--since", "not-a-time"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and "--since" in r.stderr, r.stderr
        assert os.stat(os.path.join(data, "audit", "trail.jsonl")).st_mode & 0o077 == 0
    print("iam: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
