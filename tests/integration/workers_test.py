#!/usr/bin/env python3
"""One API node and two `lathe worker`s on one throwaway PostgreSQL store (docs/scale-out.md), with boto3.

Run by ctest (tests/CMakeLists.txt) as:
  workers_test.py --lathe build/lathe --home DIR
DIR caches the small default model (shared with the other job tests). Exit 77 (skipped) when boto3
or PostgreSQL 15 (initdb, pg_ctl) is missing.

Covers:
 (a) bad input: a worker without a store, with a SQLite-only setup, with a non-URL --object-store,
     a hostile --id, and an artifact bucket that does not exist: each refused at start, saying why;
 (b) the API node ("runJobsOn": "workers") never trains: two jobs spread over the two workers;
 (c) SIGKILL of the worker holding a job after its first checkpoint reached the artifact bucket:
     the other worker claims the job when the lease expires and finishes it from that checkpoint
     (its log says which generation it resumed from); every job Completed once, one custom model
     each, the checkpoint objects gone at the end;
 (d) the custom model made on a worker answers InvokeModel on the API node (fetched from the
     artifact bucket), and an evaluation job of it runs on a worker and publishes its results;
 (e) a Lambda function made on the API node runs on a worker (its working directory is the worker's,
     it reaches S3 at the API node with the keys it is given), from Invoke and from a Step Functions
     Task state; a job whose role (in lathe's IAM) may not read its data fails on the worker, as on
     the API node;
 (f) a Stop from the API node of a job running on a worker (Stopped within seconds), and of a job
     waiting in the queue with no worker left (Stopped at once); SIGTERM of a worker exits 0.
"""
import io
import zipfile
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, Server, forget_caller_aws_settings, small_default_model, wait_for

import boto3

KEYS = ("LATHETESTKEY000023", "lathe-test-secret-workers-0123456789abcdef")
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/BedrockFineTuningRole"
SCRIPT = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "scripts", "pg-test-server.sh")
LEASE_SECONDS = 6


class Worker:
    """`lathe worker` with stderr in DATA_DIR-worker.log."""

    def __init__(self, lathe, data_dir, store, object_store, config_path, worker_id):
        self.data_dir, self.log_path = data_dir, data_dir + "-worker.log"
        self.cmd = [lathe, "worker", "--store", store, "--object-store", object_store, "--config", config_path,
                    "--data-dir", data_dir, "--id", worker_id]
        self.worker_id, self.proc = worker_id, None

    def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEYS[0], AWS_SECRET_ACCESS_KEY=KEYS[1])
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=log, env=env, text=True)
        first = self.proc.stdout.readline()
        assert first.startswith("lathe worker %s:" % self.worker_id), (first, self.log())
        return self

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            print("--- %s (exit %s):\n%s" % (self.worker_id, self.proc.poll(), self.log()[-3000:]), file=sys.stderr)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        return self.proc.returncode


def refused(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode != 0, (cmd, r.stdout)
    return r.stderr


def records(n):
    out = []
    for i in range(n):
        out.append(json.dumps({"prompt": "Customer: how do I reset my card PIN, case %d?\nAgent:" % i,
                               "completion": " Open the app, choose Cards, then Reset PIN (%d)." % i}))
    return "\n".join(out) + "\n"


def create_job(bedrock, name, epochs):
    return bedrock.create_model_customization_job(
        jobName=name, customModelName=name + "-model", roleArn=ROLE, baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": "s3://data/train.jsonl"}, outputDataConfig={"s3Uri": "s3://data/output/"},
        hyperParameters={"epochCount": str(epochs), "batchSize": "2", "learningRate": "0.001",
                         "checkpointSteps": "4"})["jobArn"]


def job_id(arn):
    return arn.rsplit("/", 1)[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--home", required=True)
    args = p.parse_args()
    args.lathe, args.home = os.path.abspath(args.lathe), os.path.abspath(args.home)
    forget_caller_aws_settings()
    for tool in ("initdb", "pg_ctl"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode != 0:
            print("PostgreSQL 15 (%s) is not installed: skipped" % tool)
            sys.exit(77)
    models = small_default_model(args.lathe, args.home)
    pg_dir = "/tmp/lathe-pg-wk-%d" % os.getpid()  # short: a Unix socket path is bounded
    url = subprocess.run([SCRIPT, "start", pg_dir], check=True, capture_output=True, text=True).stdout.strip()
    workers = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = os.path.realpath(tmp)
            config = {"models": models, "runJobsOn": "workers", "leaseSeconds": LEASE_SECONDS}
            config_path = os.path.join(tmp, "lathe.json")
            with open(config_path, "w") as f:
                json.dump(config, f)
            env = dict(os.environ, AWS_ACCESS_KEY_ID=KEYS[0], AWS_SECRET_ACCESS_KEY=KEYS[1])
            worker = [args.lathe, "worker", "--data-dir", os.path.join(tmp, "w0"), "--config", config_path]

            # (a) Refused at start, saying why.
            out = refused(worker + ["--object-store", "http://127.0.0.1:1"], env)
            assert "--store postgresql://" in out, out
            out = refused(worker + ["--store", url, "--object-store", "ftp://x"], env)
            assert "--object-store: expected the http://" in out, out
            out = refused(worker + ["--store", url, "--object-store", "http://127.0.0.1:1", "--id", "../../etc"], env)
            assert "--id:" in out, out

            api = Server(args.lathe, os.path.join(tmp, "api"), keys=KEYS, config=config, home=args.home,
                         extra_args=["--store", url]).start()
            with api:
                session = boto3.session.Session(aws_access_key_id=KEYS[0], aws_secret_access_key=KEYS[1],
                                                region_name=REGION)
                s3 = session.client("s3", endpoint_url=api.url, config=NO_RETRY)
                bedrock = session.client("bedrock", endpoint_url=api.url, config=NO_RETRY)
                runtime = session.client("bedrock-runtime", endpoint_url=api.url, config=NO_RETRY)
                out = refused(worker + ["--store", url, "--object-store", api.url], env)
                assert "artifact bucket lathe-artifacts" in out and "aws s3 mb s3://lathe-artifacts" in out, out
                s3.create_bucket(Bucket="lathe-artifacts")
                s3.create_bucket(Bucket="data")
                s3.put_object(Bucket="data", Key="train.jsonl", Body=records(48).encode())

                # (b) Two jobs, two workers: one each. The API node itself trains nothing.
                for name in ("a", "b"):
                    workers.append(Worker(args.lathe, os.path.join(tmp, "worker-" + name), url, api.url, config_path,
                                          "worker-" + name).start())
                with workers[0], workers[1]:
                    check_workers(args, tmp, url, config_path, s3, bedrock, runtime, workers)
    finally:
        for w in workers:
            if w.proc and w.proc.poll() is None:
                w.proc.kill()
        subprocess.run([SCRIPT, "stop", pg_dir], capture_output=True)
    print("workers: OK")


def check_workers(args, tmp, url, config_path, s3, bedrock, runtime, workers):
    short = create_job(bedrock, "wk-short", 2)
    long = create_job(bedrock, "wk-long", 12)
    # latheWorker is lathe's extra member, which botocore's parser drops: read from the raw answer.
    raw = {}
    bedrock.meta.events.register("after-call.bedrock.GetModelCustomizationJob",
                                 lambda http_response, **kw: raw.update(json.loads(http_response.content)))

    def holder(arn):
        raw.clear()
        bedrock.get_model_customization_job(jobIdentifier=arn)
        return raw.get("latheWorker")

    wait_for(lambda: (holder(short), holder(long)), lambda h: h[0] and h[1], 60, "both jobs claimed")
    assert holder(short) != holder(long), (holder(short), holder(long))
    # `lathe status` on the shared store: both workers alive, each holding one job.
    status = json.loads(subprocess.run([args.lathe, "status", "--store", url, "--json"], check=True,
                                       capture_output=True, text=True).stdout)
    alive = sorted(n["id"] for n in status["nodes"] if n["role"] == "worker" and n["state"] == "alive")
    assert alive == ["worker-a", "worker-b"], status["nodes"]
    held = {i["id"]: i.get("workerId") for i in status["workItems"] if i["state"] == "leased"}
    assert held.get(job_id(long)) == holder(long), status["workItems"]
    assert not os.path.exists(os.path.join(tmp, "api", "jobs", job_id(long), "run")), "the API node trained"

    # (c) SIGKILL of the long job's worker after its first checkpoint was uploaded.
    state_key = "checkpoints/%s/state.json" % job_id(long)

    def uploaded():
        try:
            return json.loads(s3.get_object(Bucket="lathe-artifacts", Key=state_key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            return None

    state = wait_for(uploaded, lambda s: s is not None, 120, "the long job's first checkpoint upload")
    victim = next(w for w in workers if w.worker_id == holder(long))
    survivor = next(w for w in workers if w is not victim)
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()
    killed_at = time.time()
    job = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=long),
                   lambda j: j["status"] != "InProgress" or holder(long) == survivor.worker_id,
                   LEASE_SECONDS * 10, "the survivor taking the long job over")
    assert time.time() - killed_at >= LEASE_SECONDS - 1, "taken over before the lease expired"
    for arn in (short, long):
        job = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=arn),
                       lambda j: j["status"] not in ("InProgress", "Stopping"), 300, "the end of " + arn)
        assert job["status"] == "Completed", (job, survivor.log()[-3000:])
    assert holder(long) == survivor.worker_id
    assert "resuming from checkpoint generation" in survivor.log(), survivor.log()[-3000:]
    resumed = [l for l in survivor.log().splitlines() if "resuming from checkpoint generation" in l]
    assert int(resumed[-1].rsplit(" ", 1)[1]) >= state["generation"], (resumed, state)
    models_made = bedrock.list_custom_models()["modelSummaries"]
    names = sorted(m["modelName"] for m in models_made)
    assert names == ["wk-long-model", "wk-short-model"], names
    left = s3.list_objects_v2(Bucket="lathe-artifacts", Prefix="checkpoints/").get("KeyCount", 0)
    assert left == 0, s3.list_objects_v2(Bucket="lathe-artifacts", Prefix="checkpoints/")
    metrics = "output/model-customization-job-%s/training_artifacts/step_wise_training_metrics.csv" % job_id(long)
    assert s3.head_object(Bucket="data", Key=metrics)["ContentLength"] > 0

    # (d) The model made on a worker, served by the API node.
    arn = bedrock.get_custom_model(modelIdentifier="wk-long-model")["modelArn"]
    answer = runtime.invoke_model(modelId=arn, body=json.dumps(
        {"inputText": "Customer: how do I reset my card PIN?\nAgent:",
         "textGenerationConfig": {"maxTokenCount": 8, "temperature": 0}}))
    body = json.loads(answer["body"].read())
    assert body["results"][0]["outputText"].strip(), body
    assert os.path.isfile(os.path.join(tmp, "api", "custom-models", arn.rsplit("/", 1)[1], "config.json"))

    # An evaluation job of the model, run on the survivor and published to S3.
    s3.put_object(Bucket="data", Key="cases.jsonl", Body=(json.dumps(
        {"prompt": "Customer: how do I reset my card PIN?\nAgent:", "referenceResponse": "Open the app."}) + "\n").encode())
    evaluation = bedrock.create_evaluation_job(
        jobName="wk-eval", roleArn=ROLE,
        evaluationConfig={"automated": {"datasetMetricConfigs": [{
            "taskType": "QuestionAndAnswer",
            "dataset": {"name": "cases", "datasetLocation": {"s3Uri": "s3://data/cases.jsonl"}},
            "metricNames": ["Builtin.Accuracy"]}]}},
        inferenceConfig={"models": [{"bedrockModel": {"modelIdentifier": arn, "inferenceParams": json.dumps(
            {"inferenceConfig": {"maxTokens": 8, "temperature": 0}})}}]},
        outputDataConfig={"s3Uri": "s3://data/eval-output/"})["jobArn"]
    done = wait_for(lambda: bedrock.get_evaluation_job(jobIdentifier=evaluation),
                    lambda j: j["status"] not in ("InProgress", "Stopping"), 120, "the evaluation")
    assert done["status"] == "Completed", (done, survivor.log()[-3000:])
    prefix = "eval-output/wk-eval/%s/" % job_id(evaluation)
    assert s3.list_objects_v2(Bucket="data", Prefix=prefix).get("KeyCount", 0) > 0
    assert not os.path.exists(os.path.join(tmp, "api", "evaluation-jobs", job_id(evaluation), "out"))

    # (e) Functions made on the API node run on the workers.
    check_functions(s3, survivor)

    # A job's role, held by lathe's IAM in the shared store, bounds what the worker reads for it.
    iam = boto3.session.Session(aws_access_key_id=KEYS[0], aws_secret_access_key=KEYS[1],
                                region_name=REGION).client("iam", endpoint_url=s3.meta.endpoint_url, config=NO_RETRY)
    role_arn = iam.create_role(RoleName="NoDataRole", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    denied = bedrock.create_model_customization_job(
        jobName="wk-denied", customModelName="wk-denied-model", roleArn=role_arn,
        baseModelIdentifier="amazon.titan-text-express-v1", trainingDataConfig={"s3Uri": "s3://data/train.jsonl"},
        outputDataConfig={"s3Uri": "s3://data/output/"}, hyperParameters={"epochCount": "1"})["jobArn"]
    job = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=denied),
                   lambda j: j["status"] not in ("InProgress", "Stopping"), 120, "the denied job")
    assert job["status"] == "Failed", job
    assert "role/NoDataRole is not authorized to perform: s3:GetObject" in job["failureMessage"], job
    assert holder(denied) == survivor.worker_id, holder(denied)

    # (f) Stops from the API node: a job running on the worker, then one that waits.
    running = create_job(bedrock, "wk-stop-running", 12)
    wait_for(lambda: holder(running), lambda h: h == survivor.worker_id, 60, "the job claimed")
    bedrock.stop_model_customization_job(jobIdentifier=running)
    job = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=running),
                   lambda j: j["status"] not in ("InProgress", "Stopping"), 60, "the stop")
    assert job["status"] == "Stopped", job
    assert survivor.stop() == 0, survivor.log()[-3000:]
    waiting = create_job(bedrock, "wk-stop-waiting", 1)
    bedrock.stop_model_customization_job(jobIdentifier=waiting)
    assert bedrock.get_model_customization_job(jobIdentifier=waiting)["status"] == "Stopped"


FUNCTION = """import os
import boto3

def handler(event, context):
    boto3.client("s3").put_object(Bucket="data", Key="from-function/" + event["name"], Body=os.getcwd().encode())
    return {"cwd": os.getcwd(), "hello": event["name"]}
"""


def check_functions(s3, survivor):
    session = boto3.session.Session(aws_access_key_id=KEYS[0], aws_secret_access_key=KEYS[1], region_name=REGION)
    lam = session.client("lambda", endpoint_url=s3.meta.endpoint_url, config=NO_RETRY)
    sfn = session.client("stepfunctions", endpoint_url=s3.meta.endpoint_url, config=NO_RETRY)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("app.py", FUNCTION)
    lam.create_function(FunctionName="where", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": code.getvalue()}, Timeout=120)
    out = lam.invoke(FunctionName="where", Payload=json.dumps({"name": "invoke"}))
    answer = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, answer
    worker_dir = os.path.realpath(survivor.data_dir)
    assert answer["cwd"].startswith(worker_dir), (answer, worker_dir)
    assert s3.get_object(Bucket="data", Key="from-function/invoke")["Body"].read().decode() == answer["cwd"]
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "where", "Payload": {"name.$": "$.name"}},
        "OutputPath": "$.Payload", "End": True}}}
    machine = sfn.create_state_machine(name="on-worker", definition=json.dumps(definition), roleArn=ROLE)
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps({"name": "task"}))
    done = wait_for(lambda: sfn.describe_execution(executionArn=execution["executionArn"]),
                    lambda d: d["status"] != "RUNNING", 180, "the execution")
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["hello"] == "task" and output["cwd"].startswith(worker_dir), output
    assert "runs lambda invocation" in survivor.log(), survivor.log()[-3000:]


if __name__ == "__main__":
    main()
