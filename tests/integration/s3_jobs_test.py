#!/usr/bin/env python3
"""Fine-tuning from s3:// to s3:// in lathe's own S3 store, as the tutorials do it on AWS.

Run by ctest (tests/CMakeLists.txt) as:
  s3_jobs_test.py --lathe build/lathe --home DIR
DIR caches the small default model between runs (shared with bedrock_boto3_test.py). Exit 77
(skipped) when boto3 or the AWS CLI (`aws`) is missing.

Covers: a bucket made and training/validation JSONL uploaded with boto3; a job with s3:// data
and output that completes; its outputs listed with `aws s3 ls --recursive` and the metrics CSV
downloaded with `aws s3 cp`; a job whose key is missing failing in validation with the URI in
failureMessage; `lathe data validate` of an s3:// object naming the URI and line of a bad record;
`lathe data split` from s3:// to s3:// and `lathe data stats` of s3:// objects.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, AwsCli, Server, forget_caller_aws_settings,  # exits 77 without boto3
                           require_aws_cli, small_default_model)

import boto3

KEY_ID, SECRET = "LATHETESTKEY000003", "lathe-test-secret-s3jobs-0123456789abcdefg"
REGION = "us-east-1"
BUCKET = "lathe-s3-jobs-test"
ROLE = "arn:aws:iam::123456789012:role/BedrockFineTuningRole"


def records(n, offset=0):
    topics = [("reset my card PIN", "Open the app, choose Cards, then Reset PIN."),
              ("report a lost card", "Call 0800 123 456 at once; we block the card."),
              ("change my address", "Go to Profile, then Address, and save it.")]
    out = []
    for i in range(offset, offset + n):
        q, a = topics[i % len(topics)]
        out.append(json.dumps({"prompt": "Customer: how do I %s? (%d)\nAgent:" % (q, i), "completion": " " + a}))
    return "\n".join(out) + "\n"


def wait_for_end(bedrock, arn, timeout):
    deadline = time.time() + timeout
    while True:
        job = bedrock.get_model_customization_job(jobIdentifier=arn)
        if job["status"] not in ("InProgress", "Stopping") or time.time() > deadline:
            return job
        time.sleep(0.5)


def create_job(bedrock, name, train_uri, output_uri, validation_uri=None):
    params = dict(jobName=name, customModelName=name + "-model", roleArn=ROLE,
                  baseModelIdentifier="amazon.titan-text-express-v1",
                  trainingDataConfig={"s3Uri": train_uri}, outputDataConfig={"s3Uri": output_uri},
                  hyperParameters={"epochCount": "1", "batchSize": "4", "learningRate": "0.003"})
    if validation_uri:
        params["validationDataConfig"] = {"validators": [{"s3Uri": validation_uri}]}
    return bedrock.create_model_customization_job(**params)["jobArn"]


def lathe_data(args, server, *argv):
    """`lathe data ARGV...` signed with the server's keys, as a user with AWS_* set runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_REGION=REGION)
    return subprocess.run([args.lathe, "data", *argv], env=env, capture_output=True, text=True, timeout=120)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--home", required=True, help="LATHE_HOME holding (or receiving) the small default model")
    args = p.parse_args()
    require_aws_cli()
    args.lathe, args.home = os.path.abspath(args.lathe), os.path.abspath(args.home)
    forget_caller_aws_settings()
    models = small_default_model(args.lathe, args.home)  # built once into HOME
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        config = {"models": models, "fileRoots": [tmp]}
        with Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET), config=config,
                    home=args.home).start() as server:
            session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                                            region_name=REGION)
            s3 = session.client("s3", endpoint_url=server.url, config=NO_RETRY)
            bedrock = session.client("bedrock", endpoint_url=server.url, config=NO_RETRY)
            cli = AwsCli(os.path.join(tmp, "aws-home"), server.url, (KEY_ID, SECRET), REGION, cwd=tmp)

            # The tutorial's layout: data under training-data/, outputs under output/.
            s3.create_bucket(Bucket=BUCKET)
            train_path = os.path.join(tmp, "train.jsonl")
            with open(train_path, "w") as f:
                f.write(records(24))
            s3.upload_file(train_path, BUCKET, "training-data/train.jsonl")
            s3.put_object(Bucket=BUCKET, Key="training-data/validation.jsonl", Body=records(6, offset=100).encode())

            # 1. s3:// in, s3:// out: the job completes and its outputs are objects.
            arn = create_job(bedrock, "s3-job", "s3://%s/training-data/train.jsonl" % BUCKET,
                             "s3://%s/output/" % BUCKET, "s3://%s/training-data/validation.jsonl" % BUCKET)
            job = wait_for_end(bedrock, arn, 300)
            assert job["status"] == "Completed", job
            assert job["trainingDataConfig"]["s3Uri"] == "s3://%s/training-data/train.jsonl" % BUCKET, job
            assert job["outputDataConfig"]["s3Uri"] == "s3://%s/output/" % BUCKET, job
            job_id = arn.rsplit("/", 1)[1]
            folder = "output/model-customization-job-%s/" % job_id

            listing = cli.run("s3", "ls", "--recursive", "s3://%s/output/" % BUCKET).stdout
            keys = [line.split(None, 3)[3] for line in listing.splitlines() if line.strip()]
            metrics_key = folder + "training_artifacts/step_wise_training_metrics.csv"
            validation_key = folder + "validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"
            assert metrics_key in keys, listing
            assert validation_key in keys, listing
            assert all(k.startswith(folder) for k in keys), listing
            assert not any("checkpoint" in k for k in keys), listing

            local_csv = os.path.join(tmp, "metrics.csv")
            cli.run("s3", "cp", "s3://%s/%s" % (BUCKET, metrics_key), local_csv)
            with open(local_csv) as f:
                lines = f.read().splitlines()
            assert lines[0] == "step_number,epoch_number,training_loss,perplexity", lines
            assert len(lines) >= 2, lines
            for row in lines[1:]:
                cells = row.split(",")
                assert len(cells) == 4 and float(cells[2]) > 0, row
            # The same file, the same bytes, through boto3.
            with open(local_csv, "rb") as f:
                assert s3.get_object(Bucket=BUCKET, Key=metrics_key)["Body"].read() == f.read()

            # 2. A key that is not there: the job fails in validation, naming the URI.
            missing_uri = "s3://%s/training-data/no-such-file.jsonl" % BUCKET
            arn = create_job(bedrock, "s3-missing", missing_uri, "s3://%s/output/" % BUCKET)
            job = wait_for_end(bedrock, arn, 60)
            assert job["status"] == "Failed", job
            assert job["statusDetails"]["validationDetails"]["status"] == "Failed", job["statusDetails"]
            assert missing_uri in job["failureMessage"], job["failureMessage"]
            assert "NoSuchKey" in job["failureMessage"], job["failureMessage"]
            # And a bucket that is not there, for the output.
            arn = create_job(bedrock, "s3-no-bucket", "s3://%s/training-data/train.jsonl" % BUCKET,
                             "s3://no-such-bucket-lathe/output/")
            job = wait_for_end(bedrock, arn, 60)
            assert job["status"] == "Failed", job
            assert "s3://no-such-bucket-lathe/output/" in job["failureMessage"], job["failureMessage"]

            # 3. `lathe data validate` of an object: the bad record's line, under the object's URI.
            s3.put_object(Bucket=BUCKET, Key="training-data/bad.jsonl",
                          Body=(records(2) + '{"prompt": "no completion here"\n').encode())
            bad_uri = "s3://%s/training-data/bad.jsonl" % BUCKET
            r = lathe_data(args, server, "validate", bad_uri, "--allow-small")
            assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
            assert bad_uri + ":3:" in r.stdout, r.stdout
            r = lathe_data(args, server, "validate", "s3://%s/training-data/train.jsonl" % BUCKET, "--allow-small")
            assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
            r = lathe_data(args, server, "validate", missing_uri)
            assert r.returncode != 0 and missing_uri in r.stderr and "NoSuchKey" in r.stderr, (r.stdout, r.stderr)

            # 4. split from s3:// to s3://, then stats of the parts: names are the objects' URIs.
            r = lathe_data(args, server, "split", "s3://%s/training-data/train.jsonl" % BUCKET, "--train", "0.75",
                           "--seed", "7", "--out-dir", "s3://%s/split/" % BUCKET, "--json")
            assert r.returncode == 0, (r.stdout, r.stderr)
            manifest = json.loads(r.stdout)
            assert manifest["source"]["path"] == "s3://%s/training-data/train.jsonl" % BUCKET, manifest
            listing = cli.run("s3", "ls", "s3://%s/split/" % BUCKET).stdout
            for name in ("train.jsonl", "validation.jsonl", "manifest.json"):
                assert name in listing, listing
            stored = json.loads(s3.get_object(Bucket=BUCKET, Key="split/manifest.json")["Body"].read())
            assert stored == manifest, (stored, manifest)
            r = lathe_data(args, server, "split", "s3://%s/training-data/train.jsonl" % BUCKET,
                           "--out-dir", "s3://%s/split" % BUCKET)
            assert r.returncode != 0 and "exists; pass --force" in r.stderr, (r.stdout, r.stderr)
            r = lathe_data(args, server, "stats", "s3://%s/split/train.jsonl" % BUCKET,
                           "--validation", "s3://%s/split/validation.jsonl" % BUCKET, "--json")
            assert r.returncode == 0, (r.stdout, r.stderr)
            stats = json.loads(r.stdout)
            assert "s3://%s/split/train.jsonl" % BUCKET in json.dumps(stats), stats
    print("s3 jobs: OK")


if __name__ == "__main__":
    main()
