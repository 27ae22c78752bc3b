#!/usr/bin/env python3
"""One job store behind two APIs: a fine-tuning job created through Bedrock's API (boto3) is
listed and retrieved by the OpenAI-compatible /v1/fine_tuning/jobs (urllib, Authorization: Bearer)
and one created through /v1/ (its data uploaded to /v1/files) is listed and described by Bedrock's
API, each with the same status, metrics and resulting model as the other API reports; the model
is then called through the other API (Converse for /v1/'s, /v1/chat/completions for Bedrock's).
A job cancelled through /v1/ is Stopped for Bedrock. A custom model deployment, a registry alias,
a registry version and an imported model answer /v1/chat/completions by name. A server started without keys issues an API
key in DATA_DIR/credentials.json, prints it as OPENAI_API_KEY, and accepts it (and no other).

Run by ctest (tests/CMakeLists.txt) as:
  openai_bedrock_jobs_test.py --lathe build/lathe --shared ../shared
Exit 77 (skipped) without boto3 or ../shared's stories260K.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
# Exits 77 (skipped) without boto3.
from lathe_harness import NO_RETRY, Server, forget_caller_aws_settings, import_stories260k  # noqa: E402
import boto3  # noqa: E402

KEY_ID, SECRET = "LATHETESTKEY000021", "lathe-test-secret-openai-bedrock-0123456789"
API_KEY = "lathe-openai-bedrock-key-0123456789"
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/lathe-test"


def records(n=12):
    return "".join(json.dumps({"messages": [{"role": "user", "content": "Tell me about dog %d" % i},
                                            {"role": "assistant", "content": "Dog %d ran in the park." % i}]}) + "\n"
                   for i in range(n))


class IssuedKeysServer(Server):
    """`lathe serve` with no keys in its environment or config: it makes DATA_DIR/credentials.json."""

    def env(self):
        return {k: v for k, v in super().env().items() if not k.startswith("LATHE_ACCESS_KEY_ID")
                and not k.startswith("LATHE_SECRET_ACCESS_KEY")}


class OpenAIWire:
    def __init__(self, url):
        self.url = url + "/v1"

    def call(self, method, path, body=None, content_type="application/json"):
        data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + API_KEY, "Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def upload(self, text):
        boundary = "lathe-test-boundary-0123"
        body = ("--%s\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
                "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dogs.jsonl\"\r\n"
                "Content-Type: application/jsonl\r\n\r\n%s\r\n--%s--\r\n" % (boundary, boundary, text, boundary))
        status, out = self.call("POST", "/files", body.encode(), "multipart/form-data; boundary=" + boundary)
        assert status == 200, out
        return out["id"]


def wait(fn, done, what, timeout=240):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if done(value):
            return value
        assert time.time() < deadline, "%s did not happen in %d s: %r" % (what, timeout, value)
        time.sleep(0.5)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--shared", required=True)
    args = p.parse_args()
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    with tempfile.TemporaryDirectory() as tmp:
        model = import_stories260k(args.lathe, args.shared, tmp)
        if model is None:
            print("SKIP: %s has no models/stories260K" % args.shared)
            sys.exit(77)
        config = {"models": {"lathe.default-v1": model}, "bedrockApiKeys": [API_KEY]}
        # An imported model (Custom Model Import without a job), before the server holds the data.
        subprocess.run([args.lathe, "models", "add", "stories-imported", model, "--data-dir", os.path.join(tmp, "data")],
                       check=True, stdout=subprocess.DEVNULL, timeout=120)
        with Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET), config=config).start() as server:
            session = boto3.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
            s3 = session.client("s3", endpoint_url=server.url, config=NO_RETRY)
            bedrock = session.client("bedrock", endpoint_url=server.url, config=NO_RETRY)
            runtime = session.client("bedrock-runtime", endpoint_url=server.url, config=NO_RETRY)
            wire = OpenAIWire(server.url)

            # 1. Bedrock's API -> /v1/fine_tuning/jobs.
            s3.create_bucket(Bucket="dogs")
            s3.put_object(Bucket="dogs", Key="train.jsonl", Body=records().encode())
            arn = bedrock.create_model_customization_job(
                jobName="bedrock-made", customModelName="bedrock-dogs", roleArn=ROLE,
                baseModelIdentifier="lathe.default-v1", trainingDataConfig={"s3Uri": "s3://dogs/train.jsonl"},
                outputDataConfig={"s3Uri": "s3://dogs/out/"},
                hyperParameters={"epochCount": "1", "batchSize": "4"})["jobArn"]
            ftjob = "ftjob-" + arn.rsplit("/", 1)[1]
            status, listed = wire.call("GET", "/fine_tuning/jobs")
            assert status == 200 and ftjob in [j["id"] for j in listed["data"]], listed
            done = wait(lambda: bedrock.get_model_customization_job(jobIdentifier=arn),
                        lambda j: j["status"] != "InProgress", "the Bedrock job's end")
            assert done["status"] == "Completed", done.get("failureMessage")
            status, seen = wire.call("GET", "/fine_tuning/jobs/" + ftjob)
            assert status == 200, seen
            assert seen["status"] == "succeeded", seen
            assert seen["fine_tuned_model"] == done["outputModelName"] == "bedrock-dogs", seen
            assert seen["training_file"] == "s3://dogs/train.jsonl", seen
            assert seen["hyperparameters"]["n_epochs"] == 1 and seen["hyperparameters"]["batch_size"] == 4, seen
            assert seen["lathe_training_metrics"] == done["trainingMetrics"], (seen, done["trainingMetrics"])
            status, events = wire.call("GET", "/fine_tuning/jobs/%s/events" % ftjob)
            assert status == 200 and any(e["type"] == "metrics" for e in events["data"]), events
            status, answer = wire.call("POST", "/chat/completions", {
                "model": "bedrock-dogs", "messages": [{"role": "user", "content": "Tell me about dog 1"}], "max_tokens": 6})
            assert status == 200 and answer["usage"]["completion_tokens"] > 0, answer
            print("ok   a job made through Bedrock's API is listed, retrieved and called through /v1/")

            # 2. /v1/fine_tuning/jobs -> Bedrock's API.
            file_id = wire.upload(records())
            status, made = wire.call("POST", "/fine_tuning/jobs", {
                "model": "lathe.default-v1", "training_file": file_id, "suffix": "dogs",
                "hyperparameters": {"n_epochs": 1, "batch_size": 4}})
            assert status == 200, made
            summaries = bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]
            mine = [s for s in summaries if s["jobArn"] == made["lathe_job_arn"]]
            assert len(mine) == 1, summaries
            openai_done = wait(lambda: wire.call("GET", "/fine_tuning/jobs/" + made["id"])[1],
                               lambda j: j["status"] not in ("queued", "validating_files", "running"), "the /v1/ job's end")
            assert openai_done["status"] == "succeeded", openai_done
            described = bedrock.get_model_customization_job(jobIdentifier=made["lathe_job_arn"])
            assert described["status"] == "Completed", described
            assert described["outputModelName"] == openai_done["fine_tuned_model"], (described, openai_done)
            assert described["trainingMetrics"] == openai_done["lathe_training_metrics"], described
            assert described["trainingDataConfig"]["s3Uri"].endswith("/files/" + file_id), described
            assert described["hyperParameters"]["epochCount"] == "1", described
            out = runtime.converse(modelId=openai_done["fine_tuned_model"],
                                   messages=[{"role": "user", "content": [{"text": "Tell me about dog 2"}]}],
                                   inferenceConfig={"maxTokens": 6})
            assert out["usage"]["outputTokens"] > 0, out
            # Its data is an object of lathe's S3 store, like any job's.
            bucket = described["trainingDataConfig"]["s3Uri"][len("s3://"):].split("/", 1)[0]
            body = s3.get_object(Bucket=bucket, Key="files/" + file_id)["Body"].read().decode()
            assert body == records(), "the uploaded file differs in S3"
            print("ok   a job made through /v1/ is listed, described and called through Bedrock's API")

            # 3. Cancelling through /v1/ stops the Bedrock job.
            status, slow = wire.call("POST", "/fine_tuning/jobs", {
                "model": "lathe.default-v1", "training_file": file_id, "hyperparameters": {"n_epochs": 100}})
            assert status == 200, slow
            status, cancelled = wire.call("POST", "/fine_tuning/jobs/%s/cancel" % slow["id"])
            assert status == 200 and cancelled["status"] == "cancelled", cancelled
            stopped = wait(lambda: bedrock.get_model_customization_job(jobIdentifier=slow["lathe_job_arn"]),
                           lambda j: j["status"] == "Stopped", "the cancelled job's stop")
            assert stopped["status"] == "Stopped"
            print("ok   a job cancelled through /v1/ is Stopped in Bedrock's API")

            # 4. A deployment and a registry alias are models of /v1/ by name.
            model_arn = bedrock.get_custom_model(modelIdentifier="bedrock-dogs")["modelArn"]
            dep = bedrock.create_custom_model_deployment(modelDeploymentName="dogs-prod",
                                                         modelArn=model_arn)["customModelDeploymentArn"]
            wait(lambda: bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=dep)["status"],
                 lambda st: st != "Creating", "the deployment", 60)
            status, models = wire.call("GET", "/models")
            assert status == 200 and "dogs-prod" in [m["id"] for m in models["data"]], models
            status, answer = wire.call("POST", "/chat/completions", {
                "model": "dogs-prod", "messages": [{"role": "user", "content": "Tell me about dog 1"}], "max_tokens": 4})
            assert status == 200 and answer["model"] == "dogs-prod", answer
            sm = session.client("sagemaker", endpoint_url=server.url, config=NO_RETRY)
            sm.create_model_package_group(ModelPackageGroupName="dogs")
            sm.create_model_package(ModelPackageGroupName="dogs", ModelApprovalStatus="Approved",
                                    CustomerMetadataProperties={"customModelArn": model_arn})
            r = subprocess.run([args.lathe, "registry", "alias", "set", "dogs", "prod", "1", "--reason", "test",
                                "--data-dir", os.path.join(tmp, "data")], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            status, seen = wire.call("GET", "/models/dogs%3Aprod")
            assert status == 200 and seen["id"] == "dogs:prod", seen
            for name in ("dogs:prod", "dogs/1"):
                status, answer = wire.call("POST", "/chat/completions", {
                    "model": name, "messages": [{"role": "user", "content": "Tell me about dog 2"}], "max_tokens": 4})
                assert status == 200 and answer["usage"]["completion_tokens"] > 0, (name, answer)
            status, missing = wire.call("POST", "/chat/completions", {
                "model": "dogs:staging", "messages": [{"role": "user", "content": "x"}]})
            assert status == 404 and missing["error"]["code"] == "model_not_found", missing
            status, answer = wire.call("POST", "/chat/completions", {
                "model": "stories-imported", "messages": [{"role": "user", "content": "Once"}], "max_tokens": 4})
            assert status == 200 and answer["usage"]["completion_tokens"] > 0, answer
            status, models = wire.call("GET", "/models")
            assert "stories-imported" in [m["id"] for m in models["data"]], models
            print("ok   a deployment, a registry alias and version, an imported model answer /v1/chat/completions by name")
        # 5. A server with no configured keys issues an API key with its access keys
        # (DATA_DIR/credentials.json) and prints it for OpenAI's clients.
        issued = IssuedKeysServer(args.lathe, os.path.join(tmp, "fresh"), keys=("", ""), config={"models": config["models"]})
        with issued.start() as server:
            lines = [server.proc.stdout.readline() for _ in range(5)]
            key_lines = [l.split("=", 1)[1].strip() for l in lines if "export OPENAI_API_KEY=" in l]
            assert len(key_lines) == 1, lines
            with open(os.path.join(tmp, "fresh", "credentials.json")) as f:
                assert json.load(f)["bedrockApiKeys"] == key_lines, "the printed key is not the issued one"
            req = urllib.request.Request(server.url + "/v1/models", headers={"Authorization": "Bearer " + key_lines[0]})
            with urllib.request.urlopen(req, timeout=30) as r:
                assert any(m["id"] == "lathe.default-v1" for m in json.loads(r.read())["data"])
            try:
                urllib.request.urlopen(urllib.request.Request(server.url + "/v1/models",
                                                              headers={"Authorization": "Bearer " + API_KEY}))
                raise AssertionError("another server's key was accepted")
            except urllib.error.HTTPError as e:
                assert e.code == 401 and json.loads(e.read())["error"]["code"] == "invalid_api_key"
        print("ok   a new server issues an API key, prints it as OPENAI_API_KEY and accepts only it")
    print("openai_bedrock_jobs: all steps passed")


if __name__ == "__main__":
    main()
