#!/usr/bin/env python3
"""The automation tutorial's pipeline, run for real: Lab 3's step_function_definition.json and
deploy_automation.py from ../shared/seeds, unmodified but for ACCOUNT_ID and BUCKET_NAME.

Run by ctest (tests/CMakeLists.txt) as:
  stepfunctions_pipeline_test.py --lathe build/lathe --home DIR [--shared ../shared]
DIR caches the small default model. Exit 77 (skipped) when boto3, the AWS CLI or ../shared is
missing.

What a user does, with the AWS CLI and boto3 against `lathe serve` (waitTimeScale 0.01, so the
tutorial's 300-second poll takes 3 s):
 1. deploy_automation.py (S3 → EventBridge, the rule, the SNS topic), an email subscription
    confirmed through the outbox, `aws stepfunctions create-state-machine` with the tutorial's
    definition, and `aws events put-targets` pointing the rule at it (the tutorial leaves that
    step out; docs/serve.md shows it, with the InputTransformer that gives the pipeline its
    {bucket, key});
 2. a broken dataset copied to training-data/: the execution takes CheckValidation's Default,
    NotifyValidationFailed publishes, and the email lands in the outbox;
 3. a good dataset, end to end: validated, trained for real by the built-in
    start-bedrock-finetuning, polled through the Wait loop until Completed; RunEvaluation runs the
    built-in evaluate-finetuned-model (base vs the custom model on the training data, as the job
    had no validation data: in-sample, and its answer says so); RegisterModel's built-in
    register-model-version makes version 1 of the group lathe-finetuned and promotes it to
    production (nothing to compare with); NotifySuccess's email lands in the outbox with the real
    overallScore;
 4. a second dataset: version 2, compared with version 1 by the gate's own evaluation job and
    promoted only if better; the registry (SageMaker's ModelApprovalStatus, `lathe registry alias
    history`) matches what the function reported.
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, AwsCli, Server, lathe_notifications, require_aws_cli,  # exits 77 without boto3
                           tutorial_block, wait_for_outbox)

import boto3

KEY_ID, SECRET = "LATHETESTKEY000031", "lathe-test-secret-pipeline-0123456789abcd"
REGION = "ap-south-1"  # the tutorial's
BUCKET = "bedrock-finetuning-lathe-pipeline-test"
RULE = "bedrock-finetuning-trigger"  # deploy_automation.py's
MACHINE = "bedrock-finetuning-pipeline"
EMAIL = "ml-team@example.com"
GROUP = "lathe-finetuned"  # register-model-version's MODEL_GROUP default


def wait_for_execution(sfn, machine_arn, count, timeout):
    """The newest execution once `count` executions exist and the newest has ended."""
    deadline = time.time() + timeout
    while True:
        runs = sfn.list_executions(stateMachineArn=machine_arn)["executions"]
        if len(runs) >= count and runs[0]["status"] != "RUNNING":
            return sfn.describe_execution(executionArn=runs[0]["executionArn"])
        assert time.time() < deadline, "no ended execution #%d: %s" % (count, runs)
        time.sleep(0.5)


def history(sfn, arn):
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=100, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def entered(events):
    """The names of the states entered, in order."""
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def pipeline_run(args, data_dir, tmp, cli, sfn, bedrock, machine, count, name, answer, seen_mail):
    """Uploads a good dataset to training-data/ and follows execution #count to its email: returns
    {"registry": RegisterModel's answer, "evaluation": RunEvaluation's, "mail": the email's id}."""
    with open(os.path.join(tmp, name), "w") as f:
        for i in range(40):
            f.write(json.dumps({"prompt": "Customer: question %d\nAgent:" % i, "completion": " %s %d." % (answer, i)}) + "\n")
    cli.run("s3", "cp", name, "s3://%s/training-data/%s" % (BUCKET, name))
    run = wait_for_execution(sfn, machine, count, 600)
    events = history(sfn, run["executionArn"])
    states = entered(events)
    assert run["status"] == "SUCCEEDED", (run, states)
    assert states[:3] == ["ValidateTrainingData", "CheckValidation", "StartFineTuningJob"], states
    assert states[-4:] == ["IsTrainingComplete", "RunEvaluation", "RegisterModel", "NotifySuccess"], states
    assert states.count("WaitForTraining") >= 1 and states.count("CheckTrainingStatus") >= 1, states
    outputs = [json.loads(e["taskSucceededEventDetails"]["output"]) for e in events if "taskSucceededEventDetails" in e]
    evaluation = [o["Payload"] for o in outputs if "overallScore" in o.get("Payload", {}) and "verdict" in o["Payload"]][0]
    registered = [o["Payload"] for o in outputs if "modelPackageArn" in o.get("Payload", {})][0]
    assert isinstance(evaluation["overallScore"], (int, float)), evaluation
    # No validation data in the tutorial's job: the evaluation is in-sample, and says so.
    assert evaluation["testSet"]["inSample"] is True and evaluation["testSet"]["source"] == "training", evaluation
    assert evaluation["reportS3Uri"].startswith("s3://%s/evaluation/" % BUCKET), evaluation
    assert bedrock.get_evaluation_job(jobIdentifier=evaluation["evaluationJobArn"])["status"] == "Completed"
    started = [o["Payload"] for o in outputs if "jobArn" in o.get("Payload", {}) and "jobName" in o["Payload"]][0]
    described = bedrock.get_model_customization_job(jobIdentifier=started["jobArn"])
    assert described["status"] == "Completed", described
    models = [m["modelArn"] for m in bedrock.list_custom_models()["modelSummaries"]]
    assert described["outputModelArn"] in models, (described, models)
    assert evaluation["customModelName"] == described["outputModelName"], (evaluation, described)
    # RegisterModel: the version in the default group, its score the evaluation's.
    assert registered["modelGroup"] == GROUP and registered["alias"] == "production", registered
    assert registered["overallScore"] == evaluation["overallScore"], (registered, evaluation)
    # NotifySuccess: the email, with the real overallScore as States.Format wrote it.
    mail = wait_for_outbox(args.lathe, data_dir, lambda e: e["subject"] == "Fine-Tuning Complete" and e["to"] == EMAIL
                           and e["id"] not in seen_mail)
    body = lathe_notifications(args.lathe, data_dir, "--show", mail["id"])
    prefix = "Model %s training complete. Evaluation score: " % described["outputModelName"]
    assert prefix in body, body
    score = body.split(prefix, 1)[1].split()[0]
    assert float(score) == evaluation["overallScore"], (score, evaluation)
    return {"registry": registered, "evaluation": evaluation, "mail": mail["id"]}


def registry_cli(lathe, data_dir, *argv):
    """`lathe registry ARGV --json` on the server's data directory, parsed."""
    r = subprocess.run([lathe, "registry", *argv, "--data-dir", data_dir, "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout)


def registry_alias_history(lathe, data_dir):
    """The pipeline alias's moves: [{fromVersion, toVersion, actor, reason, ...}]."""
    return registry_cli(lathe, data_dir, "alias", "history", GROUP, "production")

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--home", required=True, help="LATHE_HOME holding (or receiving) the small default model")
    p.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..",
                                                    "shared"))
    args = p.parse_args()
    require_aws_cli()
    args.lathe, args.home = os.path.abspath(args.lathe), os.path.abspath(args.home)
    if not os.path.isdir(os.path.join(args.shared, "seeds")):
        print("SKIP: %s/seeds is absent: this test runs the automation tutorial's state machine and "
              "deploy_automation.py from it" % os.path.abspath(args.shared))
        sys.exit(77)
    for k in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"):
        os.environ.pop(k, None)
    subprocess.run([args.lathe, "models", "build-default", "--data-dir", args.home, "--max-records", "4000"],
                   check=True, stdout=subprocess.DEVNULL)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        data_dir = os.path.join(tmp, "data")
        config = {"models": {"lathe.default-v1": os.path.join(args.home, "models", "lathe-default")},
                  "fileRoots": [tmp], "region": REGION, "waitTimeScale": 0.01}
        server = Server(args.lathe, data_dir, keys=(KEY_ID, SECRET), config=config, home=args.home).start()
        try:
            session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
            client = lambda name: session.client(name, endpoint_url=server.url, config=NO_RETRY)  # noqa: E731
            s3, sfn, bedrock = client("s3"), client("stepfunctions"), client("bedrock")
            cli = AwsCli(os.path.join(tmp, "aws-home"), server.url, (KEY_ID, SECRET), REGION, cwd=tmp)
            account = client("sts").get_caller_identity()["Account"]

            # 1. The tutorial's setup.
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
            script, n = re.subn(r'(?m)^BUCKET_NAME = "[^"]*"', 'BUCKET_NAME = "%s"' % BUCKET,
                                tutorial_block(args.shared, "Create `deploy_automation.py`", "python"))
            assert n == 1, "the tutorial's BUCKET_NAME line was not found"
            with open(os.path.join(tmp, "deploy_automation.py"), "w", encoding="utf-8") as f:
                f.write(script)
            r = subprocess.run([sys.executable, "deploy_automation.py"], cwd=tmp, env=cli.env(),
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0 and "Automation infrastructure deployed!" in r.stdout, (r.stdout, r.stderr)
            topic = "arn:aws:sns:%s:%s:finetuning-notifications" % (REGION, account)
            cli.run("sns", "subscribe", "--topic-arn", topic, "--protocol", "email", "--notification-endpoint", EMAIL)
            confirmation = wait_for_outbox(args.lathe, data_dir,
                                           lambda e: e["subject"] == "AWS Notification - Subscription Confirmation")
            text = lathe_notifications(args.lathe, data_dir, "--show", confirmation["id"])
            link = [w for w in text.split() if w.startswith("http://") and "ConfirmSubscription" in w][0]
            with urllib.request.urlopen(link, timeout=10) as resp:
                assert resp.status == 200

            definition = tutorial_block(args.shared, "Create `step_function_definition.json`", "json")
            assert definition.count("ACCOUNT_ID") == 3, "the tutorial's three TopicArns name ACCOUNT_ID"
            with open(os.path.join(tmp, "step_function_definition.json"), "w", encoding="utf-8") as f:
                f.write(definition.replace("ACCOUNT_ID", account))
            role = json.loads(cli.run("iam", "create-role", "--role-name", "StepFunctionsPipelineRole",
                                      "--assume-role-policy-document",
                                      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
                                      '{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}').stdout)["Role"]["Arn"]
            created = json.loads(cli.run("stepfunctions", "create-state-machine", "--name", MACHINE,
                                         "--definition", "file://step_function_definition.json",
                                         "--role-arn", role).stdout)
            machine = created["stateMachineArn"]
            assert machine == "arn:aws:states:%s:%s:stateMachine:%s" % (REGION, account, MACHINE), created
            targets = [{"Id": "pipeline", "Arn": machine, "RoleArn": role,
                        "InputTransformer": {"InputPathsMap": {"bucket": "$.detail.bucket.name",
                                                               "key": "$.detail.object.key"},
                                             "InputTemplate": '{"bucket": <bucket>, "key": <key>}'}}]
            with open(os.path.join(tmp, "targets.json"), "w") as f:
                json.dump(targets, f)
            put = json.loads(cli.run("events", "put-targets", "--rule", RULE, "--targets", "file://targets.json").stdout)
            assert put["FailedEntryCount"] == 0, put
            # The built-in start-bedrock-finetuning trains the default model, small and quick.
            cli.run("lambda", "update-function-configuration", "--function-name", "start-bedrock-finetuning",
                    "--environment", json.dumps({"Variables": {
                        "ROLE_ARN": "arn:aws:iam::%s:role/BedrockFineTuningRole" % account,
                        "OUTPUT_S3_URI": "s3://%s/output/" % BUCKET,
                        "EPOCH_COUNT": "1", "BATCH_SIZE": "4", "LEARNING_RATE": "0.003"}}))
            # Short answers keep the evaluation step to seconds on the small default model.
            cli.run("lambda", "update-function-configuration", "--function-name", "evaluate-finetuned-model",
                    "--environment", json.dumps({"Variables": {"MAX_TOKENS": "16"}}))
            # And the promotion gate's comparison (register-model-version runs its own evaluation job).
            cli.run("lambda", "update-function-configuration", "--function-name", "register-model-version",
                    "--environment", json.dumps({"Variables": {"MAX_TOKENS": "16"}}))

            # 2. A broken dataset: the Default branch, an email.
            with open(os.path.join(tmp, "broken.jsonl"), "w") as f:
                f.write('{"prompt": "Customer: hi\\nAgent:", "completion": " Hello."}\n{"prompt": 5}\nnot json\n')
            cli.run("s3", "cp", "broken.jsonl", "s3://%s/training-data/broken.jsonl" % BUCKET)
            run = wait_for_execution(sfn, machine, 1, 60)
            assert run["status"] == "SUCCEEDED", run
            assert json.loads(run["input"]) == {"bucket": BUCKET, "key": "training-data/broken.jsonl"}, run
            states = entered(history(sfn, run["executionArn"]))
            assert states == ["ValidateTrainingData", "CheckValidation", "NotifyValidationFailed"], states
            mail = wait_for_outbox(args.lathe, data_dir, lambda e: e["subject"] == "Training Data Validation Failed"
                                   and e["to"] == EMAIL)
            body = lathe_notifications(args.lathe, data_dir, "--show", mail["id"])
            assert "Uploaded training data failed validation checks." in body, body

            # 3. A good dataset, end to end: trained, polled, evaluated, registered, the email.
            sm = client("sagemaker")
            first = pipeline_run(args, data_dir, tmp, cli, sfn, bedrock, machine, 2, "new_training_data.jsonl",
                                 "Answer", set())
            assert first["registry"]["version"] == 1 and first["registry"]["promoted"] is True, first["registry"]
            assert first["registry"]["holderVersion"] == 0, first["registry"]
            packages = sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
            assert [p["ModelPackageArn"] for p in packages] == [first["registry"]["modelPackageArn"]], packages
            v1 = sm.describe_model_package(ModelPackageName=first["registry"]["modelPackageArn"])
            assert v1["ModelApprovalStatus"] == "Approved", v1
            # Its lineage: the uploaded object as S3 describes it, hashed, counted; and back from the data.
            uri = "s3://%s/training-data/new_training_data.jsonl" % BUCKET
            shown = registry_cli(args.lathe, data_dir, "show", GROUP + "/1")
            with open(os.path.join(tmp, "new_training_data.jsonl"), "rb") as f:
                sha = hashlib.sha256(f.read()).hexdigest()
            head = s3.head_object(Bucket=BUCKET, Key="training-data/new_training_data.jsonl")
            assert shown["data"] == [{"uri": uri, "purpose": "training", "etag": head["ETag"].strip('"'), "versionId": "",
                                      "sha256": sha, "records": 40, "format": "prompt-completion"}], shown["data"]
            assert [v["version"] for v in registry_cli(args.lathe, data_dir, "lineage", "--data", uri)] == [1]
            assert shown["createdBy"] == "lathe:register-model-version", shown
            assert first["evaluation"]["evaluationJobArn"] in json.dumps(shown["evaluations"]), shown["evaluations"]

            # 4. A second upload: version 2, promoted only if the gate's comparison with version 1
            # says it is better. A tiny model may go either way: what the registry shows must match
            # what the function decided (both ways are unit-tested with a fixed evaluation).
            second = pipeline_run(args, data_dir, tmp, cli, sfn, bedrock, machine, 3, "more_training_data.jsonl",
                                  "Reply", {first["mail"]})
            reg = second["registry"]
            assert reg["version"] == 2 and reg["holderVersion"] == 1, reg
            assert isinstance(reg["promoted"], bool) and reg["decision"], reg
            comparison = reg["comparison"]
            assert bedrock.get_evaluation_job(jobIdentifier=comparison["evaluationJobArn"])["status"] == "Completed"
            statuses = {p["ModelPackageVersion"]: p["ModelApprovalStatus"]
                        for p in sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]}
            assert statuses[1] == "Approved", statuses
            assert statuses[2] == ("Approved" if reg["promoted"] else "PendingManualApproval"), (statuses, reg)
            moves = registry_alias_history(args.lathe, data_dir)
            expected = [(0, 1), (1, 2)] if reg["promoted"] else [(0, 1)]
            assert [(m["fromVersion"], m["toVersion"]) for m in moves] == expected, (moves, reg)
            assert all(m["actor"] == "lathe:register-model-version" for m in moves), moves
            if reg["promoted"]:
                assert moves[-1]["reason"] == reg["decision"], (moves, reg)
            print("stepfunctions_pipeline_test: version 1 overallScore %s; version 2 %s (%s vs %s on %s): %s" % (
                first["evaluation"]["overallScore"], "promoted" if reg["promoted"] else "kept out",
                comparison["overallScore"], comparison["holderScore"], comparison["testSet"], reg["decision"]))
            print("stepfunctions_pipeline_test: OK")
        except BaseException:
            print(server.tail(), file=sys.stderr)
            raise
        finally:
            if server.proc.poll() is None:
                server.stop()


if __name__ == "__main__":
    main()
