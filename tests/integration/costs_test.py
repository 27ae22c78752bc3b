#!/usr/bin/env python3
"""`lathe costs` over what a real `lathe serve` did through boto3: a fine-tuning job, on-demand
invocations of the base model and of the custom model, a provisioned throughput created and
deleted. Prices come from the server's config ("prices"), so every Bedrock figure is checked
exactly: tokens trained x the training price, tokens read and generated x the on-demand prices,
hours held x model units x the hourly price, months stored x the storage price.

Run by ctest (tests/CMakeLists.txt) as:
  costs_test.py --lathe build/lathe [--shared ../shared]
Exit 77 (skipped) when boto3 or ../shared's stories260K is missing.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, Server, forget_caller_aws_settings, import_stories260k_or_skip,  # exits 77 without boto3
                           stories260k_test_args)

import boto3

KEY_ID, SECRET = "LATHETESTKEY000001", "lathe-test-secret-0123456789abcdefghijklmn"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/BedrockFineTuningRole"
TITAN = "amazon.titan-text-express-v1"
PRICES = {"currency": "USD", "source": "the test's prices",
          "models": {TITAN: {"name": "Titan (test)", "trainingPer1kTokens": 0.5, "storagePerMonth": 3.0,
                             "provisionedPerModelUnitHour": 7.0, "inputPer1kTokens": 0.25, "outputPer1kTokens": 1.5}}}


def wait_for(fn, done, timeout, what):
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        last = fn()
        if done(last):
            return last
        time.sleep(0.5)
    raise AssertionError("timed out waiting for %s; last: %s" % (what, last))


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def costs(args, data_dir, *extra):
    r = subprocess.run([args.lathe, "costs", "--data-dir", data_dir, "--config", data_dir + "-config.json"] + list(extra),
                       capture_output=True, text=True)
    return r


def main():
    args = stories260k_test_args()
    forget_caller_aws_settings("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        model = import_stories260k_or_skip(args.lathe, args.shared, tmp)
        data_dir = os.path.join(tmp, "data")
        config = {"models": {"lathe.default-v1": model}, "fileRoots": [tmp], "region": REGION, "prices": PRICES}
        with Server(args.lathe, data_dir, keys=(KEY_ID, SECRET), config=config).start() as server:
            session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
            bedrock = session.client("bedrock", endpoint_url=server.url, config=NO_RETRY)
            runtime = session.client("bedrock-runtime", endpoint_url=server.url, config=NO_RETRY)
            train = os.path.join(tmp, "train.jsonl")
            with open(train, "w") as f:
                for i in range(12):
                    f.write(json.dumps({"prompt": "Once upon a time (%d)" % i, "completion": " there was a little cat."}) + "\n")

            # 1. The tutorial's fine-tuning job, on a Titan id (served by stories260K here).
            job_arn = bedrock.create_model_customization_job(
                jobName="costed-ft", customModelName="costed-model", roleArn=ROLE, baseModelIdentifier=TITAN,
                trainingDataConfig={"s3Uri": "file://" + train}, outputDataConfig={"s3Uri": "file://" + tmp + "/out"},
                hyperParameters={"epochCount": "2", "batchSize": "4", "learningRate": "0.003"})["jobArn"]
            job = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=job_arn),
                           lambda j: j["status"] not in ("InProgress", "Stopping"), 240, "fine-tuning")
            assert job["status"] == "Completed", job
            custom_arn = job["outputModelArn"]
            job_id = job_arn.rsplit("/", 1)[1]
            with open(os.path.join(data_dir, "jobs", job_id, "run", "training_summary.json")) as f:
                trained = json.load(f)["trainedTokens"]
            assert trained > 0

            # 2. On demand: the base model twice, the custom model once (priced as its base).
            read = generated = 0
            for prompt in ("Once upon a time", "The little dog"):
                body = json.dumps({"inputText": prompt, "textGenerationConfig": {"maxTokenCount": 16, "temperature": 0}})
                answer = json.loads(runtime.invoke_model(modelId=TITAN, body=body)["body"].read())
                read += answer["inputTextTokenCount"]
                generated += answer["results"][0]["tokenCount"]
            answer = json.loads(runtime.invoke_model(modelId=custom_arn, body=json.dumps({"inputText": "One day"}))["body"].read())
            custom_tokens = (answer["inputTextTokenCount"], answer["results"][0]["tokenCount"])

            # 3. A provisioned throughput, held for a moment and deleted.
            pt_arn = bedrock.create_provisioned_model_throughput(
                modelUnits=1, provisionedModelName="costed-pt", modelId=custom_arn)["provisionedModelArn"]
            wait_for(lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=pt_arn),
                     lambda r: r["status"] != "Creating", 60, "provisioned throughput")
            bedrock.delete_provisioned_model_throughput(provisionedModelId=pt_arn)

            # `lathe costs` reads lathe.db while the server runs: the on-demand counts once flushed.
            def report():
                r = costs(args, data_dir, "--json")
                assert r.returncode == 0, r.stderr
                return json.loads(r.stdout)
            out = wait_for(report, lambda o: sum(l["kind"] == "on-demand" for l in o["lines"]) == 2, 20, "the usage flush")

        by_kind = {}
        for line in out["lines"]:
            by_kind.setdefault(line["kind"], []).append(line)
        assert out["currency"] == "USD" and out["priceSource"] == "the test's prices", out

        (j,) = by_kind["customization-job"]
        assert j["name"] == "costed-ft" and j["baseModel"] == TITAN, j
        assert j["trainedTokens"] == trained, (j, trained)
        assert j["cpuHours"] > 0 and j["wallHours"] > 0, j
        assert close(j["bedrockCost"], trained / 1000 * 0.5), j

        on_demand = {l["name"]: l for l in by_kind["on-demand"]}
        base = on_demand[TITAN]
        assert (base["requests"], base["inputTokens"], base["outputTokens"]) == (2, read, generated), base
        assert close(base["bedrockCost"], read / 1000 * 0.25 + generated / 1000 * 1.5), base
        assert base["cpuHours"] is None and base["wallHours"] > 0, base
        custom = on_demand[custom_arn]
        assert custom["baseModel"] == TITAN and (custom["inputTokens"], custom["outputTokens"]) == custom_tokens, custom
        assert close(custom["bedrockCost"], custom_tokens[0] / 1000 * 0.25 + custom_tokens[1] / 1000 * 1.5), custom

        (pt,) = by_kind["provisioned-throughput"]
        assert pt["name"] == "costed-pt" and pt["status"] == "Deleted" and pt["modelUnits"] == 1, pt
        assert pt["hours"] > 0 and close(pt["bedrockCost"], pt["hours"] * 1 * 7.0), pt

        (stored,) = by_kind["custom-model"]
        assert stored["name"] == "costed-model" and close(stored["bedrockCost"], stored["hours"] / 730 * 3.0), stored

        priced = [l["bedrockCost"] for l in out["lines"] if l["priced"]]
        assert close(out["totals"]["bedrockCost"], sum(priced)), out["totals"]
        assert out["totals"]["unpricedLines"] == 0, out

        # The table for people, the server stopped; bad arguments say what is wrong.
        text = costs(args, data_dir)
        assert text.returncode == 0 and "customization-job" in text.stdout and "Total:" in text.stdout, text
        bad = costs(args, data_dir, "--since", "5x")
        assert bad.returncode != 0 and "like 30d, 24h, 90m" in bad.stderr, bad
        missing = subprocess.run([args.lathe, "costs", "--data-dir", os.path.join(tmp, "nowhere")], capture_output=True,
                                 text=True)
        assert missing.returncode != 0 and "no lathe.db" in missing.stderr, missing
        assert not os.path.exists(os.path.join(tmp, "nowhere")), "a mistyped --data-dir must not be created"
        # A window counts the time held inside it only: the model stored for the last minute at most.
        recent = json.loads(costs(args, data_dir, "--json", "--since", "1m").stdout)
        (stored_recently,) = [l for l in recent["lines"] if l["kind"] == "custom-model"]
        assert recent["since"] is not None and 0 < stored_recently["hours"] <= 1 / 60 + 1e-9, stored_recently
    print("costs: OK")


if __name__ == "__main__":
    main()
