#!/usr/bin/env python3
"""Buckets in another S3 service ("externalBuckets", docs/scale-out.md): a second `lathe serve` acts
as the remote S3, the first reads a job's training data from it and writes the job's outputs to it.

Run by ctest (tests/CMakeLists.txt) as:
  external_s3_test.py --lathe build/lathe --home DIR
DIR caches the small default model (shared with s3_jobs_test.py). Exit 77 (skipped) without boto3.
The npm `s3rver` the issue names "where installed" is not installed here: not covered.

Covers: a config with a mistake in an external bucket refused at start-up, naming the field; the
remote's bucket and training JSONL made with boto3; a fine-tuning job and an evaluation job on the
local server whose data and output are in the external bucket complete, their outputs appearing on
the remote (and not in the local store); jobs against a bucket configured with the wrong secret, an unknown key id
(from a credentials file) and a bucket the remote lacks fail naming SignatureDoesNotMatch,
InvalidAccessKeyId and NoSuchBucket; an S3 request to the local server for an external bucket is
answered PermanentRedirect, not served from the local store.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, Server, expect_error, forget_caller_aws_settings,  # exits 77 without boto3
                           small_default_model, wait_for)

import boto3

LOCAL_KEYS = ("LATHETESTKEY000018", "lathe-test-secret-external-s3-local-0123")
REMOTE_KEYS = ("LATHETESTKEY000019", "lathe-test-secret-external-s3-remote-456")
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/BedrockFineTuningRole"


def records(n):
    topics = [("reset my card PIN", "Open the app, choose Cards, then Reset PIN."),
              ("report a lost card", "Call 0800 123 456 at once; we block the card.")]
    out = []
    for i in range(n):
        question, answer = topics[i % 2]
        out.append(json.dumps({"prompt": "Customer: how do I %s? (%d)\nAgent:" % (question, i),
                               "completion": " " + answer}))
    return "\n".join(out) + "\n"


def create_job(bedrock, name, train_uri, output_uri):
    return bedrock.create_model_customization_job(
        jobName=name, customModelName=name + "-model", roleArn=ROLE, baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": train_uri}, outputDataConfig={"s3Uri": output_uri},
        hyperParameters={"epochCount": "1", "batchSize": "4", "learningRate": "0.003"})["jobArn"]


def wait_for_end(bedrock, arn, timeout):
    return wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=arn),
                    lambda job: job["status"] not in ("InProgress", "Stopping"), timeout, "the end of " + arn)


def clients(server, keys):
    session = boto3.session.Session(aws_access_key_id=keys[0], aws_secret_access_key=keys[1], region_name=REGION)
    return (session.client("s3", endpoint_url=server.url, config=NO_RETRY),
            session.client("bedrock", endpoint_url=server.url, config=NO_RETRY))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--home", required=True, help="LATHE_HOME holding (or receiving) the small default model")
    args = p.parse_args()
    args.lathe, args.home = os.path.abspath(args.lathe), os.path.abspath(args.home)
    forget_caller_aws_settings()
    models = small_default_model(args.lathe, args.home)  # built once into HOME
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        # 1. A mistake in an external bucket stops `lathe serve` at start-up, naming the field.
        bad = os.path.join(tmp, "bad-config.json")
        with open(bad, "w") as f:
            json.dump({"externalBuckets": {"ext-data": {"endpoint": "ftp://remote", "accessKeyId": "A",
                                                        "secretAccessKey": "hunter2"}}}, f)
        r = subprocess.run([args.lathe, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(tmp, "bad"),
                            "--config", bad], capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, (r.stdout, r.stderr)
        assert '"externalBuckets".ext-data.endpoint must be an http://' in r.stderr, r.stderr
        assert "hunter2" not in r.stderr, r.stderr

        with Server(args.lathe, os.path.join(tmp, "remote"), keys=REMOTE_KEYS).start() as remote:
            remote_s3, _ = clients(remote, REMOTE_KEYS)
            remote_s3.create_bucket(Bucket="ext-data")
            remote_s3.create_bucket(Bucket="ext-badsecret")
            train_path = os.path.join(tmp, "train.jsonl")
            with open(train_path, "w") as f:
                f.write(records(16))
            remote_s3.upload_file(train_path, "ext-data", "training-data/train.jsonl")
            remote_s3.upload_file(train_path, "ext-badsecret", "train.jsonl")

            # Keys three ways: environment variables, inline (a wrong secret), a credentials file
            # (a key id the remote does not know).
            os.environ["LATHE_EXT_TEST_KEY_ID"], os.environ["LATHE_EXT_TEST_SECRET"] = REMOTE_KEYS
            unknown_keys = os.path.join(tmp, "unknown-keys.json")
            with open(unknown_keys, "w") as f:
                json.dump({"accessKeyId": "AKIDNOTKNOWNATALL00", "secretAccessKey": "whatever"}, f)
            external = {
                "ext-data": {"endpoint": remote.url, "region": REGION, "accessKeyIdEnv": "LATHE_EXT_TEST_KEY_ID",
                             "secretAccessKeyEnv": "LATHE_EXT_TEST_SECRET"},
                "ext-badsecret": {"endpoint": remote.url, "accessKeyId": REMOTE_KEYS[0],
                                  "secretAccessKey": "not-the-remote-secret"},
                "ext-badkey": {"endpoint": remote.url, "credentialsFile": unknown_keys},
                "ext-missing": {"endpoint": remote.url, "accessKeyId": REMOTE_KEYS[0],
                                "secretAccessKey": REMOTE_KEYS[1]},
            }
            config = {"models": models, "fileRoots": [tmp], "externalBuckets": external}
            with Server(args.lathe, os.path.join(tmp, "local"), keys=LOCAL_KEYS, config=config,
                        home=args.home).start() as local:
                local_s3, bedrock = clients(local, LOCAL_KEYS)
                data = "s3://ext-data/training-data/train.jsonl"
                # The failing jobs first: they fail in validation, before the training job's turn.
                failing = {
                    "SignatureDoesNotMatch": create_job(bedrock, "ext-bad-secret", "s3://ext-badsecret/train.jsonl",
                                                        "s3://ext-data/output/"),
                    "InvalidAccessKeyId": create_job(bedrock, "ext-bad-key", data, "s3://ext-badkey/output/"),
                    "NoSuchBucket": create_job(bedrock, "ext-missing", data, "s3://ext-missing/output/"),
                }
                arn = create_job(bedrock, "ext-train", data, "s3://ext-data/output/")

                for code, failed_arn in failing.items():
                    job = wait_for_end(bedrock, failed_arn, 60)
                    assert job["status"] == "Failed", job
                    assert code in job["failureMessage"], (code, job["failureMessage"])
                    assert "not-the-remote-secret" not in job["failureMessage"], job["failureMessage"]

                # 2. Data read from the remote, outputs written to it.
                job = wait_for_end(bedrock, arn, 240)
                assert job["status"] == "Completed", (job, local.tail())
                folder = "output/model-customization-job-%s/" % arn.rsplit("/", 1)[1]
                listed = remote_s3.list_objects_v2(Bucket="ext-data", Prefix=folder)
                keys = [o["Key"] for o in listed.get("Contents", [])]
                metrics_key = folder + "training_artifacts/step_wise_training_metrics.csv"
                assert metrics_key in keys, keys
                metrics = remote_s3.get_object(Bucket="ext-data", Key=metrics_key)
                assert metrics["ContentType"] == "text/csv", metrics["ContentType"]
                lines = metrics["Body"].read().decode().splitlines()
                assert lines[0] == "step_number,epoch_number,training_loss,perplexity", lines
                assert len(lines) >= 2, lines

                # 3. An evaluation job reads its dataset from the external bucket and writes its
                # results there (Bedrock's layout under <s3Uri>/<jobName>/<jobId>/).
                cases = [{"prompt": "Customer: how do I reset my card PIN?\nAgent:",
                          "referenceResponse": "Open the app, choose Cards, then Reset PIN."}] * 2
                remote_s3.put_object(Bucket="ext-data", Key="eval/cases.jsonl",
                                     Body="".join(json.dumps(c) + "\n" for c in cases).encode())
                params = json.dumps({"inferenceConfig": {"maxTokens": 8, "temperature": 0}})
                eval_arn = bedrock.create_evaluation_job(
                    jobName="ext-eval", roleArn=ROLE,
                    evaluationConfig={"automated": {"datasetMetricConfigs": [{
                        "taskType": "QuestionAndAnswer",
                        "dataset": {"name": "cases", "datasetLocation": {"s3Uri": "s3://ext-data/eval/cases.jsonl"}},
                        "metricNames": ["Builtin.Accuracy"]}]}},
                    inferenceConfig={"models": [{"bedrockModel": {"modelIdentifier": "amazon.titan-text-express-v1",
                                                                  "inferenceParams": params}}]},
                    outputDataConfig={"s3Uri": "s3://ext-data/eval-output/"})["jobArn"]
                evaluation = wait_for(lambda: bedrock.get_evaluation_job(jobIdentifier=eval_arn),
                                      lambda j: j["status"] not in ("InProgress", "Stopping"), 120, "the evaluation")
                assert evaluation["status"] == "Completed", evaluation
                prefix = "eval-output/ext-eval/%s/" % eval_arn.rsplit("/", 1)[1]
                results = [o["Key"] for o in remote_s3.list_objects_v2(Bucket="ext-data", Prefix=prefix).get("Contents", [])]
                assert any(k.endswith("_output.jsonl") for k in results), results

                # 4. The local store holds none of it, and does not pretend to serve the bucket.
                assert "ext-data" not in [b["Name"] for b in local_s3.list_buckets()["Buckets"]]
                message = expect_error("PermanentRedirect", 301, local_s3.get_object, Bucket="ext-data", Key=metrics_key)
                assert remote.url in message, message
                expect_error("PermanentRedirect", 301, local_s3.create_bucket, Bucket="ext-data")
    print("external s3: OK")


if __name__ == "__main__":
    main()
