#!/usr/bin/env python3
"""Bedrock's model evaluation jobs against a real `lathe serve`, and the tutorials' evaluation
scripts run unmodified but for the model ARN they tell the user to fill in.

Run by ctest (tests/CMakeLists.txt) as:
  eval_jobs_test.py --lathe build/lathe [--shared ../shared]
Exit 77 (skipped) when boto3, the AWS CLI or ../shared (stories260K, the tutorials) is missing.

The models are the real stories260K checkpoint (imported with `lathe models import`) as
lathe.default-v1 (so the tutorials' amazon.titan-text-express-v1 and Claude ids answer with it),
a custom model fine-tuned from it in seconds, and a provisioned throughput serving that.
 1. boto3: create_evaluation_job (202) base vs the provisioned throughput on a custom dataset in
    S3, get / list, the results read back from S3 in Bedrock's layout, stop, batch_delete;
 2. the AWS CLI: aws bedrock create-evaluation-job / get / list / batch-delete;
 3. bad input: a malformed dataset (Failed, failureMessages naming file:line), a missing dataset
    object, a model that does not exist, unsupported types and metrics, oversize and hostile names;
 4. the guide's ModelEvaluator and Lab 4's evaluate_models.py, run as users run them;
 5. the built-in evaluate-finetuned-model on the custom model (its validation data: out of sample);
 6. kill -9 of the server with a job in progress: it completes after the restart.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, AwsCli, Server, expect_error, forget_caller_aws_settings,  # exits 77 without boto3
                           require_aws_cli, tutorial_block, wait_for)

import boto3

KEY_ID, SECRET = "LATHETESTKEY000041", "lathe-test-secret-evaljobs-0123456789abcd"
REGION = "ap-south-1"  # Lab 4's
BUCKET = "lathe-eval-jobs-test"
ROLE = "arn:aws:iam::123456789012:role/BedrockEvaluationRole"
BASE = "amazon.titan-text-express-v1"
PARAMS = json.dumps({"inferenceConfig": {"maxTokens": 24, "temperature": 0}})

CASES = [
    {"prompt": "Customer: how do I reset my card PIN?\nAgent:", "referenceResponse": "Open the app, choose Cards, then Reset PIN.",
     "category": "cards"},
    {"prompt": "Customer: how do I report a lost card?\nAgent:", "referenceResponse": "Call 0800 123 456 at once.",
     "category": "cards"},
    {"prompt": "Customer: how do I change my address?\nAgent:", "expectedKeywords": ["Profile", "Address"],
     "category": "account"},
    {"prompt": "Once upon a time", "referenceResponse": "there was a little girl.", "category": "story",
     "expected_theme": "kept in inputRecord"},
]


def records(n, offset=0):
    topics = [("reset my card PIN", "Open the app, choose Cards, then Reset PIN."),
              ("report a lost card", "Call 0800 123 456 at once; we block the card."),
              ("change my address", "Go to Profile, then Address, and save it.")]
    out = []
    for i in range(offset, offset + n):
        q, a = topics[i % len(topics)]
        out.append(json.dumps({"prompt": "Customer: how do I %s? (%d)\nAgent:" % (q, i), "completion": " " + a}))
    return "\n".join(out) + "\n"


def job_request(name, dataset_uri, models, output="s3://%s/eval-output/" % BUCKET,
                metrics=("Builtin.Accuracy", "Lathe.rougeL")):
    return dict(jobName=name, roleArn=ROLE,
                evaluationConfig={"automated": {"datasetMetricConfigs": [{
                    "taskType": "QuestionAndAnswer",
                    "dataset": {"name": "banking", "datasetLocation": {"s3Uri": dataset_uri}},
                    "metricNames": list(metrics)}]}},
                inferenceConfig={"models": [{"bedrockModel": {"modelIdentifier": m, "inferenceParams": PARAMS}}
                                            for m in models]},
                outputDataConfig={"s3Uri": output})


def ended(bedrock, arn, timeout=180):
    return wait_for(lambda: bedrock.get_evaluation_job(jobIdentifier=arn),
                    lambda j: j["status"] not in ("InProgress", "Stopping"), timeout, "evaluation job " + arn)


def output_lines(s3, prefix):
    """{key: [parsed line, ...]} of every *_output.jsonl under prefix, and the other keys."""
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    lines = {}
    for k in keys:
        if k.endswith("_output.jsonl"):
            body = s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode()
            lines[k] = [json.loads(line) for line in body.splitlines()]
    return lines, keys


def boto3_part(s3, bedrock, pt_arn, dataset_uri):
    req = job_request("banking-eval", dataset_uri, [BASE, pt_arn])
    resp = bedrock.create_evaluation_job(**req)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202, resp
    arn = resp["jobArn"]
    assert re.fullmatch(r"arn:aws:bedrock:%s:\d{12}:evaluation-job/[a-z0-9]{12}" % REGION, arn), arn
    job = ended(bedrock, arn)
    assert job["status"] == "Completed", job
    assert job["jobType"] == "Automated" and job["jobName"] == "banking-eval", job
    assert job["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["metricNames"] == \
        ["Builtin.Accuracy", "Lathe.rougeL"], job
    listed = bedrock.list_evaluation_jobs(statusEquals="Completed")["jobSummaries"]
    assert [j["jobArn"] for j in listed] == [arn], listed
    assert listed[0]["modelIdentifiers"] == [BASE, pt_arn] and listed[0]["evaluationTaskTypes"] == ["QuestionAndAnswer"]

    # Bedrock's layout: <s3Uri>/<jobName>/<jobId>/models/<model>/taskTypes/<task>/datasets/<dataset>/<uuid>_output.jsonl
    job_id = arn.rsplit("/", 1)[1]
    lines, keys = output_lines(s3, "eval-output/banking-eval/%s/" % job_id)
    assert len(lines) == 2, keys
    for key, rows in lines.items():
        m = re.fullmatch(r"eval-output/banking-eval/%s/models/([^/]+)/taskTypes/QuestionAndAnswer/datasets/banking/"
                         r"[0-9a-f-]{36}_output\.jsonl" % job_id, key)
        assert m, key
        assert len(rows) == len(CASES), rows
        for row, case in zip(rows, CASES):
            assert row["inputRecord"] == case, row
            response = row["modelResponses"][0]
            assert response["modelIdentifier"] in (BASE, pt_arn) and isinstance(response["response"], str), row
            scores = {s["metricName"]: s["result"] for s in row["automatedEvaluationResult"]["scores"]}
            assert 0 <= scores["Builtin.Accuracy"] <= 1, row
            if "referenceResponse" in case:
                assert 0 <= scores["Lathe.rougeL"] <= 1, row
    for name in ("report.json", "report.md", "report.html"):
        assert "eval-output/banking-eval/%s/%s" % (job_id, name) in keys, keys
    report = json.loads(s3.get_object(Bucket=BUCKET, Key="eval-output/banking-eval/%s/report.json" % job_id)["Body"].read())
    assert isinstance(report, dict) and report, report

    # A stop: the job is queued or running when asked; either way it ends Stopped.
    stop_arn = bedrock.create_evaluation_job(**job_request("stop-me", dataset_uri, [BASE, pt_arn]))["jobArn"]
    bedrock.stop_evaluation_job(jobIdentifier=stop_arn)
    assert ended(bedrock, stop_arn)["status"] == "Stopped"
    expect_error("ConflictException", 400, bedrock.stop_evaluation_job, jobIdentifier=arn)  # Completed

    missing = "arn:aws:bedrock:%s:123456789012:evaluation-job/000000000000" % REGION
    deleted = bedrock.batch_delete_evaluation_job(jobIdentifiers=[arn, stop_arn, missing])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202, deleted
    assert sorted(j["jobIdentifier"] for j in deleted["evaluationJobs"]) == sorted([arn, stop_arn]), deleted
    assert all(j["jobStatus"] == "Deleting" for j in deleted["evaluationJobs"]), deleted
    assert [(e["jobIdentifier"], e["code"]) for e in deleted["errors"]] == [(missing, "ResourceNotFoundException")]
    expect_error("ResourceNotFoundException", 404, bedrock.get_evaluation_job, jobIdentifier=arn)
    assert bedrock.list_evaluation_jobs()["jobSummaries"] == []
    print("ok: boto3 create (202), get, list, results in Bedrock's S3 layout, stop, batch delete")


def cli_part(cli, tmp, dataset_uri):
    req = job_request("cli-eval", dataset_uri, [BASE], output="s3://%s/cli-output" % BUCKET,
                      metrics=("Builtin.Accuracy", "Lathe.keywordCoverage"))
    with open(os.path.join(tmp, "eval-job.json"), "w") as f:
        json.dump(req, f)
    arn = json.loads(cli.run("bedrock", "create-evaluation-job", "--cli-input-json", "file://eval-job.json").stdout)["jobArn"]
    job = wait_for(lambda: json.loads(cli.run("bedrock", "get-evaluation-job", "--job-identifier", arn).stdout),
                   lambda j: j["status"] not in ("InProgress", "Stopping"), 180, "cli job")
    assert job["status"] == "Completed", job
    listed = json.loads(cli.run("bedrock", "list-evaluation-jobs", "--name-contains", "cli").stdout)["jobSummaries"]
    assert [j["jobName"] for j in listed] == ["cli-eval"], listed
    ls = cli.run("s3", "ls", "--recursive", "s3://%s/cli-output/cli-eval/" % BUCKET).stdout
    assert "_output.jsonl" in ls and "report.html" in ls, ls
    out = json.loads(cli.run("bedrock", "batch-delete-evaluation-job", "--job-identifiers", arn).stdout)
    assert out["evaluationJobs"] == [{"jobIdentifier": arn, "jobStatus": "Deleting"}], out
    print("ok: aws bedrock create-evaluation-job / get / list / batch-delete, aws s3 ls of the results")


def bad_input_part(s3, bedrock, dataset_uri):
    s3.put_object(Bucket=BUCKET, Key="eval/broken.jsonl",
                  Body=b'{"prompt": "fine"}\nnot json\n{"referenceResponse": "no prompt"}\n')
    arn = bedrock.create_evaluation_job(**job_request("broken-data", "s3://%s/eval/broken.jsonl" % BUCKET, [BASE]))["jobArn"]
    job = ended(bedrock, arn)
    assert job["status"] == "Failed", job
    messages = job["failureMessages"]
    assert any("broken.jsonl:2" in m for m in messages) and any("broken.jsonl:3" in m for m in messages), messages
    arn = bedrock.create_evaluation_job(**job_request("missing-data", "s3://%s/eval/none.jsonl" % BUCKET, [BASE]))["jobArn"]
    job = ended(bedrock, arn)
    assert job["status"] == "Failed" and "Could not validate GetObject" in job["failureMessages"][0], job

    msg = expect_error("ResourceNotFoundException", 404, bedrock.create_evaluation_job,
                       **job_request("no-model", dataset_uri, [BASE, "amazon.no-such-model-v9"]))
    assert "amazon.no-such-model-v9" in msg, msg
    human = job_request("human", dataset_uri, [BASE])
    human["evaluationConfig"] = {"human": {"datasetMetricConfigs": human["evaluationConfig"]["automated"]["datasetMetricConfigs"]}}
    assert "human" in expect_error("ValidationException", 400, bedrock.create_evaluation_job, **human)
    msg = expect_error("ValidationException", 400, bedrock.create_evaluation_job,
                       **job_request("toxic", dataset_uri, [BASE], metrics=("Builtin.Toxicity",)))
    assert "Builtin.Accuracy" in msg, msg  # names what lathe computes
    for name in ("a" * 64, "../../etc", "UPPER", "bad name"):
        expect_error("ValidationException", 400, bedrock.create_evaluation_job, **job_request(name, dataset_uri, [BASE]))
    long_params = job_request("long-params", dataset_uri, [BASE])
    long_params["inferenceConfig"]["models"][0]["bedrockModel"]["inferenceParams"] = " " * 1024
    expect_error("ValidationException", 400, bedrock.create_evaluation_job, **long_params)
    expect_error("ConflictException", 400, bedrock.create_evaluation_job,
                 **job_request("broken-data", dataset_uri, [BASE]))  # the name is taken
    expect_error("ResourceNotFoundException", 404, bedrock.get_evaluation_job,
                 jobIdentifier="arn:aws:bedrock:%s:123456789012:evaluation-job/zzzzzzzzzzzz" % REGION)
    missing = "arn:aws:bedrock:%s:123456789012:evaluation-job/zzzzzzzzzzzz" % REGION
    expect_error("ResourceNotFoundException", 404, bedrock.stop_evaluation_job, jobIdentifier=missing)
    expect_error("ValidationException", 400, bedrock.get_evaluation_job, jobIdentifier="x" * 1012)
    expect_error("ValidationException", 400, bedrock.batch_delete_evaluation_job, jobIdentifiers=[missing] * 26)
    expect_error("ValidationException", 400, bedrock.list_evaluation_jobs, statusEquals="Finished")
    print("ok: malformed and missing datasets fail with what and where; bad models, types, metrics, names and "
          "identifiers refused")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..",
                                                    "shared"))
    args = p.parse_args()
    require_aws_cli()
    stories = os.path.join(args.shared, "models", "stories260K")
    if not os.path.isdir(stories) or not os.path.isdir(os.path.join(args.shared, "seeds")):
        print("SKIP: %s lacks models/stories260K or seeds/ (the tutorials)" % os.path.abspath(args.shared))
        sys.exit(77)
    args.lathe = os.path.abspath(args.lathe)
    forget_caller_aws_settings("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        model = os.path.join(tmp, "stories260K")
        subprocess.run([args.lathe, "models", "import", os.path.join(stories, "stories260K.bin"), "--tokenizer",
                        os.path.join(stories, "tok512.model"), "--out", model], check=True, stdout=subprocess.DEVNULL)
        config = {"models": {"lathe.default-v1": model}, "fileRoots": [tmp], "region": REGION}
        server = Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET), config=config).start()
        try:
            session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
            client = lambda name: session.client(name, endpoint_url=server.url, config=NO_RETRY)  # noqa: E731
            s3, bedrock, lam = client("s3"), client("bedrock"), client("lambda")
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.put_object(Bucket=BUCKET, Key="eval/banking.jsonl", Body="".join(json.dumps(c) + "\n" for c in CASES).encode())
            dataset_uri = "s3://%s/eval/banking.jsonl" % BUCKET
            s3.put_object(Bucket=BUCKET, Key="train/train.jsonl", Body=records(24).encode())
            s3.put_object(Bucket=BUCKET, Key="train/validation.jsonl", Body=records(6, offset=100).encode())

            # The model under test: fine-tuned from stories260K in seconds, served by a provisioned throughput.
            job_arn = bedrock.create_model_customization_job(
                jobName="support-ft", customModelName="support-model", roleArn=ROLE, baseModelIdentifier=BASE,
                trainingDataConfig={"s3Uri": "s3://%s/train/train.jsonl" % BUCKET},
                validationDataConfig={"validators": [{"s3Uri": "s3://%s/train/validation.jsonl" % BUCKET}]},
                outputDataConfig={"s3Uri": "s3://%s/ft-output/" % BUCKET},
                hyperParameters={"epochCount": "1", "batchSize": "4", "learningRate": "0.003"})["jobArn"]
            trained = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=job_arn),
                               lambda j: j["status"] not in ("InProgress", "Stopping"), 240, "fine-tuning")
            assert trained["status"] == "Completed", trained
            custom_arn = trained["outputModelArn"]
            pt_arn = bedrock.create_provisioned_model_throughput(
                modelUnits=1, provisionedModelName="my-finetuned-model-pt", modelId=custom_arn)["provisionedModelArn"]
            pt = wait_for(lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=pt_arn),
                          lambda r: r["status"] != "Creating", 60, "provisioned throughput")
            assert pt["status"] == "InService", pt

            boto3_part(s3, bedrock, pt_arn, dataset_uri)
            cli = AwsCli(os.path.join(tmp, "aws-home"), server.url, (KEY_ID, SECRET), REGION, cwd=tmp)
            cli_part(cli, tmp, dataset_uri)
            bad_input_part(s3, bedrock, dataset_uri)
            tutorials_part(args, cli, tmp, custom_arn, pt_arn)
            builtin_part(lam, custom_arn)

            # 6. kill -9 while a job is queued or running: after the restart it runs again and completes.
            arn = bedrock.create_evaluation_job(**job_request("survives-kill", dataset_uri, [BASE, pt_arn]))["jobArn"]
            server.kill9()
            server = Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET), config=config).start()
            bedrock = client("bedrock")
            assert ended(bedrock, arn)["status"] == "Completed"
            lines, keys = output_lines(client("s3"), "eval-output/survives-kill/%s/" % arn.rsplit("/", 1)[1])
            assert len(lines) == 2 and all(len(rows) == len(CASES) for rows in lines.values()), keys
            print("ok: a job interrupted by kill -9 completes after the restart")
            print("eval_jobs_test: OK")
        except BaseException:
            print(server.tail(), file=sys.stderr)
            raise
        finally:
            if server.proc.poll() is None:
                server.stop()


def tutorials_part(args, cli, tmp, custom_arn, pt_arn):
    # The guide's ModelEvaluator with its test cases; its example custom_model_arn is a placeholder
    # ("custom-model/xyz") that the reader replaces with theirs.
    script, n = re.subn(r'custom_model_arn="[^"]*"', 'custom_model_arn="%s"' % custom_arn,
                        tutorial_block(args.shared, "### 3. Custom Evaluation Framework", "python",
                                       guide="bedrock-fine-tuning-guide.md"))
    assert n == 1, "the guide's custom_model_arn line was not found"
    with open(os.path.join(tmp, "model_evaluator.py"), "w", encoding="utf-8") as f:
        f.write(script)
    r = subprocess.run([sys.executable, "model_evaluator.py"], cwd=tmp, env=cli.env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "EVALUATION SUMMARY" in r.stdout and "Total Tests: 4" in r.stdout, r.stdout
    assert r.stdout.count("Custom Model Score:") == 4, r.stdout

    # Lab 4's evaluate_models.py with PROVISIONED_MODEL_ARN filled in, as the tutorial instructs.
    script, n = re.subn(r'(?m)^PROVISIONED_MODEL_ARN = "[^"]*"', 'PROVISIONED_MODEL_ARN = "%s"' % pt_arn,
                        tutorial_block(args.shared, "#### The Evaluation Script", "python"))
    assert n == 1, "the tutorial's PROVISIONED_MODEL_ARN line was not found"
    with open(os.path.join(tmp, "evaluate_models.py"), "w", encoding="utf-8") as f:
        f.write(script)
    r = subprocess.run([sys.executable, "evaluate_models.py"], cwd=tmp, env=cli.env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, (r.stdout, r.stderr)
    with open(os.path.join(tmp, "evaluation_report.json"), encoding="utf-8") as f:
        report = json.load(f)
    assert report["finetuned_model_arn"] == pt_arn and report["summary"]["total_tests"] == 4, report
    assert report["summary"]["in_domain_tests"] == 3 and report["summary"]["out_of_domain_tests"] == 1, report
    for row in report["results"]:
        for key in ("base_response", "finetuned_response"):
            assert not row[key].startswith("[Error invoking"), row
    print("ok: the guide's ModelEvaluator and Lab 4's evaluate_models.py ran unmodified and wrote their report")


def builtin_part(lam, custom_arn):
    lam.update_function_configuration(FunctionName="evaluate-finetuned-model",
                                      Environment={"Variables": {"MAX_TOKENS": "16"}})
    r = lam.invoke(FunctionName="evaluate-finetuned-model",
                   Payload=json.dumps({"customModelName": "support-model", "baseModelId": BASE}))
    payload = json.loads(r["Payload"].read())
    assert "FunctionError" not in r, payload
    assert isinstance(payload["overallScore"], (int, float)) and isinstance(payload["baselineScore"], (int, float)), payload
    assert payload["verdict"] in ("better", "worse", "no significant difference"), payload
    assert payload["testSet"] == {"s3Uri": "s3://%s/train/validation.jsonl" % BUCKET, "source": "validation",
                                  "inSample": False}, payload
    assert payload["customModelName"] == "support-model" and "Builtin.Accuracy" in payload["metrics"], payload
    assert payload["reportS3Uri"].startswith("s3://%s/evaluation/" % BUCKET), payload
    r = lam.invoke(FunctionName="evaluate-finetuned-model", Payload=json.dumps({"customModelName": "no-such-model"}))
    assert r.get("FunctionError") == "Unhandled", r
    print("ok: evaluate-finetuned-model on the custom model's validation data")


if __name__ == "__main__":
    main()
