#!/usr/bin/env python3
"""SNS on `lathe serve`, as the automation tutorial and its subscribers use it.

Run by ctest (tests/CMakeLists.txt, `sns`) as:
  sns_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 or the `aws` CLI is missing.

1. The tutorial's commands with the AWS CLI: create-topic, list-topics, subscribe (email),
   publish, delete-topic.
2. An http subscription to a small HTTP server started here: it receives the
   SubscriptionConfirmation, the test fetches SubscribeURL (unsigned GET, as a subscriber does),
   then receives Notifications whose signatures (SignatureVersion 1 and 2) verify with the
   certificate fetched from SigningCertURL.
3. Email: the confirmation and the notification land as .eml files in the outbox that
   `lathe notifications` lists and shows; the link in the outbox confirms.
4. kill -9 after Publish, with the subscriber down: delivered once both are back.
5. Bad input answered with SNS's codes; nothing but the links is served unsigned.
6. With `smtpRelay` configured, a local SMTP server (Python's smtpd, up to 3.11) receives the
   confirmation and the notification too.
"""
import argparse
import base64
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, AwsCli, Server, expect_error, require_aws_cli  # exits 77 without boto3

import boto3

KEY_ID, SECRET = "LATHESNSTESTKEY00001", "lathe-sns-secret-0123456789abcdefghijkl"
REGION = "us-east-1"
TIMEOUT = 30


class Receiver:
    """An HTTP endpoint that records every POST: (headers, body)."""

    def __init__(self, port=0):
        self.posts = queue.Queue()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n).decode()
                outer.posts.put(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/sns-hook" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self, want_type, containing=None):
        """The next POST of x-amz-sns-message-type `want_type` (and Message containing text)."""
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            try:
                headers, body = self.posts.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                break
            if headers.get("x-amz-sns-message-type") != want_type:
                continue
            envelope = json.loads(body)
            if containing is None or containing in envelope.get("Message", ""):
                return headers, envelope
        raise AssertionError("no %s POST%s within %d s" % (want_type, " with " + containing if containing else "", TIMEOUT))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def canonical(envelope):
    """AWS's documented string to sign."""
    if envelope["Type"] == "Notification":
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join("%s\n%s\n" % (f, envelope[f]) for f in fields if f in envelope).encode()


def verify(envelope):
    """Checks Signature with the certificate at SigningCertURL, as AWS's SDK validators do."""
    pem = urllib.request.urlopen(envelope["SigningCertURL"], timeout=10).read()
    signature = base64.b64decode(envelope["Signature"])
    algorithm = "sha256" if envelope["SignatureVersion"] == "2" else "sha1"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        cert = x509.load_pem_x509_certificate(pem)
        cert.public_key().verify(signature, canonical(envelope), padding.PKCS1v15(),
                                 hashes.SHA256() if algorithm == "sha256" else hashes.SHA1())
        return
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "cert.pem"), "wb").write(pem)
        open(os.path.join(d, "sig"), "wb").write(signature)
        open(os.path.join(d, "text"), "wb").write(canonical(envelope))
        pub = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", os.path.join(d, "cert.pem")],
                             capture_output=True, check=True).stdout
        open(os.path.join(d, "pub.pem"), "wb").write(pub)
        r = subprocess.run(["openssl", "dgst", "-" + algorithm, "-verify", os.path.join(d, "pub.pem"), "-signature",
                            os.path.join(d, "sig"), os.path.join(d, "text")], capture_output=True)
        assert r.returncode == 0, "signature does not verify: %s" % r.stdout


def get(url):
    """An unsigned GET, as a subscriber follows a link: (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def lathe_cli(lathe, data_dir, *args):
    r = subprocess.run([lathe, "notifications", "--data-dir", data_dir, *args], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, "lathe notifications %s: %s%s" % (" ".join(args), r.stdout, r.stderr)
    return r.stdout


def wait_for_outbox(lathe, data_dir, count):
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        entries = json.loads(lathe_cli(lathe, data_dir, "--json"))
        if len(entries) >= count:
            return entries
        time.sleep(0.2)
    raise AssertionError("the outbox holds fewer than %d messages" % count)


def client(server):
    return boto3.client("sns", endpoint_url=server.url, region_name=REGION, aws_access_key_id=KEY_ID,
                        aws_secret_access_key=SECRET, config=NO_RETRY)


def test_tutorial_cli(server, home):
    cli = AwsCli(os.path.join(home, "cli-home"), server.url, (KEY_ID, SECRET), REGION)
    arn = json.loads(cli.run("sns", "create-topic", "--name", "bedrock-training-notifications").stdout)["TopicArn"]
    assert arn == "arn:aws:sns:%s:000000000000:bedrock-training-notifications" % REGION, arn
    topics = json.loads(cli.run("sns", "list-topics").stdout)["Topics"]
    assert {"TopicArn": arn} in topics, topics
    sub = json.loads(cli.run("sns", "subscribe", "--topic-arn", arn, "--protocol", "email",
                             "--notification-endpoint", "ml-team@example.com").stdout)
    assert sub["SubscriptionArn"] == "pending confirmation", sub
    msg = json.loads(cli.run("sns", "publish", "--topic-arn", arn, "--message", "New training data arrived",
                             "--subject", "Training data").stdout)
    assert len(msg["MessageId"]) == 36, msg
    cli.run("sns", "delete-topic", "--topic-arn", arn)
    assert {"TopicArn": arn} not in json.loads(cli.run("sns", "list-topics").stdout)["Topics"]
    r = cli.run("sns", "publish", "--topic-arn", arn, "--message", "x", ok=False)
    assert r.returncode != 0 and "NotFound" in r.stderr, r.stderr


def test_http_subscription(server, receiver):
    sns = client(server)
    arn = sns.create_topic(Name="model-events")["TopicArn"]
    assert sns.create_topic(Name="model-events")["TopicArn"] == arn  # idempotent
    sub_arn = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=receiver.url,
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
    headers, confirmation = receiver.next("SubscriptionConfirmation")
    assert headers["x-amz-sns-topic-arn"] == arn, headers
    assert confirmation["TopicArn"] == arn and confirmation["Token"], confirmation
    verify(confirmation)
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "true", attrs
    status, body = get(confirmation["SubscribeURL"])
    assert status == 200 and sub_arn in body, (status, body)
    assert sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]["PendingConfirmation"] == "false"
    forged = confirmation["SubscribeURL"][:-4] + "0000"
    status, body = get(forged)
    assert status == 400 and "InvalidParameter" in body, (status, body)
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == [sub_arn], listed

    message_id = sns.publish(TopicArn=arn, Message="job abc Completed", Subject="Job state",
                             MessageAttributes={"status": {"DataType": "String", "StringValue": "Completed"}})["MessageId"]
    headers, note = receiver.next("Notification", "job abc")
    assert headers["x-amz-sns-message-id"] == message_id and headers["x-amz-sns-subscription-arn"] == sub_arn
    assert note["Subject"] == "Job state" and note["SignatureVersion"] == "1", note
    assert note["MessageAttributes"] == {"status": {"Type": "String", "Value": "Completed"}}, note
    verify(note)
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    batch = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "one", "Message": "batch one"}, {"Id": "two", "Message": "batch two", "Subject": "x" * 101}])
    assert [e["Id"] for e in batch["Successful"]] == ["one"] and batch["Failed"][0]["Code"] == "InvalidParameter", batch
    _, note2 = receiver.next("Notification", "batch one")
    assert note2["SignatureVersion"] == "2"
    verify(note2)
    # The UnsubscribeURL works unsigned, as AWS's does.
    status, _ = get(note2["UnsubscribeURL"])
    assert status == 200
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsDeleted"] == "1"
    return arn


def test_email(server, lathe):
    sns = client(server)
    arn = sns.create_topic(Name="score-alerts", Attributes={"DisplayName": "Score alerts"})["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ml-team@example.com")
    entries = [e for e in wait_for_outbox(lathe, server.data_dir, 1) if e["topicArn"] == arn]
    assert entries and entries[0]["to"] == "ml-team@example.com", entries
    assert entries[0]["subject"] == "AWS Notification - Subscription Confirmation", entries
    text = lathe_cli(lathe, server.data_dir, "--show", entries[0]["id"])
    link = [w for w in text.split() if w.startswith("http://") and "ConfirmSubscription" in w][0]
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert subs[0]["SubscriptionArn"] == "PendingConfirmation", subs
    status, _ = get(link)
    assert status == 200
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"][0]["SubscriptionArn"].startswith(arn + ":")
    sns.publish(TopicArn=arn, Message="Evaluation score 0.41 fell below 0.5", Subject="Score below threshold")
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        alerts = [e for e in json.loads(lathe_cli(lathe, server.data_dir, "--json"))
                  if e["subject"] == "Score below threshold"]
        if alerts:
            break
        time.sleep(0.2)
    assert alerts, "the notification never reached the outbox"
    body = lathe_cli(lathe, server.data_dir, "--show", alerts[0]["id"])
    assert "Evaluation score 0.41 fell below 0.5" in body and "From: Score alerts <" in body, body
    listing = lathe_cli(lathe, server.data_dir)
    assert "Score below threshold" in listing and arn in listing, listing


def test_bad_input(server):
    sns = client(server)
    arn = sns.create_topic(Name="bad-input")["TopicArn"]
    expect_error("InvalidParameter", 400, sns.create_topic, Name="bad name")
    expect_error("InvalidParameter", 400, sns.create_topic, Name="bad-input", Attributes={"DisplayName": "other"})
    expect_error("NotFound", 404, sns.get_topic_attributes, TopicArn=arn + "-missing")
    expect_error("InvalidParameter", 400, sns.publish, TopicArn=arn, Message="m", Subject="s" * 101)
    expect_error("InvalidParameter", 400, sns.publish, TopicArn=arn, Message="x" * 262145)
    expect_error("InvalidParameter", 400, sns.publish, TopicArn=arn, Message='{"email": "e"}', MessageStructure="json")
    expect_error("InvalidParameter", 400, sns.subscribe, TopicArn=arn, Protocol="sqs",
                 Endpoint="arn:aws:sqs:us-east-1:000000000000:q")
    expect_error("InvalidParameter", 400, sns.confirm_subscription, TopicArn=arn, Token="00" * 64)
    expect_error("BatchEntryIdsNotDistinct", 400, sns.publish_batch, TopicArn=arn,
                 PublishBatchRequestEntries=[{"Id": "a", "Message": "x"}, {"Id": "a", "Message": "y"}])
    expect_error("ResourceNotFound", 404, sns.list_tags_for_resource, ResourceArn=arn + "-missing")
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "ml"}])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    # Unsigned requests other than the links are refused.
    status, body = get(server.url + "/?Action=DeleteTopic&TopicArn=" + arn)
    assert status == 403 and "Missing Authentication Token" in body, (status, body)
    status, _ = get(server.url + "/?Action=ListTopics")
    assert status == 403
    assert {"TopicArn": arn} in sns.list_topics()["Topics"]


def test_kill_after_publish(lathe, tmp):
    receiver = Receiver()
    server = Server(lathe, os.path.join(tmp, "crash"), keys=(KEY_ID, SECRET)).start()
    sns = client(server)
    arn = sns.create_topic(Name="durable", Attributes={"DeliveryPolicy": json.dumps(
        {"http": {"defaultHealthyRetryPolicy": {"numRetries": 20, "minDelayTarget": 1, "maxDelayTarget": 2}}})})["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=receiver.url)
    _, confirmation = receiver.next("SubscriptionConfirmation")
    assert get(confirmation["SubscribeURL"])[0] == 200
    port = receiver.port
    receiver.close()  # the subscriber is down
    sns.publish(TopicArn=arn, Message="published before the crash")
    server.kill9()
    receiver = Receiver(port)  # the subscriber is back
    server = Server(lathe, os.path.join(tmp, "crash"), keys=(KEY_ID, SECRET)).start()
    try:
        _, note = receiver.next("Notification", "published before the crash")
        verify(note)
        deliveries = json.loads(lathe_cli(lathe, server.data_dir, "--deliveries", "--json"))
        mine = [d for d in deliveries if d["messageId"] == note["MessageId"]]
        assert mine and mine[0]["status"] == "delivered", deliveries
    finally:
        server.stop()
        receiver.close()


def test_smtp_relay(lathe, tmp):
    """With smtpRelay in the config, email goes to the relay as well as to the outbox: a local
    SMTP server (Python's smtpd, started here) receives the confirmation and the notification."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:  # in the standard library up to Python 3.11
            import asyncore
            import smtpd
        except ImportError:
            print("skip: no smtpd module in this Python (removed in 3.12): the SMTP relay is not checked")
            return False
    received = []

    class Relay(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
            received.append((mailfrom, rcpttos, data.decode("utf-8", "replace") if isinstance(data, bytes) else data))

    relay = Relay(("127.0.0.1", 0), None)
    port = relay.socket.getsockname()[1]
    loop = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True)
    loop.start()
    config = {"smtpRelay": {"url": "smtp://127.0.0.1:%d" % port, "from": "lathe@example.com"}}
    try:
        with Server(lathe, os.path.join(tmp, "smtp-data"), keys=(KEY_ID, SECRET), config=config).start() as server:
            sns = client(server)
            arn = sns.create_topic(Name="relay-alerts")["TopicArn"]
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ml-team@example.com")
            deadline = time.time() + TIMEOUT
            while time.time() < deadline and not received:
                time.sleep(0.2)
            assert received, "the relay never received the confirmation: %s" % server.tail()
            mailfrom, to, text = received[0]
            assert mailfrom == "lathe@example.com" and to == ["ml-team@example.com"], received[0]
            link = [w for w in text.split() if w.startswith("http://") and "ConfirmSubscription" in w][0]
            assert get(link)[0] == 200
            sns.publish(TopicArn=arn, Message="relay check", Subject="Through the relay")
            while time.time() < deadline and len(received) < 2:
                time.sleep(0.2)
            assert len(received) == 2, "the notification never reached the relay: %s" % server.tail()
            assert "Through the relay" in received[1][2] and "relay check" in received[1][2], received[1][2]
            # The outbox keeps a copy of each, relay or not.
            assert len(wait_for_outbox(lathe, server.data_dir, 2)) >= 2
    finally:
        relay.close()
    return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    require_aws_cli()
    lathe = os.path.abspath(args.lathe)
    with tempfile.TemporaryDirectory() as tmp:
        receiver = Receiver()
        with Server(lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET)).start() as server:
            test_tutorial_cli(server, tmp)
            print("ok: the tutorial's aws sns commands")
            test_http_subscription(server, receiver)
            print("ok: http subscription, confirmation, signed notifications")
            test_email(server, lathe)
            print("ok: email through the outbox")
            test_bad_input(server)
            print("ok: bad input")
        receiver.close()
        test_kill_after_publish(lathe, tmp)
        print("ok: kill -9 after publish, delivered after restart")
        if test_smtp_relay(lathe, tmp):
            print("ok: email through an SMTP relay")


if __name__ == "__main__":
    main()
