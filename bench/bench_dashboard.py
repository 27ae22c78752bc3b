#!/usr/bin/env python3
"""The dashboard's page load budget (issue #17): every page interactive in <= 300 ms with 1,000
jobs and 10,000 executions in the store.

Two servers, each seeded through boto3: the loaded one (--jobs customization jobs, which fail in
validation on a bad object so that none trains, and --executions executions of a one-state
machine, all ended) and the peer, the same with one job and one execution. On each, headless
Chromium (tests/integration/js/dashboard_page_load.mjs) loads every page afresh --loads times
and measures the time from navigation start to the page being drawn and interactive
(body[data-ready="1"]). Printed: median and worst per page on both, the ratio, and whether the
loaded server's worst is within the budget.

  bench/bench_dashboard.py [--lathe build/lathe] [--jobs 1000] [--executions 10000] [--loads 5]

Needs boto3, chromium and the npm packages of tests/integration/js (scripts/js-clients.sh).
Exit 0 whatever the times; 77 when something it needs is missing.
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JS = os.path.join(REPO, "tests", "integration", "js")
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from lathe_harness import NO_RETRY, Server, forget_caller_aws_settings  # noqa: E402  (exits 77 without boto3)
from s3_sdk_js_test import install_js_clients  # noqa: E402

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402

KEY_ID, SECRET = "BENCHDASHBOARD0001", "bench-dashboard-secret-0123456789abcdefgh"
REGION, ACCOUNT, BUCKET = "us-east-1", "000000000000", "bench-dashboard"
CHROMIUM = "/usr/bin/chromium"
BUDGET_MS = 300


def clients(url):
    kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, config=NO_RETRY)
    return boto3.client("s3", **kw), boto3.client("bedrock", **kw), boto3.client("stepfunctions", **kw)


def create_job(bedrock, i):
    """A job whose data fails validation: it ends Failed without training."""
    while True:
        try:
            return bedrock.create_model_customization_job(
                jobName="bench-job-%05d" % i, customModelName="bench-model-%05d" % i,
                roleArn="arn:aws:iam::%s:role/BedrockFineTuningRole" % ACCOUNT,
                baseModelIdentifier="amazon.titan-text-express-v1",
                trainingDataConfig={"s3Uri": "s3://%s/bad.jsonl" % BUCKET},
                outputDataConfig={"s3Uri": "s3://%s/output/" % BUCKET},
                hyperParameters={"epochCount": "1"})["jobArn"]
        except botocore.exceptions.ClientError as e:  # maxActiveJobs: wait for the validator to fail some
            if e.response["Error"]["Code"] not in ("ServiceQuotaExceededException", "ThrottlingException"):
                raise
            time.sleep(0.05)


def seed(url, jobs, executions):
    """Returns the routes to load, with ids of this server's job, machine and execution."""
    s3, bedrock, sfn = clients(url)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="bad.jsonl", Body=b"this is not JSON\n")
    started = time.monotonic()
    job_arn = None
    for i in range(jobs):
        job_arn = create_job(bedrock, i)
    machine = sfn.create_state_machine(
        name="bench-machine", roleArn="arn:aws:iam::%s:role/StepFunctionsRole" % ACCOUNT,
        definition=json.dumps({"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}))["stateMachineArn"]

    def start(i):
        for attempt in range(100):
            try:
                return sfn.start_execution(stateMachineArn=machine, name="run-%05d" % i, input="{}")["executionArn"]
            except botocore.exceptions.ClientError as e:
                if e.response["Error"]["Code"] != "ThrottlingException":
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise RuntimeError("start_execution kept being throttled")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        arns = list(pool.map(start, range(executions)))
    # Wait for every job and execution to end, so that the pages see a settled store.
    while bedrock.list_model_customization_jobs(statusEquals="InProgress", maxResults=1)["modelCustomizationJobSummaries"] or \
            sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING", maxResults=1)["executions"]:
        time.sleep(0.2)
    print("seeded %d jobs and %d executions in %.0f s" % (jobs, executions, time.monotonic() - started), flush=True)
    job_id = job_arn.rsplit("/", 1)[1]
    q = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
    return ["#/", "#/jobs", "#/jobs/" + q(job_id), "#/pipelines", "#/pipelines/" + q(machine),
            "#/executions/" + q(arns[-1]), "#/registry", "#/datasets", "#/datasets/" + BUCKET, "#/evaluations",
            "#/notifications", "#/playground"]


def measure(lathe, tmp, name, jobs, executions, loads):
    """{route: [ms of each load]} on a fresh server seeded with `jobs` and `executions`."""
    with Server(lathe, os.path.join(tmp, name), keys=(KEY_ID, SECRET), config={"maxActiveJobs": 64}).start() as server:
        routes = seed(server.url, jobs, executions)
        r = subprocess.run(["node", os.path.join(JS, "dashboard_page_load.mjs"), "--url", server.url, "--key", KEY_ID,
                            "--secret", SECRET, "--routes", json.dumps(routes), "--loads", str(loads), "--chromium", CHROMIUM],
                           stdout=subprocess.PIPE, text=True, cwd=tmp, timeout=1200,
                           env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
        out = {}
        for line in r.stdout.splitlines():
            msg = json.loads(line)
            if "error" in msg:
                sys.exit("the page load script failed: %s" % msg["error"])
            if "route" in msg:
                out[msg["route"]] = msg["ms"]
        assert r.returncode == 0 and out, r.stdout
        return out


def page_name(route):
    """'#/jobs/abc' -> '#/jobs/<id>': the same name on both servers."""
    parts = route.split("/")
    return "/".join(parts[:2] + ["<id>"]) if len(parts) > 2 and parts[1] != "datasets" else \
        ("#/datasets/<bucket>" if len(parts) > 2 else route)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", default=os.path.join(REPO, "build", "lathe"))
    p.add_argument("--jobs", type=int, default=1000)
    p.add_argument("--executions", type=int, default=10000)
    p.add_argument("--loads", type=int, default=5)
    args = p.parse_args()
    if not os.access(CHROMIUM, os.X_OK):
        print("SKIP: %s is not installed (Debian: apt-get install chromium)" % CHROMIUM)
        sys.exit(77)
    install_js_clients()
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    lathe = os.path.abspath(args.lathe)
    with tempfile.TemporaryDirectory() as tmp:
        peer = measure(lathe, tmp, "peer", 1, 1, args.loads)
        loaded = measure(lathe, tmp, "loaded", args.jobs, args.executions, args.loads)
    print("\nPage interactive (ms from navigation start; %d loads each, the browser's cache warm)" % args.loads)
    print("| page | empty store: median / worst | %d jobs, %d executions: median / worst | ratio of medians | within %d ms |"
          % (args.jobs, args.executions, BUDGET_MS))
    print("|---|---|---|---|---|")
    peer_by_name = {page_name(r): ms for r, ms in peer.items()}
    worst = 0
    for route, ms in loaded.items():
        base = peer_by_name[page_name(route)]
        worst = max(worst, max(ms))
        print("| `%s` | %.0f / %.0f | %.0f / %.0f | %.2f | %s |" % (
            page_name(route), statistics.median(base), max(base), statistics.median(ms), max(ms),
            statistics.median(ms) / max(statistics.median(base), 1), "yes" if max(ms) <= BUDGET_MS else "**no**"))
    print("\nworst page load with %d jobs and %d executions: %.0f ms (budget %d ms)" % (args.jobs, args.executions, worst, BUDGET_MS))


if __name__ == "__main__":
    main()
