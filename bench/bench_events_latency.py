#!/usr/bin/env python3
"""End-to-end latency of lathe's event path: an S3 PUT until its event reaches an HTTP endpoint.

Issue #12's target: p99 <= 100 ms from S3 PUT to HTTP delivery. The path measured:
  PutObject (bucket with EventBridgeConfiguration) -> the outbox -> the EventBridge dispatcher
  (matches the rule, records the delivery, hands it to SNS) -> SNS's delivery worker -> HTTP POST.
Beside it, in the same run and on the same server, the peer: the same PUT followed at once by an
SNS Publish to the same topic (the SNS leg alone, without EventBridge), so the ratio shows what the
dispatcher adds. Each sample starts before the PutObject call and ends when the endpoint (a thread
in this process) has read the POST; the two kinds alternate so drift lands on both.

  bench/bench_events_latency.py [--lathe build/lathe] [--count 200]

Needs boto3 (tests/integration/lathe_harness.py starts the server). Exit 0 whatever the results.
"""
import argparse
import http.server
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from lathe_harness import NO_RETRY, Server  # noqa: E402  (exits 77 without boto3)

import boto3  # noqa: E402

KEY_ID, SECRET = "BENCHEVENTS0000001", "bench-events-secret-0123456789abcdefghij"
REGION, BUCKET = "ap-south-1", "bench-events"


class Endpoint:
    def __init__(self):
        self.arrived = {}  # marker -> time.perf_counter() at arrival
        self.cv = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.perf_counter()
                self.send_response(200)
                self.end_headers()
                envelope = json.loads(body)
                if envelope["Type"] == "SubscriptionConfirmation":
                    urllib.request.urlopen(envelope["SubscribeURL"], timeout=10).read()
                    marker = "confirmed"
                else:
                    message = json.loads(envelope["Message"])
                    marker = message["detail"]["object"]["key"] if "detail" in message else message["marker"]
                with outer.cv:
                    outer.arrived[marker] = now
                    outer.cv.notify_all()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, marker, timeout=10):
        with self.cv:
            if not self.cv.wait_for(lambda: marker in self.arrived, timeout):
                return None
            return self.arrived[marker]


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", default=os.path.join(REPO, "build", "lathe"))
    p.add_argument("--count", type=int, default=200)
    args = p.parse_args()
    endpoint = Endpoint()
    with tempfile.TemporaryDirectory() as tmp:
        with Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET)).start() as server:
            session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
            s3, sns, events = (session.client(n, endpoint_url=server.url, config=NO_RETRY) for n in ("s3", "sns", "events"))
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.put_bucket_notification_configuration(Bucket=BUCKET,
                                                     NotificationConfiguration={"EventBridgeConfiguration": {}})
            topic = sns.create_topic(Name="bench")["TopicArn"]
            sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
            assert endpoint.wait("confirmed"), "the subscription was not confirmed"
            events.put_rule(Name="bench", EventPattern=json.dumps({
                "source": ["aws.s3"], "detail": {"object": {"key": [{"prefix": "events/"}]}}}))
            events.put_targets(Rule="bench", Targets=[{"Id": "1", "Arn": topic}])
            via_events, direct, lost = [], [], 0
            for i in range(args.count):
                key = "events/%d.jsonl" % i
                t0 = time.perf_counter()
                s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}\n")
                t1 = endpoint.wait(key)
                if t1 is None:
                    lost += 1
                else:
                    via_events.append(t1 - t0)
                marker = "direct-%d" % i
                t0 = time.perf_counter()
                s3.put_object(Bucket=BUCKET, Key="other/%d" % i, Body=b"{}\n")
                sns.publish(TopicArn=topic, Message=json.dumps({"marker": marker}))
                t1 = endpoint.wait(marker)
                if t1 is not None:
                    direct.append(t1 - t0)
    ms = lambda x: x * 1000  # noqa: E731
    print("S3 PUT -> HTTP delivery, %d events (%d not delivered within 10 s)" % (args.count, lost))
    for name, samples in (("via EventBridge + SNS", via_events), ("PUT + SNS Publish (peer)", direct)):
        if samples:
            print("  %-26s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms" % (
                name, ms(statistics.median(samples)), ms(percentile(samples, 99)), ms(max(samples))))
    if via_events and direct:
        print("  ratio (EventBridge path / peer): p50 %.2fx  p99 %.2fx" % (
            statistics.median(via_events) / statistics.median(direct),
            percentile(via_events, 99) / percentile(direct, 99)))
        print("  target p99 <= 100 ms: %s" % ("met" if ms(percentile(via_events, 99)) <= 100 else "NOT met"))


if __name__ == "__main__":
    main()
