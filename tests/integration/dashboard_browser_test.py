#!/usr/bin/env python3
"""The dashboard (/ui/) in Debian's headless Chromium, driven by puppeteer-core
(js/dashboard_browser.mjs), against one `lathe serve` seeded through boto3:
  - without a session the app sends the browser to the login page and the API answers 401;
  - the login form opens a session (an HttpOnly, SameSite=Strict cookie scripts cannot read);
  - a forged or missing CSRF token is refused (403), the session's token is accepted;
  - a Step Functions execution's states change colour as it runs (running -> succeeded), and a
    state's input and output open by keyboard;
  - a real fine-tuning job's loss curve gains points while the job is InProgress; Stop (confirmed)
    ends it Stopped;
  - a registry version is promoted and rolled back through the confirmation dialog, and the
    registry records both moves with the dashboard as the actor and the reasons typed;
  - a dataset's check shows its report and charts; its bad input is refused;
  - the playground streams the default model's answers, two side by side;
  - two evaluation jobs' reports compared on one chart, the answers side by side;
  - every form control is labelled, the overview fits a phone's width, nothing is loaded from
    anywhere but lathe (Chart.js included), no script error;
  - `lathe ui`'s one-time link logs in once and is refused the second time;
and writes screenshots of every page to docs/images/ui-*.png (--shots to put them elsewhere).

Run by ctest as: dashboard_browser_test.py --lathe build/lathe --home DIR --shots build/dashboard-screenshots
Exit 77 (skipped) without boto3 (the harness), chromium, node >= 20, npm or puppeteer-core.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from lathe_harness import NO_RETRY, Server, forget_caller_aws_settings, small_default_model  # noqa: E402
from s3_sdk_js_test import install_js_clients  # noqa: E402
from eval_jobs_test import BASE as EVAL_BASE, CASES, ended as eval_job_ended, job_request  # noqa: E402

import boto3  # noqa: E402

KEY_ID, SECRET = "LATHETESTKEY000017", "lathe-test-secret-dashboard-0123456789abc"
REGION, ACCOUNT = "us-east-1", "000000000000"
BUCKET, OBJECT, GROUP = "dashboard-data", "training-data/train.jsonl", "bank-assistant"
CHROMIUM = "/usr/bin/chromium"

MACHINE = {
    # Eight seconds each: long enough for the page to see them running after navigation and a
    # feed poll on a loaded 2-core machine (two seconds raced it and flaked).
    "Comment": "The automation pipeline in miniature: waits stand in for training and evaluation.",
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"bucket": BUCKET}, "Next": "Train"},
        "Train": {"Type": "Wait", "Seconds": 8, "Next": "Evaluate"},
        "Evaluate": {"Type": "Wait", "Seconds": 8, "Next": "Good enough?"},
        "Good enough?": {"Type": "Choice", "Choices": [{"Variable": "$.bucket", "StringEquals": BUCKET, "Next": "Finish"}],
                         "Default": "Give up"},
        "Give up": {"Type": "Fail", "Error": "NotGoodEnough"},
        "Finish": {"Type": "Succeed"},
    },
}


EVAL_CASES = CASES[:3]  # eval_jobs_test's banking questions, without its story


def start_evaluations(bedrock, s3):
    """Two small evaluation jobs of the default model, greedy and warm (the evaluations page
    compares them), in eval_jobs_test's request shape."""
    s3.put_object(Bucket=BUCKET, Key="eval/cases.jsonl", Body="".join(json.dumps(c) + "\n" for c in EVAL_CASES).encode())
    arns = []
    for name, temperature in (("eval-greedy", 0), ("eval-warm", 0.7)):
        request = job_request(name, "s3://%s/eval/cases.jsonl" % BUCKET, [EVAL_BASE], output="s3://%s/eval-output/" % BUCKET)
        request["roleArn"] = "arn:aws:iam::%s:role/BedrockEvaluationRole" % ACCOUNT
        request["inferenceConfig"]["models"][0]["bedrockModel"]["inferenceParams"] = json.dumps(
            {"inferenceConfig": {"maxTokens": 16, "temperature": temperature}})
        arns.append(bedrock.create_evaluation_job(**request)["jobArn"])
    return arns


def evaluations_ended(bedrock, arns):
    """The two evaluation jobs' ids once both have ended (Completed, asserted)."""
    jobs = [eval_job_ended(bedrock, a, timeout=120) for a in arns]
    assert [j["status"] for j in jobs] == ["Completed", "Completed"], jobs
    return [a.rsplit("/", 1)[1] for a in arns]


def training_data(path, copies=8):
    """400 records: the banking sample 8 times over, each copy's prompts marked (no duplicates)."""
    with open(os.path.join(REPO, "samples", "banking_support.jsonl")) as f:
        records = [json.loads(line) for line in f if line.strip()]
    with open(path, "w") as out:
        for i in range(copies):
            for r in records:
                out.write(json.dumps(dict(r, prompt="%s (%d)" % (r["prompt"], i))) + "\n")


def seed(url):
    kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, config=NO_RETRY)
    s3, bedrock = boto3.client("s3", **kw), boto3.client("bedrock", **kw)
    sm, sfn = boto3.client("sagemaker", **kw), boto3.client("stepfunctions", **kw)
    sns, events = boto3.client("sns", **kw), boto3.client("events", **kw)
    s3.create_bucket(Bucket=BUCKET)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        path = f.name
    training_data(path)
    s3.upload_file(path, BUCKET, OBJECT)
    os.remove(path)
    def start_job():  # five epochs: far from its end when the browser stops it
        job = bedrock.create_model_customization_job(
            jobName="dashboard-job", customModelName="dashboard-model",
            roleArn="arn:aws:iam::%s:role/BedrockFineTuningRole" % ACCOUNT, baseModelIdentifier="amazon.titan-text-express-v1",
            trainingDataConfig={"s3Uri": "s3://%s/%s" % (BUCKET, OBJECT)}, outputDataConfig={"s3Uri": "s3://%s/output/" % BUCKET},
            hyperParameters={"epochCount": "5", "batchSize": "4", "learningRate": "0.0003"})
        return job["jobArn"].rsplit("/", 1)[1]
    sm.create_model_package_group(ModelPackageGroupName=GROUP, ModelPackageGroupDescription="the banking assistant")
    for n in (1, 2):
        sm.create_model_package(ModelPackageGroupName=GROUP, ModelPackageDescription="v%d" % n,
                                ModelApprovalStatus="Approved",
                                CustomerMetadataProperties={"customModelArn": "arn:aws:bedrock:%s:%s:custom-model/x/%d" % (REGION, ACCOUNT, n),
                                                            "overallScore": "0.%d" % (6 + n)})
    machine = sfn.create_state_machine(name="retraining-pipeline", definition=json.dumps(MACHINE),
                                       roleArn="arn:aws:iam::%s:role/StepFunctionsRole" % ACCOUNT)["stateMachineArn"]
    topic = sns.create_topic(Name="training-notifications")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ml-team@example.com")
    events.put_rule(Name="training-data-uploaded", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events.put_targets(Rule="training-data-uploaded", Targets=[{"Id": "pipeline", "Arn": machine}])
    evaluations = start_evaluations(bedrock, s3)
    return start_job, sfn, machine, sm, lambda: evaluations_ended(bedrock, evaluations)


def check_login_link(lathe, url, data_dir):
    """`lathe ui` prints a link that opens a session once."""
    r = subprocess.run([lathe, "ui", "--data-dir", data_dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, LATHE_ACCESS_KEY_ID=KEY_ID, LATHE_SECRET_ACCESS_KEY=SECRET), check=True)
    link = r.stdout.strip()
    assert link.startswith(url + "/ui/link?token=" + KEY_ID + "."), (link, url)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    # Opening it (as a chat app's link preview would) shows a button and spends nothing...
    for _ in range(2):
        with opener.open(link) as page:
            assert page.status == 200 and not page.headers.get("Set-Cookie"), page.headers
            assert b'action="/ui/link"' in page.read()
    # ...its form POSTs the token, which opens a session once.
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"][0]
    answers = []
    for _ in range(2):
        try:
            opener.open(url + "/ui/link", data=urllib.parse.urlencode({"token": token}).encode())
        except urllib.error.HTTPError as e:
            answers.append((e.code, e.headers.get("Location"), e.headers.get("Set-Cookie") or ""))
    assert answers[0][0] == 303 and answers[0][1] == "/ui/" and "HttpOnly" in answers[0][2], answers
    assert answers[1][0] == 303 and answers[1][1] == "/ui/login?link=invalid" and not answers[1][2], answers


def check_audit_and_iam_keys(lathe, url, data_dir):
    """An IAM user's access key cannot log in to the dashboard (only the server's own keys can),
    and the dashboard's logins land in the audit trail (`lathe audit`)."""
    iam = boto3.client("iam", endpoint_url=url, region_name=REGION, aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                       config=NO_RETRY)
    iam.create_user(UserName="dashboard-visitor")
    key = iam.create_access_key(UserName="dashboard-visitor")["AccessKey"]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    form = urllib.parse.urlencode({"accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]}).encode()
    try:
        urllib.request.build_opener(NoRedirect).open(url + "/ui/login", data=form)
        raise AssertionError("an IAM user's key was not refused")
    except urllib.error.HTTPError as e:
        assert e.code == 303 and e.headers.get("Location") == "/ui/login?failed=1" and not e.headers.get("Set-Cookie"), e
    trail = subprocess.run([lathe, "audit", "--data-dir", data_dir, "--action", "lathe-ui:*", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert trail.returncode == 0, trail.stderr
    assert key["AccessKeyId"] in trail.stdout and "LoginFailed" in trail.stdout, trail.stdout
    assert "UseLoginLink" in trail.stdout, trail.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--home", required=True, help="LATHE_HOME holding (or receiving) the small default model")
    p.add_argument("--shots", default=os.path.join(REPO, "docs", "images"), help="where the screenshots go")
    args = p.parse_args()
    args.lathe, args.home = os.path.abspath(args.lathe), os.path.abspath(args.home)
    if not os.access(CHROMIUM, os.X_OK):
        print("SKIP: %s is not installed (Debian: apt-get install chromium)" % CHROMIUM)
        sys.exit(77)
    install_js_clients()
    if not os.path.isfile(os.path.join(HERE, "js", "node_modules", "puppeteer-core", "package.json")):
        print("SKIP: puppeteer-core is not installed in tests/integration/js (scripts/js-clients.sh installs it)")
        sys.exit(77)
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    models = small_default_model(args.lathe, args.home)
    os.makedirs(args.shots, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        with Server(args.lathe, data, keys=(KEY_ID, SECRET), config={"models": models}).start() as server:
            start_job, sfn, machine, sm, evaluation_ids = seed(server.url)
            subprocess.run([args.lathe, "registry", "alias", "set", GROUP, "production", "1", "--reason", "first release",
                            "--data-dir", data], check=True, stdout=subprocess.DEVNULL)
            check_login_link(args.lathe, server.url, data)
            check_audit_and_iam_keys(args.lathe, server.url, data)
            node = subprocess.Popen(
                ["node", os.path.join(HERE, "js", "dashboard_browser.mjs"), "--url", server.url, "--key", KEY_ID,
                 "--secret", SECRET, "--group", GROUP, "--bucket", BUCKET, "--object", OBJECT,
                 "--model", "amazon.titan-text-express-v1", "--shots", os.path.abspath(args.shots), "--chromium", CHROMIUM],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tmp,
                env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
            steps = {}
            for line in node.stdout:
                msg = json.loads(line)
                print("browser:", json.dumps(msg)[:600])
                if msg.get("need") == "job":
                    node.stdin.write(json.dumps({"job": start_job()}) + "\n")
                    node.stdin.flush()
                elif msg.get("need") == "evaluations":
                    node.stdin.write(json.dumps({"ids": evaluation_ids()}) + "\n")
                    node.stdin.flush()
                elif msg.get("need") == "execution":
                    arn = sfn.start_execution(stateMachineArn=machine, name="run-1", input="{}")["executionArn"]
                    node.stdin.write(json.dumps({"arn": arn}) + "\n")
                    node.stdin.flush()
                elif "step" in msg:
                    steps[msg["step"]] = msg
                elif "error" in msg:
                    sys.exit("the browser script failed: %s" % msg["error"])
            assert node.wait(timeout=60) == 0, "the browser script exited with %d" % node.returncode
            check(steps, sm)
            # The registry recorded the dashboard's moves, with who and why.
            history = json.loads(subprocess.run([args.lathe, "registry", "alias", "history", GROUP, "production",
                                                 "--data-dir", data, "--json"], stdout=subprocess.PIPE, text=True,
                                                check=True).stdout)
            mine = [m for m in history if m["actor"] == "dashboard:" + KEY_ID]
            assert [(m["toVersion"], m["reason"], m["rollback"]) for m in mine[-2:]] == \
                [(2, "better scores", False), (1, "answers got worse", True)], history
    print("dashboard_browser: all steps passed in %.0f s; screenshots in %s" % (time.monotonic() - started, args.shots))


def check(steps, sm):
    anon = steps["anonymous"]
    assert anon["landed"].endswith("/ui/login#/jobs/" + anon["landed"].rsplit("/", 1)[1]), anon
    assert anon["api"] == 401 and anon["post"] == 401, anon
    login = steps["login"]
    assert login["url"].endswith("/ui/#/"), login
    assert login["httpOnly"] is True and login["sameSite"] == "Strict", login
    assert "lathe_session" not in login["documentCookie"], login  # HttpOnly: scripts cannot read it
    assert {"Jobs", "Running jobs", "Deployments", "Recent pipeline executions"} <= set(login["overview"]), login
    assert login["chart"], login  # Chart.js, from /ui/vendor/chart.js
    csrf = steps["csrf"]
    assert csrf["forged"] == 403 and csrf["missing"] == 403 and csrf["real"] == 404, csrf  # 404: no such job
    seen = steps["pipeline"]["seen"]
    for state in ("Prepare", "Train", "Evaluate", "Finish"):
        assert seen[state][-1][0] == "succeeded", (state, seen)
    # Train and Evaluate (eight-second waits) were seen running, then succeeded, in other colours.
    for state in ("Train", "Evaluate"):
        progress = [p for p, _ in seen[state]]
        assert "running" in progress and progress.index("running") < progress.index("succeeded"), (state, seen[state])
        fills = dict(seen[state])
        assert fills["running"] != fills["succeeded"], (state, fills)
    assert [p for p, _ in seen["Give up"]] == ["none"], seen["Give up"]
    assert steps["pipeline"]["focused"] == "Finish", steps["pipeline"]  # focusable (tabindex)
    assert "Finish" in steps["pipeline"]["stepShown"] and "Output" in steps["pipeline"]["stepShown"], steps["pipeline"]
    job = steps["job"]
    assert job["firstStatus"] == "InProgress" and job["laterStatus"] == "InProgress", job
    assert job["later"] >= job["first"] + 2 and job["manifestShown"], job
    assert job["overviewRunning"] == ["dashboard-job"] and "tokens/s" in job["progressText"] and "ETA" in job["progressText"], job
    assert job["stopped"] == "Stopped" and job["stopDisabled"] is True, job  # the Stop button, through the dialog
    reg = steps["registry"]
    assert (reg["promoted"], reg["rolledBack"], reg["afterCancel"], reg["onServer"]) == ("v2", "v1", "v1", 1), reg
    history = sm.list_model_packages(ModelPackageGroupName=GROUP)  # the versions are still there
    assert len(history["ModelPackageSummaryList"]) == 2, history
    assert steps["playground"]["answer"].strip() and steps["playground"]["answerB"].strip(), steps["playground"]
    assert reg["unlabelled"] == [], reg  # every control has a label (accessibility)
    assert "tokens" in steps["playground"]["meta"], steps["playground"]
    pages = steps["pages"]
    assert "valid" in pages["datasetCheck"] and "400 records" in pages["datasetCheck"], pages
    assert len(pages["datasetCharts"]) == 3 and all(pages["datasetCharts"]), pages  # findings + two length histograms
    assert pages["badChecks"] == {"noKey": 400, "longKey": 400, "controlKey": 400, "badValidation": 400, "missing": 404,
                                  "noBucket": 404, "wrongType": 400, "byGet": 404, "noToken": 403}, pages["badChecks"]
    assert all(v <= 0 for v in pages["phoneOverflow"].values()), pages["phoneOverflow"]  # nothing wider than a phone
    assert all(not v for v in pages["unlabelledControls"].values()), pages["unlabelledControls"]
    ev = steps["evaluation"]
    assert ev["rows"] == len(EVAL_CASES) and ev["comparing"], ev  # the answers side by side, two runs compared
    assert "eval-greedy" in ev["chart"] and "eval-warm" in ev["chart"], ev
    assert ev["columns"] == ["Prompt", "Reference", "eval-greedy: amazon.titan-text-express-v1",
                             "eval-warm: amazon.titan-text-express-v1"], ev
    assert steps["logout"]["after"] == 401, steps["logout"]
    assert steps["logout"]["otherTabToLogin"] is True, steps["logout"]  # its live feed ended with the session
    assert steps["logout"]["errors"] == [], steps["logout"]["errors"]
    assert steps["logout"]["elsewhere"] == [], steps["logout"]["elsewhere"]  # nothing from a CDN or anywhere else
    assert "run-1" in steps["logout"]["executionLink"], steps["logout"]


if __name__ == "__main__":
    main()
