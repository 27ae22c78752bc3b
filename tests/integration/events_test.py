#!/usr/bin/env python3
"""EventBridge with SNS against a real `lathe serve`, as the automation tutorial uses them.

Run by ctest (tests/CMakeLists.txt) as:
  events_test.py --lathe build/lathe --home DIR [--shared ../shared]
DIR caches the small default model (shared with bedrock_boto3_test.py). Exit 77 (skipped) when
boto3, the AWS CLI or ../shared (the tutorial) is missing.

Covers:
 (a) the tutorial's deploy_automation.py, taken from ../shared/seeds at run time and run unmodified
     but for its BUCKET_NAME line; then `aws s3 cp new_training_data.jsonl s3://.../training-data/`
     reaches an HTTP endpoint (started here) subscribed to the tutorial's topic, which a rule
     target points at; a .txt upload under the same prefix does not;
 (c) a rule on aws.bedrock "Model Customization Job State Change" sends one message when a real
     job completes and one when a job fails;
 (d) kill -9 of the server while a matched event waits for its target: delivered after the restart;
 (e) bad input: invalid patterns and schedules, oversized and malformed PutEvents, malformed JSON
     bodies, bad target ARNs, each with AWS's error code through botocore; a target that keeps
     failing ends in `lathe events failed`;
 (b) the tutorial's cleanup: aws events remove-targets, delete-rule, aws sns list-topics, delete-topic.
"""
import argparse
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, AwsCli, Server, expect_error, lathe_notifications, require_aws_cli,  # exits 77 without boto3
                           tutorial_block, wait_for_outbox)

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials

KEY_ID, SECRET = "LATHETESTKEY000012", "lathe-test-secret-events-0123456789abcdef"
REGION = "ap-south-1"  # the tutorial's
BUCKET = "bedrock-finetuning-lathe-events-test"
RULE = "bedrock-finetuning-trigger"  # deploy_automation.py's
ROLE = "arn:aws:iam::123456789012:role/BedrockFineTuningRole"


class Endpoint:
    """An HTTP endpoint subscribed to SNS topics: it confirms subscriptions by fetching their
    SubscribeURL, as a subscriber must, and keeps every Notification's envelope."""

    def __init__(self):
        self.notifications, self.confirmed = [], []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.end_headers()
                envelope = json.loads(body)
                kind = self.headers.get("x-amz-sns-message-type")
                assert kind == envelope["Type"], (kind, envelope)
                if kind == "SubscriptionConfirmation":
                    with urllib.request.urlopen(envelope["SubscribeURL"], timeout=10) as r:
                        assert r.status == 200
                    with outer.lock:
                        outer.confirmed.append(envelope["TopicArn"])
                elif kind == "Notification":
                    with outer.lock:
                        outer.notifications.append(envelope)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/events" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def events(self, topic_arn):
        """The EventBridge events delivered through `topic_arn`, parsed from the messages."""
        with self.lock:
            return [json.loads(n["Message"]) for n in self.notifications if n["TopicArn"] == topic_arn]

    def wait_for(self, what, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = predicate()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError("timed out waiting for %s; notifications: %s" % (what, self.notifications))


def subscribe(sns, endpoint, topic_arn):
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint.url)
    endpoint.wait_for("the subscription to %s to be confirmed" % topic_arn, lambda: topic_arn in endpoint.confirmed)


def lathe_events(args, data_dir, *argv):
    r = subprocess.run([args.lathe, "events", *argv, "--data-dir", data_dir, "--json"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return json.loads(r.stdout)


def raw_events_call(server, target, body):
    """A signed awsJson request with a body botocore would never send."""
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=server.url + "/", data=body.encode(),
        headers={"X-Amz-Target": "AWSEvents." + target, "Content-Type": "application/x-amz-json-1.1"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(KEY_ID, SECRET), "events", REGION).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_for_job(bedrock, arn, timeout):
    deadline = time.time() + timeout
    while True:
        job = bedrock.get_model_customization_job(jobIdentifier=arn)
        if job["status"] not in ("InProgress", "Stopping") or time.time() > deadline:
            return job
        time.sleep(0.5)


def records(n):
    return "".join(json.dumps({"prompt": "Customer: question %d\nAgent:" % i, "completion": " Answer %d." % i}) + "\n"
                   for i in range(n))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--home", required=True, help="LATHE_HOME holding (or receiving) the small default model")
    p.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..",
                                                    "shared"))
    args = p.parse_args()
    require_aws_cli()
    args.lathe, args.home = os.path.abspath(args.lathe), os.path.abspath(args.home)
    if not os.path.isdir(os.path.join(args.shared, "seeds")):
        print("SKIP: %s/seeds is absent: this test runs the automation tutorial's deploy_automation.py from it"
              % os.path.abspath(args.shared))
        sys.exit(77)
    for k in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"):
        os.environ.pop(k, None)
    subprocess.run([args.lathe, "models", "build-default", "--data-dir", args.home, "--max-records", "4000"],
                   check=True, stdout=subprocess.DEVNULL)
    endpoint = Endpoint()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        data_dir = os.path.join(tmp, "data")
        config = {"models": {"lathe.default-v1": os.path.join(args.home, "models", "lathe-default")},
                  "fileRoots": [tmp], "region": REGION}
        server = Server(args.lathe, data_dir, keys=(KEY_ID, SECRET), config=config, home=args.home).start()
        try:
            session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
            client = lambda name: session.client(name, endpoint_url=server.url, config=NO_RETRY)  # noqa: E731
            s3, events, sns, bedrock = client("s3"), client("events"), client("sns"), client("bedrock")
            cli = AwsCli(os.path.join(tmp, "aws-home"), server.url, (KEY_ID, SECRET), REGION, cwd=tmp)

            # (a) The tutorial's bucket, then its deploy_automation.py, unmodified but for BUCKET_NAME.
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
            script, n = re.subn(r'(?m)^BUCKET_NAME = "[^"]*"', 'BUCKET_NAME = "%s"' % BUCKET, tutorial_block(args.shared, "Create `deploy_automation.py`", "python"))
            assert n == 1, "the tutorial's BUCKET_NAME line was not found"
            deploy_dir = os.path.join(tmp, "deploy")
            os.makedirs(deploy_dir)
            with open(os.path.join(deploy_dir, "deploy_automation.py"), "w", encoding="utf-8") as f:
                f.write(script)
            r = subprocess.run([sys.executable, "deploy_automation.py"], cwd=deploy_dir, env=cli.env(),
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, (r.stdout, r.stderr)
            assert "Automation infrastructure deployed!" in r.stdout, r.stdout
            with open(os.path.join(deploy_dir, "deployment_info.json")) as f:
                info = json.load(f)
            assert info["eventbridge_rule_arn"] == "arn:aws:events:%s:%s:rule/%s" % (REGION, info["account_id"], RULE), info
            topic = info["sns_topic_arn"]
            rule = events.describe_rule(Name=RULE)
            assert rule["State"] == "ENABLED" and rule["EventBusName"] == "default", rule
            # The tutorial's pattern is the tolerated divergence: the log names the AWS-valid form.
            assert '{"wildcard":"training-data/*.jsonl"}' in server.tail(), server.tail()

            # The rule's target is the tutorial's topic (its Cleanup removes target "1"); the
            # endpoint started here is subscribed to it.
            subscribe(sns, endpoint, topic)
            # The email subscription the script tells the user to make, confirmed through the link
            # in the outbox message (lathe's stand-in for the user's mailbox).
            cli.run("sns", "subscribe", "--topic-arn", topic, "--protocol", "email",
                    "--notification-endpoint", "ml-team@example.com")
            confirmation = wait_for_outbox(args.lathe, server.data_dir,
                                           lambda e: e["subject"] == "AWS Notification - Subscription Confirmation")
            text = lathe_notifications(args.lathe, server.data_dir, "--show", confirmation["id"])
            link = [w for w in text.split() if w.startswith("http://") and "ConfirmSubscription" in w][0]
            with urllib.request.urlopen(link, timeout=10) as r:
                assert r.status == 200
            put = events.put_targets(Rule=RULE, Targets=[{"Id": "1", "Arn": topic}])
            assert put["FailedEntryCount"] == 0, put
            with open(os.path.join(tmp, "readme.txt"), "w") as f:
                f.write("not training data\n")
            with open(os.path.join(tmp, "new_training_data.jsonl"), "w") as f:
                f.write(records(5))
            cli.run("s3", "cp", "readme.txt", "s3://%s/training-data/" % BUCKET)
            cli.run("s3", "cp", "new_training_data.jsonl", "s3://%s/training-data/" % BUCKET)
            matched = endpoint.wait_for("the upload's event at the endpoint", lambda: endpoint.events(topic))
            event = matched[0]
            assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created", event
            assert event["detail"]["bucket"]["name"] == BUCKET, event
            assert event["detail"]["object"]["key"] == "training-data/new_training_data.jsonl", event
            assert event["version"] == "0" and event["region"] == REGION and event["account"] == info["account_id"], event
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", event["time"]), event
            mail = wait_for_outbox(args.lathe, server.data_dir,
                                   lambda e: e["topicArn"] == topic and e["to"] == "ml-team@example.com" and
                                   "Confirmation" not in e["subject"])
            body = lathe_notifications(args.lathe, server.data_dir, "--show", mail["id"])
            assert "training-data/new_training_data.jsonl" in body and "Object Created" in body, body
            time.sleep(1)
            assert len(endpoint.events(topic)) == 1, endpoint.events(topic)  # readme.txt matched nothing

            # (c) Bedrock job state changes: one message for a job that completes, one for one that fails.
            jobs_topic = sns.create_topic(Name="job-state")["TopicArn"]
            subscribe(sns, endpoint, jobs_topic)
            events.put_rule(Name="job-state-change", EventPattern=json.dumps({
                "source": ["aws.bedrock"], "detail-type": ["Model Customization Job State Change"],
                "detail": {"jobStatus": ["Completed", "Failed"]}}))
            events.put_targets(Rule="job-state-change", Targets=[{"Id": "notify", "Arn": jobs_topic}])
            s3.put_object(Bucket=BUCKET, Key="data/train.jsonl", Body=records(24).encode())
            common = dict(roleArn=ROLE, baseModelIdentifier="amazon.titan-text-express-v1",
                          outputDataConfig={"s3Uri": "s3://%s/output/" % BUCKET},
                          hyperParameters={"epochCount": "1", "batchSize": "4", "learningRate": "0.003"})
            good = bedrock.create_model_customization_job(
                jobName="events-good", customModelName="events-good-model",
                trainingDataConfig={"s3Uri": "s3://%s/data/train.jsonl" % BUCKET}, **common)["jobArn"]
            bad = bedrock.create_model_customization_job(
                jobName="events-bad", customModelName="events-bad-model",
                trainingDataConfig={"s3Uri": "s3://%s/data/missing.jsonl" % BUCKET}, **common)["jobArn"]
            assert wait_for_job(bedrock, good, 300)["status"] == "Completed"
            assert wait_for_job(bedrock, bad, 120)["status"] == "Failed"
            states = endpoint.wait_for("both jobs' state changes", lambda: len(endpoint.events(jobs_topic)) >= 2 and
                                       endpoint.events(jobs_topic))
            by_job = {e["detail"]["jobArn"]: e["detail"]["jobStatus"] for e in states}
            assert by_job == {good: "Completed", bad: "Failed"}, states
            assert all(e["resources"] == [e["detail"]["jobArn"]] for e in states), states
            time.sleep(0.5)
            assert len(endpoint.events(jobs_topic)) == 2, endpoint.events(jobs_topic)  # InProgress matched nothing

            # (d) kill -9 while a matched event waits for its target (a topic that does not exist
            # yet, so every attempt fails): after the restart it is delivered, once the topic is there.
            late_topic = "arn:aws:sns:%s:%s:late-topic" % (REGION, info["account_id"])
            events.put_rule(Name="crash-rule", EventPattern=json.dumps({"source": ["lathe.test"]}))
            events.put_targets(Rule="crash-rule", Targets=[{
                "Id": "late", "Arn": late_topic,
                "InputTransformer": {"InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": '{"n": <n>, "rule": "<aws.events.rule-name>"}'}}])
            put = events.put_events(Entries=[{"Source": "lathe.test", "DetailType": "Crash Test", "Detail": '{"n": 42}'}])
            assert put["FailedEntryCount"] == 0, put
            deadline = time.time() + 20
            while not any(d["rule"].endswith("/crash-rule") and d["attempts"] >= 1
                          for d in lathe_events(args, data_dir, "pending")):
                assert time.time() < deadline, lathe_events(args, data_dir, "pending")
                time.sleep(0.2)
            server.kill9()
            server = Server(args.lathe, data_dir, keys=(KEY_ID, SECRET), config=config, home=args.home,
                            port=server.port).start()
            sns = client("sns")
            events = client("events")
            assert sns.create_topic(Name="late-topic")["TopicArn"] == late_topic
            subscribe(sns, endpoint, late_topic)
            delivered = endpoint.wait_for("the event matched before the kill", lambda: endpoint.events(late_topic))
            assert delivered == [{"n": 42, "rule": "crash-rule"}], delivered

            # (e) Bad input, each with AWS's error code.
            expect_error("InvalidEventPatternException", 400, events.put_rule, Name="bad",
                         EventPattern='{"source": "not-a-list"}')
            expect_error("InvalidEventPatternException", 400, events.put_rule, Name="bad", EventPattern="{nope")
            expect_error("ValidationException", 400, events.put_rule, Name="bad", ScheduleExpression="cron(0 12 * * * *)")
            expect_error("ValidationException", 400, events.put_rule, Name="bad", ScheduleExpression="rate(0 minutes)")
            expect_error("ValidationException", 400, events.put_rule, Name="bad")
            expect_error("ResourceNotFoundException", 400, events.describe_rule, Name="no-such-rule")
            expect_error("ValidationException", 400, events.put_targets, Rule=RULE,
                         Targets=[{"Id": "x", "Arn": "not-an-arn"}])
            expect_error("ValidationException", 400, events.put_targets, Rule=RULE,
                         Targets=[{"Id": "x", "Arn": topic, "Input": "{not json"}])
            expect_error("ResourceNotFoundException", 400, events.put_targets, Rule="no-such-rule",
                         Targets=[{"Id": "x", "Arn": topic}])
            msg = expect_error("ValidationException", 400, events.put_events, Entries=[
                {"Source": "lathe.test", "DetailType": "Big", "Detail": json.dumps({"x": "a" * (256 * 1024)})}])
            assert msg == "Total size of the entries in the request is over the limit.", msg
            status, body = raw_events_call(server, "PutEvents", json.dumps({"Entries": [
                {"Source": "s", "DetailType": "t", "Detail": "{}"}] * 11}))
            assert status == 400 and body["__type"] == "ValidationException", (status, body)
            status, body = raw_events_call(server, "PutRule", '{"Name": "broken", ')
            assert status == 400 and body["__type"] == "SerializationException", (status, body)
            status, body = raw_events_call(server, "PutRule", '{"Name": 5, "EventPattern": "{}"}')
            assert status == 400 and body["__type"] == "SerializationException", (status, body)
            status, body = raw_events_call(server, "NoSuchOperation", "{}")
            assert status == 400 and body["__type"] == "UnknownOperationException", (status, body)
            per_entry = events.put_events(Entries=[
                {"Source": "aws.s3", "DetailType": "Object Created", "Detail": "{}"},
                {"Source": "lathe.test", "DetailType": "t", "Detail": "[1]"},
                {"Source": "lathe.test", "DetailType": "t", "Detail": "{}"}])
            assert per_entry["FailedEntryCount"] == 2, per_entry
            codes = [e.get("ErrorCode") for e in per_entry["Entries"]]
            assert codes == ["NotAuthorizedForSourceException", "MalformedDetail", None], per_entry
            probe = {"id": "1", "account": info["account_id"], "source": "aws.s3", "time": "2026-01-01T00:00:00Z",
                     "region": REGION, "resources": [], "detail-type": "Object Created",
                     "detail": {"bucket": {"name": BUCKET}, "object": {"key": "training-data/x.jsonl"}}}
            assert events.test_event_pattern(EventPattern=rule["EventPattern"], Event=json.dumps(probe))["Result"]
            probe["detail"]["object"]["key"] = "training-data/x.csv"
            assert not events.test_event_pattern(EventPattern=rule["EventPattern"], Event=json.dumps(probe))["Result"]

            # A target that fails with no retries left ends as a dead-letter record.
            events.put_rule(Name="doomed", EventPattern=json.dumps({"source": ["lathe.doomed"]}))
            events.put_targets(Rule="doomed", Targets=[{
                "Id": "gone", "Arn": "arn:aws:sns:%s:%s:never-created" % (REGION, info["account_id"]),
                "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}}])
            events.put_events(Entries=[{"Source": "lathe.doomed", "DetailType": "t", "Detail": "{}"}])
            deadline = time.time() + 20
            while not lathe_events(args, data_dir, "failed"):
                assert time.time() < deadline, "no dead-letter record"
                time.sleep(0.2)
            failed = lathe_events(args, data_dir, "failed")
            assert len(failed) == 1 and failed[0]["rule"].endswith("/doomed") and failed[0]["attempts"] == 1, failed
            assert "never-created" in failed[0]["target"] and failed[0]["lastError"], failed
            table = subprocess.run([args.lathe, "events", "failed", "--data-dir", data_dir], capture_output=True,
                                   text=True, timeout=60).stdout
            assert "/doomed" in table and "never-created" in table, table

            # (b) The tutorial's Cleanup, Steps 4 and 5, as it writes them.
            expect_error("ValidationException", 400, events.delete_rule, Name=RULE)  # targets remain
            cleanup = cli.shell(
                "aws events remove-targets --rule bedrock-finetuning-trigger --ids \"1\" --region ap-south-1 && "
                "aws events delete-rule --name bedrock-finetuning-trigger --region ap-south-1 && "
                "aws sns list-topics --query \"Topics[?contains(TopicArn, 'finetuning-notifications')]\" --output text")
            assert cleanup.returncode == 0, (cleanup.stdout, cleanup.stderr)
            assert cleanup.stdout.strip().splitlines()[-1] == topic, cleanup.stdout  # after remove-targets' JSON
            cli.run("sns", "delete-topic", "--topic-arn", topic)
            expect_error("ResourceNotFoundException", 400, events.describe_rule, Name=RULE)
            assert topic not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
            print("events_test: OK")
        except BaseException:
            print(server.tail(), file=sys.stderr)
            raise
        finally:
            if server.proc.poll() is None:
                server.stop()


if __name__ == "__main__":
    main()
