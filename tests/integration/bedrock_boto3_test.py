#!/usr/bin/env python3
"""The Bedrock tutorials' boto3 calls, unmodified, against a real `lathe serve`.

Run by ctest (tests/CMakeLists.txt) as:
  bedrock_boto3_test.py --lathe build/lathe --home DIR [--restart]
DIR caches the small default model between runs. Exit 77 (skipped) when boto3 is missing.

The default test walks the whole workflow: foundation models, a fine-tuning job on file data,
metrics, custom models, provisioned throughput, invocation, tags, error cases, cleanup.
--restart kills the server with SIGKILL while a job trains, starts it again, and expects the job
to resume from its checkpoint and complete.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, Server, expect_error, forget_caller_aws_settings, wait_for  # exits 77 without boto3

import boto3

KEY_ID, SECRET = "LATHETESTKEY000001", "lathe-test-secret-0123456789abcdefghijklmn"


def start_server(args, tmp):
    """`lathe serve` on TMP/data, and AWS_ENDPOINT_URL set to it: what users set; boto3 reads it."""
    # The small default model is built once into HOME and served from there ("models" in the
    # config overrides where lathe.default-v1 comes from). Jobs may read and write only under
    # fileRoots: here the test's temporary folder.
    config = {"models": {"lathe.default-v1": os.path.join(args.home, "models", "lathe-default")}, "fileRoots": [tmp]}
    server = Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET), config=config,
                    home=args.home).start()
    os.environ["AWS_ENDPOINT_URL"] = server.url
    return server


def clients(secret=SECRET):
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=secret, region_name="us-east-1")
    return session.client("bedrock", config=NO_RETRY), session.client("bedrock-runtime", config=NO_RETRY)


def write_dataset(folder):
    """A small new domain: a bank's support answers, as prompt/completion records."""
    topics = [("reset my card PIN", "Open the app, choose Cards, then Reset PIN."),
              ("report a lost card", "Call 0800 123 456 at once; we block the card."),
              ("order a new chequebook", "Choose Accounts, then Order chequebook."),
              ("change my address", "Go to Profile, then Address, and save it."),
              ("see my statement", "Choose Accounts, then Statements, then the month.")]
    train, val = [], []
    for i in range(40):
        q, a = topics[i % len(topics)]
        rec = {"prompt": "Customer: how do I %s? (%d)\nAgent:" % (q, i), "completion": " " + a}
        (val if i % 8 == 7 else train).append(rec)
    paths = []
    for name, rows in (("train.jsonl", train), ("validation.jsonl", val)):
        p = os.path.join(folder, name)
        with open(p, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        paths.append(p)
    return paths


def create_job(bedrock, name, train, val, out, **hp):
    params = {"epochCount": "2", "batchSize": "4", "learningRate": "0.003"}
    params.update(hp)
    return bedrock.create_model_customization_job(
        jobName=name, customModelName=name + "-model",
        roleArn="arn:aws:iam::123456789012:role/BedrockFineTuningRole",
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": "file://" + train},
        validationDataConfig={"validators": [{"s3Uri": "file://" + val}]},
        outputDataConfig={"s3Uri": "file://" + out},
        hyperParameters=params)["jobArn"]


def workflow(args, tmp):
    with start_server(args, tmp):
        bedrock, runtime = clients()
        # The tutorial's first call.
        models = bedrock.list_foundation_models(byCustomizationType="FINE_TUNING")["modelSummaries"]
        ids = {m["modelId"] for m in models}
        for tutorial_id in ("amazon.titan-text-express-v1", "anthropic.claude-3-haiku-20240307-v1:0", "lathe.default-v1"):
            assert tutorial_id in ids, ids
        details = bedrock.get_foundation_model(modelIdentifier="lathe.default-v1")["modelDetails"]
        assert details["modelId"] == "lathe.default-v1" and "FINE_TUNING" in details["customizationsSupported"]

        train, val = write_dataset(tmp)
        out = os.path.join(tmp, "output")
        job_arn = create_job(bedrock, "support-ft", train, val, out)
        assert ":model-customization-job/amazon.titan-text-express-v1/" in job_arn, job_arn

        # Error cases, as AWS answers them.
        expect_error("ConflictException", 400, create_job, bedrock, "support-ft", train, val, out)
        msg = expect_error("ValidationException", 400, create_job, bedrock, "bad-hp", train, val, out, epochCount="0")
        assert "epochCount" in msg, msg
        expect_error("ResourceNotFoundException", 404, bedrock.get_model_customization_job, jobIdentifier="no-such-job")
        forged, _ = clients(secret="not-the-secret-at-all-0000000000000000000")
        # Files outside fileRoots: one answer whether or not they exist, nothing created.
        outside = expect_error("ValidationException", 400, create_job, bedrock, "outside", "/etc/passwd", val, out)
        missing = expect_error("ValidationException", 400, create_job, bedrock, "outside", "/etc/no-such", val, out)
        assert "not one this server may read" in outside and "root:" not in outside, outside
        assert outside.replace("/etc/passwd", "X") == missing.replace("/etc/no-such", "X"), (outside, missing)
        expect_error("ValidationException", 400, create_job, bedrock, "outside", train, val, "/etc/lathe-out")
        assert not os.path.exists("/etc/lathe-out")
        expect_error("InvalidSignatureException", 403, forged.list_foundation_models)

        job = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=job_arn),
                       lambda r: r["status"] not in ("InProgress",), 150, "the job to finish")
        assert job["status"] == "Completed", job
        assert job["trainingMetrics"]["trainingLoss"] > 0, job
        assert job["validationMetrics"][0]["validationLoss"] > 0, job
        assert job["statusDetails"]["trainingDetails"]["status"] == "Completed", job["statusDetails"]
        job_id = job_arn.rsplit("/", 1)[1]
        csv = os.path.join(out, "model-customization-job-" + job_id, "training_artifacts",
                           "step_wise_training_metrics.csv")
        with open(csv) as f:
            assert f.readline().strip() == "step_number,epoch_number,training_loss,perplexity"
            assert len(f.readlines()) >= 2
        expect_error("ConflictException", 400, bedrock.stop_model_customization_job, jobIdentifier=job_arn)
        listed = bedrock.list_model_customization_jobs(statusEquals="Completed")["modelCustomizationJobSummaries"]
        assert [j["jobArn"] for j in listed] == [job_arn], listed

        model_arn = job["outputModelArn"]
        custom = bedrock.list_custom_models()["modelSummaries"]
        assert [m["modelArn"] for m in custom] == [model_arn], custom
        assert bedrock.get_custom_model(modelIdentifier=model_arn)["modelName"] == "support-ft-model"

        pt_arn = bedrock.create_provisioned_model_throughput(
            modelUnits=1, provisionedModelName="support-pt", modelId=model_arn)["provisionedModelArn"]
        pt = wait_for(lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=pt_arn),
                      lambda r: r["status"] != "Creating", 60, "provisioned throughput")
        assert pt["status"] == "InService", pt

        # The tutorial's invocation, on the fine-tuned model and on the base model.
        body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 40,
                           "messages": [{"role": "user", "content": "How do I reset my card PIN?"}],
                           "temperature": 0.7})
        answer = json.loads(runtime.invoke_model(modelId=pt_arn, body=body)["body"].read())
        assert answer["type"] == "message" and answer["usage"]["output_tokens"] > 0, answer
        assert isinstance(answer["content"][0]["text"], str)
        titan = json.loads(runtime.invoke_model(
            modelId="amazon.titan-text-express-v1",
            body=json.dumps({"inputText": "Customer: how do I reset my card PIN?\nAgent:",
                             "textGenerationConfig": {"maxTokenCount": 20, "temperature": 0}}))["body"].read())
        assert titan["results"][0]["tokenCount"] > 0 and titan["inputTextTokenCount"] > 0, titan
        tuned = json.loads(runtime.invoke_model(
            modelId=pt_arn,
            body=json.dumps({"inputText": "Customer: how do I reset my card PIN? (0)\nAgent:",
                             "textGenerationConfig": {"maxTokenCount": 20, "temperature": 0}}))["body"].read())
        print("base      :", titan["results"][0]["outputText"].strip()[:70])
        print("fine-tuned:", tuned["results"][0]["outputText"].strip()[:70])
        conv = runtime.converse(modelId="amazon.titan-text-express-v1",
                                messages=[{"role": "user", "content": [{"text": "Hello"}]}],
                                inferenceConfig={"maxTokens": 10})
        assert conv["usage"]["outputTokens"] > 0 and conv["output"]["message"]["role"] == "assistant", conv
        expect_error("ValidationException", 400, runtime.invoke_model, modelId="no.such-model", body=body)

        bedrock.tag_resource(resourceARN=model_arn, tags=[{"key": "team", "value": "support"}])
        assert bedrock.list_tags_for_resource(resourceARN=model_arn)["tags"] == [{"key": "team", "value": "support"}]
        expect_error("TooManyTagsException", 400, bedrock.tag_resource, resourceARN=model_arn,
                     tags=[{"key": "k%d" % i, "value": "v"} for i in range(201)])
        bedrock.untag_resource(resourceARN=model_arn, tagKeys=["team"])
        assert bedrock.list_tags_for_resource(resourceARN=model_arn)["tags"] == []

        # Invalid data fails the job in its validation phase, naming the file and the line.
        bad = os.path.join(tmp, "train-bad.jsonl")
        with open(bad, "w") as f:
            f.write('{"prompt": "a", "completion": "b"}\n' * 2 + '{"prompt": "a", "completion": }\n')
        bad_arn = create_job(bedrock, "bad-data", bad, val, out)
        failed = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=bad_arn),
                          lambda r: r["status"] != "InProgress", 30, "the bad-data job")
        assert failed["status"] == "Failed", failed
        assert bad + ":3:" in failed["failureMessage"], failed["failureMessage"]
        assert failed["statusDetails"]["validationDetails"]["status"] == "Failed", failed["statusDetails"]

        # A FINE_TUNING job refuses continued pre-training records, in its validation phase.
        cpt = os.path.join(tmp, "cpt.jsonl")
        with open(cpt, "w") as f:
            f.writelines(json.dumps({"input": "Our branch opens at nine. %d" % i}) + "\n" for i in range(10))
        cpt_arn = create_job(bedrock, "cpt-as-ft", cpt, val, out)
        cpt_job = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=cpt_arn),
                           lambda r: r["status"] != "InProgress", 30, "the cpt-as-ft job")
        assert cpt_job["status"] == "Failed" and "CONTINUED_PRE_TRAINING" in cpt_job["failureMessage"], cpt_job

        # Stop takes effect within 5 s and keeps the metrics so far.
        long_arn = create_job(bedrock, "long-job", train, val, out, epochCount="50", batchSize="1")
        # A job still queued behind it stops at once: there is nothing to interrupt.
        queued_arn = create_job(bedrock, "queued-job", train, val, out)
        bedrock.stop_model_customization_job(jobIdentifier=queued_arn)
        assert bedrock.get_model_customization_job(jobIdentifier=queued_arn)["status"] == "Stopped"
        wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=long_arn),
                 lambda r: "trainingMetrics" in r, 60, "training to start")
        stop_at = time.time()
        bedrock.stop_model_customization_job(jobIdentifier=long_arn)
        stopped = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=long_arn),
                           lambda r: r["status"] not in ("InProgress", "Stopping"), 10, "the stop")
        # The server SIGKILLs a worker 4 s after SIGINT; 8 s leaves room for a loaded machine.
        assert stopped["status"] == "Stopped" and time.time() - stop_at <= 8.0, (stopped, time.time() - stop_at)
        assert stopped["trainingMetrics"]["trainingLoss"] > 0, stopped
        # The worker stopped at a step boundary (SIGINT), not by SIGKILL: it wrote every step's row.
        long_csv = os.path.join(out, "model-customization-job-" + long_arn.rsplit("/", 1)[1], "training_artifacts",
                                "step_wise_training_metrics.csv")
        with open(long_csv) as f:
            assert len(f.read().strip().splitlines()) >= 2, "no step rows in " + long_csv
        expect_error("ConflictException", 400, bedrock.stop_model_customization_job, jobIdentifier=long_arn)
        assert len(bedrock.list_model_customization_jobs(maxResults=2)["modelCustomizationJobSummaries"]) == 2
        assert bedrock.list_model_customization_jobs(nameContains="long")["modelCustomizationJobSummaries"][0][
            "jobArn"] == long_arn

        # The tutorial's cleanup: the model can go only after the throughput that serves it.
        expect_error("ConflictException", 400, bedrock.delete_custom_model, modelIdentifier=model_arn)
        # Update swaps the model behind the same ARN (here back to the base model).
        bedrock.update_provisioned_model_throughput(provisionedModelId=pt_arn, desiredModelId="lathe.default-v1")
        swapped = wait_for(lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=pt_arn),
                           lambda r: r["status"] == "InService" and r["modelArn"].endswith("/lathe.default-v1"),
                           60, "the model swap")
        assert swapped["provisionedModelArn"] == pt_arn, swapped
        assert json.loads(runtime.invoke_model(modelId=pt_arn, body=body)["body"].read())["usage"]["output_tokens"] > 0
        bedrock.delete_provisioned_model_throughput(provisionedModelId=pt_arn)
        bedrock.delete_custom_model(modelIdentifier=model_arn)
        assert bedrock.list_custom_models()["modelSummaries"] == []
        assert bedrock.list_provisioned_model_throughputs()["provisionedModelSummaries"] == []

        # Continued pre-training on {"input"} records, as the automation tutorial's CPT variant.
        cpt_arn = bedrock.create_model_customization_job(
            jobName="cpt", customModelName="cpt-model", roleArn="arn:aws:iam::123456789012:role/x",
            baseModelIdentifier="amazon.titan-text-express-v1", customizationType="CONTINUED_PRE_TRAINING",
            trainingDataConfig={"s3Uri": "file://" + cpt}, outputDataConfig={"s3Uri": "file://" + out},
            hyperParameters={"epochCount": "1", "batchSize": "2"})["jobArn"]
        cpt_done = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=cpt_arn),
                            lambda r: r["status"] != "InProgress", 60, "the CPT job")
        assert cpt_done["status"] == "Completed" and cpt_done["customizationType"] == "CONTINUED_PRE_TRAINING", cpt_done
        bedrock.delete_custom_model(modelIdentifier=cpt_done["outputModelArn"])


def restart(args, tmp):
    data = os.path.join(tmp, "data")
    server = start_server(args, tmp)
    try:
        bedrock, _ = clients()
        train, val = write_dataset(tmp)
        job_arn = create_job(bedrock, "survives-kill", train, val, os.path.join(tmp, "output"),
                             epochCount="6", batchSize="2")
        job_id = job_arn.rsplit("/", 1)[1]
        checkpoint = os.path.join(data, "jobs", job_id, "run")
        # Kill the server once training has written a checkpoint.
        wait_for(lambda: os.path.exists(os.path.join(checkpoint, "checkpoint", "state.json")), bool, 120,
                 "a checkpoint")
        server.kill9()
        time.sleep(1)
        server = start_server(args, tmp)
        bedrock, _ = clients()
        job = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=job_arn),
                       lambda r: r["status"] != "InProgress", 150, "the resumed job")
        assert job["status"] == "Completed", job
        with open(os.path.join(data, "jobs", job_id, "train.log")) as f:
            log = f.read()
        assert "resuming from the checkpoint" in log, "the second worker did not resume:\n" + log[-2000:]
        assert not os.path.exists(os.path.join(checkpoint, "checkpoint")), "a finished job keeps its checkpoints"
        assert os.path.exists(os.path.join(checkpoint, "model", "model.safetensors"))
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--home", required=True, help="LATHE_HOME holding (or receiving) the small default model")
    p.add_argument("--restart", action="store_true")
    args = p.parse_args()
    # The server runs in the temporary folder: the paths it is given must not depend on this cwd.
    args.lathe, args.home = os.path.abspath(args.lathe), os.path.abspath(args.home)
    forget_caller_aws_settings()
    start = time.time()
    subprocess.run([args.lathe, "models", "build-default", "--data-dir", args.home, "--max-records", "4000"],
                   check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        # Resolved, as the server resolves the paths it is given (messages name those).
        (restart if args.restart else workflow)(args, os.path.realpath(tmp))
    print("OK in %.0f s" % (time.time() - start))


if __name__ == "__main__":
    main()
