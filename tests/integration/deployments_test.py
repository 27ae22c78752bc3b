#!/usr/bin/env python3
"""Bedrock's custom model deployments with boto3 and the AWS CLI against a real `lathe serve`, and
a deployment that follows a model registry alias through ten moves under load.

Run by ctest (tests/CMakeLists.txt) as:
  deployments_test.py --lathe build/lathe --shared ../shared
Exit 77 (skipped) when boto3, the AWS CLI or ../shared/models/stories260K is missing.

1. Two custom models fine-tuned from stories260K in seconds on different completions, so that at
   temperature 0 they answer differently; each one's answer is read once, directly.
2. boto3: create/get/list/update/delete a deployment of the first; InvokeModel and Converse on
   its ARN (the x-lathe-* headers); bad input; `aws bedrock list-custom-model-deployments`.
3. Both registered as versions of a group (boto3's sagemaker client); a deployment on
   "<group>:production"; threads invoke it continuously while `lathe registry alias set` moves the
   alias ten times: no request fails, every answer is one version's whole answer, and
   x-lathe-served-model names the version whose answer it is.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, AwsCli, Server, expect_error, import_stories260k, require_aws_cli,  # exits 77 without boto3
                           wait_for)

import boto3

KEY_ID, SECRET = "LATHETESTKEY000021", "lathe-test-secret-deployments-0123456789"
REGION, ACCOUNT = "us-east-1", "000000000000"
ROLE = "arn:aws:iam::%s:role/BedrockFineTuningRole" % ACCOUNT
GROUP = "banking-assistant"
PROMPT = "Question: what is the code word?\nAnswer:"
WORDS = {"alpha": " alpha alpha alpha.", "bravo": " bravo bravo bravo."}
INVOKE_BODY = json.dumps({"inputText": PROMPT, "textGenerationConfig": {"maxTokenCount": 12, "temperature": 0}})


def train(bedrock, tmp, word):
    """A custom model that answers PROMPT with WORDS[word] (stories260K, a few epochs)."""
    path = os.path.join(tmp, word + ".jsonl")
    with open(path, "w") as f:
        for i in range(32):
            f.write(json.dumps({"prompt": PROMPT if i % 2 == 0 else "Question: the code word, please?\nAnswer:",
                                "completion": WORDS[word]}) + "\n")
    arn = bedrock.create_model_customization_job(
        jobName="ft-" + word, customModelName="model-" + word, roleArn=ROLE, baseModelIdentifier="lathe.default-v1",
        trainingDataConfig={"s3Uri": "file://" + path}, outputDataConfig={"s3Uri": "file://" + tmp + "/out-" + word},
        hyperParameters={"epochCount": "4", "batchSize": "4", "learningRate": "0.01"})["jobArn"]
    return arn


def answer(runtime, model_id, user=None):
    """InvokeModel at temperature 0: (text, headers)."""
    kw = {"modelId": model_id, "body": INVOKE_BODY, "contentType": "application/json", "accept": "application/json"}
    r = runtime.invoke_model(**kw)
    text = json.loads(r["body"].read())["results"][0]["outputText"]
    return text, r["ResponseMetadata"]["HTTPHeaders"]


def registry(lathe, data, *argv):
    r = subprocess.run([lathe, "registry", *argv, "--data-dir", data, "--json"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, (argv, r.stdout, r.stderr)
    return json.loads(r.stdout)


def crud_part(bedrock, runtime, cli, model_a, model_b, known):
    arn = bedrock.create_custom_model_deployment(modelDeploymentName="bank-prod", modelArn=model_a,
                                                 description="the bank's assistant",
                                                 tags=[{"key": "team", "value": "ml"}])["customModelDeploymentArn"]
    assert arn.startswith("arn:aws:bedrock:%s:%s:custom-model-deployment/" % (REGION, ACCOUNT)), arn
    d = wait_for(lambda: bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn),
                 lambda r: r["status"] != "Creating", 60, "the deployment")
    assert d["status"] == "Active" and d["modelArn"] == model_a and d["modelDeploymentName"] == "bank-prod", d
    assert d["description"] == "the bank's assistant" and d["createdAt"], d
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "team", "value": "ml"}]
    listed = bedrock.list_custom_model_deployments(nameContains="bank", statusEquals="Active")
    assert [s["customModelDeploymentArn"] for s in listed["modelDeploymentSummaries"]] == [arn], listed
    assert listed["modelDeploymentSummaries"][0]["customModelDeploymentName"] == "bank-prod"
    assert bedrock.list_custom_model_deployments(modelArnEquals=model_b)["modelDeploymentSummaries"] == []

    # The ARN is a modelId: InvokeModel and Converse, with lathe's headers.
    text, headers = answer(runtime, arn)
    assert text == known["alpha"], (text, known)
    assert headers["x-lathe-variant"] == "champion" and headers["x-lathe-served-model"] == model_a, headers
    assert headers["x-lathe-response-id"].startswith("resp-"), headers
    conv = runtime.converse(modelId=arn, messages=[{"role": "user", "content": [{"text": "Hello"}]}],
                            inferenceConfig={"maxTokens": 8}, requestMetadata={"userId": "user-7"})
    assert conv["output"]["message"]["role"] == "assistant", conv
    assert conv["ResponseMetadata"]["HTTPHeaders"]["x-lathe-served-model"] == model_a
    assert answer(runtime, "bank-prod")[0] == known["alpha"]  # by name too

    # A custom model a deployment serves cannot be deleted.
    expect_error("ConflictException", 400, bedrock.delete_custom_model, modelIdentifier=model_a)

    # Update: the other model, without a failed request.
    bedrock.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=model_b)
    d = wait_for(lambda: bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn),
                 lambda r: r.get("updateDetails", {}).get("updateStatus") != "Updating", 60, "the update")
    assert d["updateDetails"] == {"modelArn": model_b, "updateStatus": "UpdateCompleted"}, d
    assert answer(runtime, arn)[0] == known["bravo"]

    # Bad input, as AWS answers it.
    expect_error("ConflictException", 400, bedrock.create_custom_model_deployment, modelDeploymentName="bank-prod",
                 modelArn=model_a)
    forged = "arn:aws:bedrock:%s:%s:custom-model/lathe.default-v1/zzzzzzzzzzzz" % (REGION, ACCOUNT)
    expect_error("ResourceNotFoundException", 404, bedrock.create_custom_model_deployment,
                 modelDeploymentName="forged", modelArn=forged)
    expect_error("ValidationException", 400, bedrock.create_custom_model_deployment,
                 modelDeploymentName="bad name!", modelArn=model_a)
    expect_error("ResourceNotFoundException", 404, bedrock.get_custom_model_deployment,
                 customModelDeploymentIdentifier="arn:aws:bedrock:%s:%s:custom-model-deployment/zzzzzzzzzzzz"
                 % (REGION, ACCOUNT))
    expect_error("ValidationException", 400, bedrock.list_custom_model_deployments, nextToken="forged-token")

    out = json.loads(cli.run("bedrock", "list-custom-model-deployments").stdout)
    assert [s["customModelDeploymentName"] for s in out["modelDeploymentSummaries"]] == ["bank-prod"], out

    bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)
    expect_error("ResourceNotFoundException", 404, bedrock.get_custom_model_deployment,
                 customModelDeploymentIdentifier=arn)
    assert bedrock.list_custom_model_deployments()["modelDeploymentSummaries"] == []
    print("ok: create/get/list/update/delete, InvokeModel and Converse on the ARN, bad input, the AWS CLI")


def alias_part(args, data, bedrock, session, url, versions, known):
    """versions: {1: "alpha", 2: "bravo"}: the word each registered version answers."""
    registry(args.lathe, data, "alias", "set", GROUP, "production", "1", "--reason", "first")
    arn = bedrock.create_custom_model_deployment(modelDeploymentName="bank-alias",
                                                 modelArn="%s:production" % GROUP)["customModelDeploymentArn"]
    wait_for(lambda: bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)["status"],
             lambda s: s != "Creating", 60, "the deployment on the alias")
    expected = {"%s/%d" % (GROUP, v): known[word] for v, word in versions.items()}
    assert len(set(expected.values())) == 2, expected  # the two versions must be told apart

    stop, results, errors = threading.Event(), [], []

    def invoke_loop():
        runtime = session.client("bedrock-runtime", endpoint_url=url, config=NO_RETRY)
        while not stop.is_set():
            try:
                text, headers = answer(runtime, arn)
                results.append((headers["x-lathe-served-model"], text))
            except Exception as e:  # noqa: BLE001 (every failure is counted, none may happen)
                errors.append(repr(e))

    threads = [threading.Thread(target=invoke_loop) for _ in range(4)]
    for t in threads:
        t.start()
    probe = session.client("bedrock-runtime", endpoint_url=url, config=NO_RETRY)
    try:
        version = 1
        for move in range(10):
            version = 2 if version == 1 else 1
            registry(args.lathe, data, "alias", "set", GROUP, "production", str(version), "--reason", "move %d" % move)
            # The follower picks the move up and swaps once the version has loaded.
            wait_for(lambda: answer(probe, arn)[1]["x-lathe-served-model"], lambda s: s == "%s/%d" % (GROUP, version),
                     60, "version %d to serve" % version)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:5]
    assert len(results) >= 20, len(results)
    served = {s for s, _ in results}
    assert served == set(expected), served
    mixed = [(s, text) for s, text in results if text != expected[s]]
    assert not mixed, mixed[:5]
    print("ok: %d requests during ten alias moves, none failed, each answer whole from the version named" % len(results))
    bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)


def require_stories(shared):
    """Exits 77 (skipped) without ../shared/models/stories260K."""
    if not os.path.isdir(os.path.join(shared, "models", "stories260K")):
        print("SKIP: %s lacks models/stories260K" % os.path.abspath(shared))
        sys.exit(77)


def stories_config(lathe, shared, tmp):
    """stories260K imported into tmp as the server's lathe.default-v1: the server's config."""
    return {"models": {"lathe.default-v1": import_stories260k(lathe, shared, tmp)}, "fileRoots": [tmp],
            "region": REGION}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lathe", required=True)
    parser.add_argument("--shared", required=True)
    args = parser.parse_args()
    require_aws_cli()
    require_stories(args.shared)
    with tempfile.TemporaryDirectory() as tmp:
        config = stories_config(args.lathe, args.shared, tmp)
        data = os.path.join(tmp, "data")
        with Server(args.lathe, data, keys=(KEY_ID, SECRET), config=config).start() as server:
            session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
            bedrock = session.client("bedrock", endpoint_url=server.url, config=NO_RETRY)
            runtime = session.client("bedrock-runtime", endpoint_url=server.url, config=NO_RETRY)
            sm = session.client("sagemaker", endpoint_url=server.url, config=NO_RETRY)
            jobs = {word: train(bedrock, tmp, word) for word in WORDS}
            models = {}
            for word, job in jobs.items():
                j = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=job),
                             lambda r: r["status"] not in ("InProgress", "Stopping"), 300, "fine-tuning " + word)
                assert j["status"] == "Completed", j
                models[word] = j["outputModelArn"]
            known = {word: answer(runtime, arn)[0] for word, arn in models.items()}
            assert known["alpha"] != known["bravo"], known
            print("ok: two fine-tuned models answer %r and %r" % (known["alpha"], known["bravo"]))

            cli = AwsCli(os.path.join(tmp, "aws-home"), server.url, (KEY_ID, SECRET), REGION, cwd=tmp)
            crud_part(bedrock, runtime, cli, models["alpha"], models["bravo"], known)

            sm.create_model_package_group(ModelPackageGroupName=GROUP, ModelPackageGroupDescription="bank answers")
            for word in ("alpha", "bravo"):
                sm.create_model_package(ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved",
                                        CustomerMetadataProperties={"customModelArn": models[word]})
            alias_part(args, data, bedrock, session, server.url, {1: "alpha", 2: "bravo"}, known)
    print("deployments_test: OK")


if __name__ == "__main__":
    main()
