"""Retention cleanup against a real `lathe serve`: `lathe cleanup` while the server holds the data
directory (the server does the work), and the tutorials' own cleanup scripts as written.

Run by ctest (tests/CMakeLists.txt) as:
  cleanup_test.py --lathe build/lathe --home DIR [--shared ../shared]
DIR caches the small default model between runs. Exit 77 (skipped) when boto3 is missing; the
automation guide's AWS CLI steps are skipped (said so) without the AWS CLI.

Covers: three fine-tuned models registered as two groups' versions (boto3's sagemaker client), an
alias, a provisioned throughput; `lathe cleanup --dry-run` (table and --json) deletes nothing; the
real run deletes the one model the policy allows, frees its job folder and marks its version
Archived; the aliased and the in-use models survive; an idle provisioned throughput goes while a
used one stays; the automation guide's "Cleanup -- Avoid Unexpected Charges" CLI steps and the
fine-tuning guide's cleanup_resources() run as written; a last `lathe cleanup` marks the version
whose model the script deleted.
"""
import argparse
import builtins
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, AwsCli, Server, aws_cli_path, expect_error, forget_caller_aws_settings,
                           tutorial_block, wait_for)

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY_ID, SECRET = "LATHETESTKEY000016", "lathe-test-secret-cleanup-0123456789abcd"
REGION = "us-east-1"
PT_NAME = "my-finetuned-model-pt"  # the automation guide's name


def session():
    return boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)


def write_dataset(folder):
    rows = [{"prompt": "Customer: how do I reset my PIN? (%d)\nAgent:" % i,
             "completion": " Open the app, choose Cards, then Reset PIN."} for i in range(12)]
    path = os.path.join(folder, "train.jsonl")
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return path


def train(bedrock, names, train_file, out):
    """Fine-tunes one model per name (the runner takes them in turn); returns name -> model ARN."""
    jobs = {}
    for name in names:
        jobs[name] = bedrock.create_model_customization_job(
            jobName=name + "-job", customModelName=name, roleArn="arn:aws:iam::123456789012:role/BedrockFineTuningRole",
            baseModelIdentifier="amazon.titan-text-express-v1", trainingDataConfig={"s3Uri": "file://" + train_file},
            outputDataConfig={"s3Uri": "file://" + out},
            hyperParameters={"epochCount": "1", "batchSize": "4", "learningRate": "0.003"})["jobArn"]
    models = {}
    for name, arn in jobs.items():
        job = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=arn),
                       lambda r: r["status"] in ("Completed", "Failed"), 300, "job " + name)
        assert job["status"] == "Completed", job
        models[name] = job["outputModelArn"]
    return models


def lathe(args, data, *argv, ok=True):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)
    if argv[0] == "cleanup":
        # A server holding DATA is found through DATA/serve.url, not a default or stale endpoint.
        env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    r = subprocess.run([args.lathe, *argv, "--data-dir", data], capture_output=True, text=True, timeout=120, env=env)
    if ok:
        assert r.returncode == 0, (argv, r.returncode, r.stdout, r.stderr)
    return r


def cleanup_json(args, data, *flags):
    return json.loads(lathe(args, data, "cleanup", "--json", *flags).stdout)


def post_cleanup(server, body, secret=SECRET, sign=True):
    """POST /lathe/cleanup as `lathe cleanup` sends it (SigV4 for "bedrock"): (status, JSON body, error type)."""
    req = AWSRequest(method="POST", url=server.url + "/lathe/cleanup", data=body,
                     headers={"Content-Type": "application/json"})
    if sign:
        SigV4Auth(Credentials(KEY_ID, secret), "bedrock", REGION).add_auth(req)
    prepared = req.prepare()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    try:
        conn.request("POST", "/lathe/cleanup", body=prepared.body, headers=dict(prepared.headers.items()))
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}"), resp.getheader("x-amzn-ErrorType", "")
    finally:
        conn.close()


def endpoint_bad_input(server):
    """The extension endpoint checks what it is sent, as every operation does."""
    for body in (b'{"dryRun": "yes"}', b'{"policy": {"modelMaxAge": 30}}', b'{"policy": {"idleThroughput": "1y"}}',
                 b'{"unknown": 1}', b'[1, 2]', b'{"dryRun": true, "dataDir": "/not/this/one"}', b'{"dataDir": 7}', b'{"dryRun": true', b'{"policy": {"' + b"x" * 5000 + b'": "1d"}}',
                 b"[" * 100 + b"]" * 100):
        status, answer, kind = post_cleanup(server, body)
        assert status == 400 and kind.startswith("ValidationException"), (body[:40], status, answer, kind)
        assert len(json.dumps(answer)) < 1000, answer  # a hostile member name is not echoed whole
    status, _, kind = post_cleanup(server, b'{"dryRun": true}', secret="forged-secret-0000000000000000000000000")
    assert status == 403 and kind.startswith("InvalidSignatureException"), (status, kind)
    status, _, _ = post_cleanup(server, b'{"dryRun": true}', sign=False)
    assert status == 403, status
    status, answer, _ = post_cleanup(server, b'{"dryRun": true}')
    assert status == 200 and answer["dryRun"] is True and answer["items"] == [], answer


def custom_models(bedrock):
    return sorted(m["modelName"] for m in bedrock.list_custom_models()["modelSummaries"])


def throughputs(bedrock):
    return sorted(p["provisionedModelName"] for p in bedrock.list_provisioned_model_throughputs()["provisionedModelSummaries"])


def provision(bedrock, name, model_arn):
    arn = bedrock.create_provisioned_model_throughput(provisionedModelName=name, modelId=model_arn, modelUnits=1)[
        "provisionedModelArn"]
    wait_for(lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=arn),
             lambda r: r["status"] == "InService", 120, "throughput " + name)
    return arn


def retention(args, tmp, data, bedrock, runtime, sm):
    models = train(bedrock, ["support-v1", "support-v2", "faq-v1"], write_dataset(tmp), os.path.join(tmp, "out"))
    for group, names in (("support", ["support-v1", "support-v2"]), ("faq", ["faq-v1"])):
        sm.create_model_package_group(ModelPackageGroupName=group)
        for name in names:
            sm.create_model_package(ModelPackageGroupName=group, ModelApprovalStatus="Approved",
                                    CustomerMetadataProperties={"customModelArn": models[name]})
    lathe(args, data, "registry", "alias", "set", "support", "production", "1", "--reason", "first release")
    pt_arn = provision(bedrock, PT_NAME, models["faq-v1"])
    job_dirs = sorted(os.listdir(os.path.join(data, "jobs")))
    assert len(job_dirs) == 3, job_dirs

    # Nothing is deleted without a policy.
    assert cleanup_json(args, data)["items"] == []
    policy = ["--keep-versions", "0", "--model-max-age", "0s", "--idle-throughput", "1h"]
    table = lathe(args, data, "cleanup", "--dry-run", *policy).stdout
    assert "support-v2" in table and "Would delete 1 item(s)" in table and "dry run" in table, table
    dry = cleanup_json(args, data, "--dry-run", *policy)
    assert [(i["kind"], i["name"]) for i in dry["items"]] == [("custom-model", "support-v2")], dry
    assert dry["items"][0]["bytes"] > 0 and dry["totalBytes"] == dry["items"][0]["bytes"], dry
    kept = {k["name"]: k["reason"] for k in dry["kept"]}
    assert kept["support-v1"] == "version support/1 holds alias production", kept
    assert kept["faq-v1"] == "in use" and PT_NAME in kept, kept
    assert custom_models(bedrock) == ["faq-v1", "support-v1", "support-v2"]

    real = lathe(args, data, "cleanup", *policy).stdout
    assert "support-v2" in real and "deleted" in real and "Deleted 1 of 1 item(s); freed" in real, real
    assert custom_models(bedrock) == ["faq-v1", "support-v1"]  # aliased and in use survive
    assert len(os.listdir(os.path.join(data, "jobs"))) == 2, "the deleted model's job folder is still there"
    v2 = json.loads(lathe(args, data, "registry", "show", "support/2", "--json").stdout)
    assert v2["status"] == "Archived" and "lathe:modelDeleted" in v2["metadata"], v2
    assert json.loads(lathe(args, data, "registry", "show", "support/1", "--json").stdout)["status"] == "Approved"
    assert cleanup_json(args, data, *policy)["items"] == []  # done: a second run finds nothing

    # Idle throughput: the unused one goes, the one just invoked stays.
    # The threshold is the measured gap between the idle one's creation and the other's request,
    # so the request stays younger than it however long the invocation and the CLI take (up to
    # the gap: 30 s, not a second or two).
    provision(bedrock, "idle-pt", models["support-v1"])
    provisioned = time.monotonic()  # idle-pt was created before this
    time.sleep(30)
    body = json.dumps({"inputText": "Customer: how do I reset my PIN?\nAgent:", "textGenerationConfig": {"maxTokenCount": 4}})
    threshold = int(time.monotonic() - provisioned)  # whole seconds, rounded down: idle-pt is older
    runtime.invoke_model(modelId=pt_arn, body=body)
    idle = cleanup_json(args, data, "--idle-throughput", f"{threshold}s")
    took = time.monotonic() - provisioned - threshold
    assert [(r["name"], r["outcome"]) for r in idle["results"]] == [("idle-pt", "deleted")], (threshold, took, idle)
    assert throughputs(bedrock) == [PT_NAME]
    return models


def make_role():
    """The tutorials' BedrockFineTuningRole with its inline policy BedrockS3Access."""
    iam = session().client("iam", config=NO_RETRY)
    iam.create_role(RoleName="BedrockFineTuningRole", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName="BedrockFineTuningRole", PolicyName="BedrockS3Access", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    return iam


def automation_guide_cleanup(args, tmp, server, data, bedrock):
    """The automation guide's "Cleanup -- Avoid Unexpected Charges", steps 1, 2, 3 and 6 and its
    verification script, as written."""
    if not aws_cli_path():
        print("SKIP (part): the AWS CLI is not installed; the automation guide's cleanup steps were not run")
        return False
    region = "ap-south-1"
    cli = AwsCli(os.path.join(tmp, "cli-home"), server.url, (KEY_ID, SECRET), region, cwd=tmp)
    s3 = session().client("s3", region_name=region, config=NO_RETRY)
    s3.create_bucket(Bucket="bedrock-finetuning-your-unique-name",
                     CreateBucketConfiguration={"LocationConstraint": region})
    for key in ("training-data/train.jsonl", "output/metrics.csv"):
        s3.put_object(Bucket="bedrock-finetuning-your-unique-name", Key=key, Body=b"{}\n")
    make_role()
    with open(os.path.join(tmp, "job_details.json"), "w") as f:
        json.dump({"custom_model_name": "faq-v1"}, f)  # what the guide's Lab 2 saved
    guide = "bedrock-fine-tuning-automation-guide.md"
    for step in ("### Step 1: Delete Provisioned Throughput", "### Step 2: Delete S3 Resources",
                 "### Step 3: Delete IAM Role and Policies", "### Step 6: (Optional) Delete Custom Model"):
        script = tutorial_block(args.shared, step, "bash", guide)
        r = cli.shell(script)
        assert r.returncode == 0, (step, r.stdout, r.stderr)
    assert throughputs(bedrock) == [], "Step 1 left the throughput"
    assert custom_models(bedrock) == ["support-v1"], "Step 6 left the model"
    verify = cli.shell(tutorial_block(args.shared, "### Cleanup Verification", "bash", guide))
    assert verify.returncode == 0 and "Role deleted" in verify.stdout, (verify.stdout, verify.stderr)
    assert "finetuning" not in verify.stdout.split("Checking S3 Buckets...")[1].split("Checking IAM")[0], verify.stdout
    return True


def guide_cleanup_resources(args, tmp, server, bedrock, served_left):
    """bedrock-fine-tuning-guide.md's cleanup_resources(), as written, answering its prompts."""
    s3 = session().client("s3", config=NO_RETRY)
    s3.create_bucket(Bucket="guide-bucket")
    s3.put_object(Bucket="guide-bucket", Key="train.jsonl", Body=b"{}\n")
    iam = make_role()
    script = tutorial_block(args.shared, "### Cleanup Python Script", "python", "bedrock-fine-tuning-guide.md")
    prompts = []

    def answer(prompt=""):
        prompts.append(prompt)
        return "guide-bucket" if prompt.startswith("Enter S3 bucket name") else "yes"

    env_before = dict(os.environ)
    # What `aws configure` gives a user of the guide: keys and a default region (its IAM client
    # names none).
    os.environ.update(AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                      AWS_DEFAULT_REGION=REGION)
    real_input = builtins.input
    builtins.input = answer
    try:
        exec(compile(script, "cleanup_resources", "exec"), {"__name__": "__main__"})
    finally:
        builtins.input = real_input
        os.environ.clear()
        os.environ.update(env_before)
    assert any(p.startswith("Delete model 'support-v1'") for p in prompts), prompts
    # It deletes models before throughput: a model a throughput still served is refused
    # (ConflictException, printed by the script) and stays for a second run (docs/compatibility.md).
    assert custom_models(bedrock) == served_left and throughputs(bedrock) == [], custom_models(bedrock)
    assert "guide-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    expect_error("NoSuchEntity", 404, iam.get_role, RoleName="BedrockFineTuningRole")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lathe", required=True)
    ap.add_argument("--home", required=True)
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..",
                                                     "shared"))
    args = ap.parse_args()
    args.lathe, args.home = os.path.abspath(args.lathe), os.path.abspath(args.home)
    if not os.path.isdir(os.path.join(args.shared, "seeds")):
        print("SKIP: %s/seeds is absent: this test runs the tutorials' cleanup scripts from it" % args.shared)
        sys.exit(77)
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    # The small default model, built once into HOME (as bedrock_boto3_test.py builds it).
    subprocess.run([args.lathe, "models", "build-default", "--data-dir", args.home, "--max-records", "4000"],
                   check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        config = {"models": {"lathe.default-v1": os.path.join(args.home, "models", "lathe-default")}, "fileRoots": [tmp]}
        with Server(args.lathe, data, keys=(KEY_ID, SECRET), config=config, home=args.home).start() as server:
            os.environ["AWS_ENDPOINT_URL"] = server.url  # what `lathe cleanup` asks when the server holds DATA
            s = session()
            bedrock, runtime = s.client("bedrock", config=NO_RETRY), s.client("bedrock-runtime", config=NO_RETRY)
            sm = s.client("sagemaker", config=NO_RETRY)
            endpoint_bad_input(server)
            with open(os.path.join(data, "serve.url")) as f:
                assert f.read().strip() == server.url.rstrip("/"), "serve.url names another address"
            retention(args, tmp, data, bedrock, runtime, sm)
            ran = automation_guide_cleanup(args, tmp, server, data, bedrock)
            guide_cleanup_resources(args, tmp, server, bedrock, [] if ran else ["faq-v1"])
            # The scripts deleted support-v1 (and faq-v1) through the API: the next cleanup marks
            # their versions (kept in the registry; support/1 still holds its alias).
            last = cleanup_json(args, data, "--model-max-age", "3650d")  # an empty policy marks nothing
            marked = sorted((r["name"], r["outcome"]) for r in last["results"])
            assert marked == ([("faq/1", "marked")] if ran else []) + [("support/1", "marked")], last
            v1 = json.loads(lathe(args, data, "registry", "show", "support/1", "--json").stdout)
            assert "lathe:modelDeleted" in v1["metadata"], v1
    print("cleanup: OK")


if __name__ == "__main__":
    main()
