#!/usr/bin/env python3
"""Traffic splitting, feedback and automatic rollback of custom model deployments against a real
`lathe serve`, with boto3, signed calls of lathe's extension operations and `lathe deployments`.

Run by ctest (tests/CMakeLists.txt) as:
  deployments_canary_test.py --lathe build/lathe --shared ../shared
Exit 77 (skipped) when boto3 or ../shared/models/stories260K is missing.

1. Two custom models fine-tuned from stories260K in seconds ("alpha" answers, "bravo" answers
   otherwise), registered as versions 1 and 2 of a group with boto3's sagemaker client.
2. The extension operations' bad input: wrong types, out-of-range values, unknown members,
   hostile and forged ids, as ValidationException / ResourceNotFoundException.
3. A/B: a deployment of alpha with 30% sticky traffic to bravo. Every user meets the variant the
   documented hash (FNV-1a + splitmix64 of deployment id and user id) gives, on every request,
   and the share over many users is near the weight.
4. Canary: a deployment on "<group>:production" with a rollback policy; an EventBridge rule on
   "Deployment Rolled Back" sends to an SNS topic with a confirmed email subscription. The alias
   moves to version 2; thumbs-down feedback on the challenger's answers rolls it back: the alias
   history shows the rollback (actor, reason), the challenger gets no more traffic, the email
   is in the outbox with the reason, and `lathe deployments stats` (from the server, and from
   lathe.db without it) shows per-variant counts and feedback.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, Server, lathe_notifications, wait_for, wait_for_outbox  # exits 77 without boto3
# The two models' training and prompt are deployments_test's (an import, not a copy).
from deployments_test import INVOKE_BODY, PROMPT, REGION, WORDS, require_stories, stories_config
from deployments_test import train as start_training

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY_ID, SECRET = "LATHETESTKEY000023", "lathe-test-secret-canary-0123456789"
ACCOUNT = "000000000000"
GROUP = "support-bot"
MASK = (1 << 64) - 1


def sticky_draw(salt, user):
    """What ChooseVariant (src/service/deployment_traffic.cc) draws for a sticky user: FNV-1a of
    salt, NUL, user, then splitmix64's finalizer; the top 53 bits as a fraction of 1."""
    h = 1469598103934665603
    for c in salt.encode() + b"\0" + user.encode():
        h = ((h ^ c) * 1099511628211) & MASK
    h ^= h >> 30
    h = (h * 0xBF58476D1CE4E5B9) & MASK
    h ^= h >> 27
    h = (h * 0x94D049BB133111EB) & MASK
    h ^= h >> 31
    return (h >> 11) / float(1 << 53)


def expected_variant(deployment_arn, user, weight):
    return "challenger" if sticky_draw(deployment_arn.rsplit("/", 1)[1], user) < weight else "champion"


class Caller:
    """boto3 clients and signed calls of lathe's extension operations, as a user makes them."""

    def __init__(self, args, server):
        self.args, self.server = args, server
        session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
        self.bedrock = session.client("bedrock", endpoint_url=server.url, config=NO_RETRY)
        self.runtime = session.client("bedrock-runtime", endpoint_url=server.url, config=NO_RETRY)
        self.sagemaker = session.client("sagemaker", endpoint_url=server.url, config=NO_RETRY)
        self.events = session.client("events", endpoint_url=server.url, config=NO_RETRY)
        self.sns = session.client("sns", endpoint_url=server.url, config=NO_RETRY)
        self.user = None  # InvokeModel's x-lathe-user-id, added before signing
        self.runtime.meta.events.register("before-sign.bedrock-runtime.InvokeModel", self._add_user)

    def _add_user(self, request, **_):
        if self.user is not None:
            request.headers["x-lathe-user-id"] = self.user

    def invoke(self, model_id, user=None):
        """InvokeModel at temperature 0: (text, x-lathe-* headers)."""
        self.user = user
        try:
            r = self.runtime.invoke_model(modelId=model_id, body=INVOKE_BODY, contentType="application/json",
                                          accept="application/json")
        finally:
            self.user = None
        headers = {k: v for k, v in r["ResponseMetadata"]["HTTPHeaders"].items() if k.startswith("x-lathe-")}
        return json.loads(r["body"].read())["results"][0]["outputText"], headers

    def signed(self, method, path, body=None):
        """A SigV4-signed call of an extension operation: (HTTP status, JSON body, error type)."""
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        req = AWSRequest(method=method, url=self.server.url + path, data=data,
                         headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(KEY_ID, SECRET), "bedrock", REGION).add_auth(req)
        prepared = req.prepare()
        raw = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        request = urllib.request.Request(prepared.url, data=raw, headers=dict(prepared.headers), method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                text = r.read()
                return r.status, json.loads(text) if text else {}, None
        except urllib.error.HTTPError as e:
            text = e.read()
            return e.code, json.loads(text) if text else {}, e.headers.get("x-amzn-ErrorType", "").split(":")[0]

    def lathe(self, *argv, ok=True, endpoint=None):
        """`lathe ARGS --endpoint URL` with the test's keys; returns (code, stdout, stderr)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION=REGION)
        r = subprocess.run([self.args.lathe, *argv, "--endpoint", endpoint or self.server.url], env=env,
                           capture_output=True, text=True, timeout=60)
        if ok:
            assert r.returncode == 0, (argv, r.returncode, r.stdout, r.stderr)
        return r.returncode, r.stdout, r.stderr

    def registry(self, *argv):
        r = subprocess.run([self.args.lathe, "registry", *argv, "--data-dir", self.server.data_dir, "--json"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
        return json.loads(r.stdout)

    def deploy(self, name, model):
        arn = self.bedrock.create_custom_model_deployment(modelDeploymentName=name,
                                                          modelArn=model)["customModelDeploymentArn"]
        d = wait_for(lambda: self.bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn),
                     lambda r: r["status"] != "Creating", 120, "deployment " + name)
        assert d["status"] == "Active", d
        return arn


def train(caller, tmp):
    """Two custom models: {word: model ARN}, each answering PROMPT with WORDS[word]."""
    jobs = {word: start_training(caller.bedrock, tmp, word) for word in WORDS}
    models = {}
    for word, job in jobs.items():
        j = wait_for(lambda: caller.bedrock.get_model_customization_job(jobIdentifier=job),
                     lambda r: r["status"] not in ("InProgress", "Stopping"), 300, "fine-tuning " + word)
        assert j["status"] == "Completed", j
        models[word] = j["outputModelArn"]
    return models


def bad_input_part(caller, deployment):
    """The extension operations refuse what they must, as Bedrock's errors."""
    traffic = "/lathe/custom-model-deployments/%s/traffic" % deployment

    def refused(expected_type, http, method, path, body=None, mentions=None):
        status, answer, error = caller.signed(method, path, body)
        assert (status, error) == (http, expected_type), (method, path, body, status, error, answer)
        if mentions:
            assert mentions in answer.get("message", answer.get("Message", "")), (mentions, answer)

    refused("ValidationException", 400, "PUT", traffic, {"challengerWeight": "0.5"}, "challengerWeight")
    refused("ValidationException", 400, "PUT", traffic, {"challengerWeight": 1.5}, "challengerWeight")
    refused("ValidationException", 400, "PUT", traffic, {"challengerModelArn": 7}, "challengerModelArn")
    refused("ValidationException", 400, "PUT", traffic, {"challengerModelArn": "a" * 2000}, "challengerModelArn")
    refused("ValidationException", 400, "PUT", traffic, {"sticky": "yes"}, "sticky")
    refused("ValidationException", 400, "PUT", traffic, {"rollbackPolicy": {"bogus": 1}}, "bogus")
    refused("ValidationException", 400, "PUT", traffic, {"rollbackPolicy": {"maxErrorRate": -1}}, "maxErrorRate")
    refused("ValidationException", 400, "PUT", traffic, {"rollbackPolicy": "on"}, "rollbackPolicy")
    refused("ValidationException", 400, "PUT", traffic, b"[1, 2]")
    refused("ValidationException", 400, "PUT", traffic, b"{not json")
    refused("ResourceNotFoundException", 404, "PUT", "/lathe/custom-model-deployments/no-such-deployment/traffic",
            {"challengerWeight": 0.1})
    forged = urllib.parse.quote("arn:aws:bedrock:%s:%s:custom-model-deployment/zzzzzzzzzzzz" % (REGION, ACCOUNT), "")
    refused("ResourceNotFoundException", 404, "GET", "/lathe/custom-model-deployments/%s/stats" % forged)
    status, _, _ = caller.signed("GET", "/lathe/custom-model-deployments/%s/stats" % ("x" * 4000))
    assert status in (400, 404), status  # a hostile name is refused, never a server error

    refused("ResourceNotFoundException", 404, "POST", "/lathe/feedback",
            {"responseId": "resp-" + "z" * 20, "rating": "up"})
    refused("ValidationException", 400, "POST", "/lathe/feedback", {"responseId": "r" * 10000, "rating": "up"})
    refused("ValidationException", 400, "POST", "/lathe/feedback", {"responseId": 12, "rating": "up"})
    refused("ValidationException", 400, "POST", "/lathe/feedback", {"rating": "up"})
    refused("ValidationException", 400, "POST", "/lathe/feedback", {"responseId": "resp-x", "rating": "sideways"})
    refused("ValidationException", 400, "POST", "/lathe/feedback", {"responseId": "resp-x", "score": "high"})
    refused("ValidationException", 400, "POST", "/lathe/feedback", {"responseId": "resp-x", "score": 7})
    refused("ValidationException", 400, "POST", "/lathe/feedback", {"responseId": "resp-x"})
    refused("ValidationException", 400, "POST", "/lathe/feedback",
            {"responseId": "resp-x", "rating": "up", "comment": "c" * 5000})

    stats = "/lathe/custom-model-deployments/%s/stats" % deployment
    for window in ("0", "abc", "-5", "99999999", "1e3", ""):
        refused("ValidationException", 400, "GET", stats + "?windowSeconds=" + window, mentions="windowSeconds")
    # An unsigned call is not an extension's backdoor.
    request = urllib.request.Request(caller.server.url + stats, method="GET")
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("an unsigned stats call succeeded")
    except urllib.error.HTTPError as e:
        assert e.code == 403, e.code
    print("ok: the extension operations' bad input is ValidationException / ResourceNotFoundException")


def ab_part(caller, models, known):
    """A fixed challenger with 30% sticky traffic: every user's variant as the hash says."""
    arn = caller.deploy("bank-ab", models["alpha"])
    bad_input_part(caller, "bank-ab")
    caller.lathe("deployments", "split", "bank-ab", "--challenger", models["bravo"], "--weight", "0.3")
    users = ["customer-%03d" % i for i in range(120)]
    expected = {u: expected_variant(arn, u, 0.3) for u in users}
    first_challenger = next(u for u in users if expected[u] == "challenger")
    # The challenger takes traffic once it has loaded.
    wait_for(lambda: caller.invoke(arn, first_challenger)[1]["x-lathe-variant"], lambda v: v == "challenger", 60,
             "the challenger to load")
    served = {"champion": models["alpha"], "challenger": models["bravo"]}
    text_of = {"champion": known["alpha"], "challenger": known["bravo"]}
    for round_ in range(2):
        for u in users:
            if round_ == 0:
                text, headers = caller.invoke(arn, u)
            else:  # Converse's requestMetadata.userId is the same key
                conv = caller.runtime.converse(modelId=arn, messages=[{"role": "user", "content": [{"text": PROMPT}]}],
                                               inferenceConfig={"maxTokens": 12, "temperature": 0},
                                               requestMetadata={"userId": u})
                headers = conv["ResponseMetadata"]["HTTPHeaders"]
                text = None
            assert headers["x-lathe-variant"] == expected[u], (u, round_, headers, expected[u])
            assert headers["x-lathe-served-model"] == served[expected[u]], (u, headers)
            if text is not None:
                assert text == text_of[expected[u]], (u, text)
    share = sum(v == "challenger" for v in expected.values()) / float(len(users))
    assert 0.15 <= share <= 0.45, share
    # The same users meet the same variants after the weight grows (those below it stay).
    caller.lathe("deployments", "split", "bank-ab", "--weight", "0.6")
    for u in users:
        if expected[u] == "challenger":
            assert caller.invoke(arn, u)[1]["x-lathe-variant"] == "challenger", u
    out = caller.lathe("deployments", "show", "bank-ab")[1]
    assert "60% to " + models["bravo"] in out and "sticky by user id" in out, out
    caller.bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=arn)
    print("ok: A/B with %d sticky users, %.0f%% to the challenger, each user's variant exactly as the hash says"
          % (len(users), share * 100))


def subscribe_email(caller, topic):
    caller.sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ml-team@example.com")
    confirmation = wait_for_outbox(caller.args.lathe, caller.server.data_dir,
                                   lambda e: e["topicArn"] == topic and "Confirmation" in e["subject"])
    text = lathe_notifications(caller.args.lathe, caller.server.data_dir, "--show", confirmation["id"])
    link = [w for w in text.split() if w.startswith("http://") and "ConfirmSubscription" in w][0]
    with urllib.request.urlopen(link, timeout=10) as r:
        assert r.status == 200


def canary_part(caller, known):
    caller.registry("alias", "set", GROUP, "production", "1", "--reason", "first release")
    arn = caller.deploy("bank-canary", GROUP + ":production")
    caller.lathe("deployments", "split", "bank-canary", "--rollback", "--canary-weight", "0.5", "--watch", "1h",
                 "--window", "5m", "--min-requests", "1000", "--min-feedback", "3", "--min-positive-feedback", "0.5")
    topic = caller.sns.create_topic(Name="deployment-alerts")["TopicArn"]
    subscribe_email(caller, topic)
    caller.events.put_rule(Name="deployment-rolled-back", EventPattern=json.dumps(
        {"source": ["lathe.deployments"], "detail-type": ["Deployment Rolled Back"]}))
    put = caller.events.put_targets(Rule="deployment-rolled-back", Targets=[{"Id": "alerts", "Arn": topic}])
    assert put["FailedEntryCount"] == 0, put

    users = ["member-%03d" % i for i in range(40)]
    expected = {u: expected_variant(arn, u, 0.5) for u in users}
    canary_users = [u for u in users if expected[u] == "challenger"]
    steady_users = [u for u in users if expected[u] == "champion"]
    assert len(canary_users) >= 5 and len(steady_users) >= 5, expected
    assert caller.invoke(arn, canary_users[0])[1]["x-lathe-served-model"] == GROUP + "/1"

    # The deliberately worse version takes the alias: the canary gets half the traffic.
    caller.registry("alias", "set", GROUP, "production", "2", "--reason", "v2 release")
    wait_for(lambda: caller.invoke(arn, canary_users[0])[1]["x-lathe-variant"], lambda v: v == "challenger", 60,
             "the canary to take traffic")
    responses = {}
    for u in users:
        text, headers = caller.invoke(arn, u)
        assert headers["x-lathe-variant"] == expected[u], (u, headers)
        served = GROUP + ("/2" if expected[u] == "challenger" else "/1")
        assert headers["x-lathe-served-model"] == served, (u, headers)
        assert text == known["bravo" if expected[u] == "challenger" else "alpha"], (u, text)
        responses[u] = headers["x-lathe-response-id"]
    # Thumbs up for the champion (a signed call of the operation), down for the canary (the CLI).
    for u in steady_users[:4]:
        status, _, error = caller.signed("POST", "/lathe/feedback", {"responseId": responses[u], "rating": "up"})
        assert status == 200, (status, error)
    for u in canary_users[:3]:
        caller.lathe("deployments", "feedback", responses[u], "down", "--comment", "wrong code word for " + u)

    # The follower judges the canary: positive feedback 0/3 < 0.5, so the alias moves back.
    history = wait_for(lambda: caller.registry("alias", "history", GROUP, "production"),
                       lambda h: h[-1]["rollback"], 30, "the automatic rollback")
    last = history[-1]
    assert (last["fromVersion"], last["toVersion"]) == (2, 1), last
    assert last["actor"] == "lathe-deployments" and "positive feedback 0.00 < 0.50" in last["reason"], last
    assert caller.registry("aliases", GROUP)["production"] == 1

    # The canary gets no more traffic.
    for u in canary_users:
        text, headers = caller.invoke(arn, u)
        assert headers["x-lathe-variant"] == "champion" and headers["x-lathe-served-model"] == GROUP + "/1", (u, headers)
        assert text == known["alpha"], text

    # The team hears about it: EventBridge -> SNS -> the email outbox, with the reason.
    mail = wait_for_outbox(caller.args.lathe, caller.server.data_dir,
                           lambda e: e["topicArn"] == topic and "Confirmation" not in e["subject"])
    body = lathe_notifications(caller.args.lathe, caller.server.data_dir, "--show", mail["id"])
    assert "Deployment Rolled Back" in body and "positive feedback 0.00 < 0.50" in body, body
    assert "bank-canary" in body and GROUP + "/2" in body, body

    # Per-variant numbers from the server.
    stats = json.loads(caller.lathe("deployments", "stats", "bank-canary", "--window", "1h", "--json")[1])
    variants = {v["served"]: v for v in stats["variants"]}
    champion, canary = variants[GROUP + "/1"], variants[GROUP + "/2"]
    assert champion["variant"] == "champion" and canary["variant"] == "retired", stats
    # Every canary user once, and the probe that first met the canary.
    assert canary["window"]["requests"] == len(canary_users) + 1, stats
    assert canary["window"]["feedback"] == 3 and canary["window"]["positive"] == 0, canary
    assert champion["window"]["feedback"] == 4 and champion["window"]["positive"] == 4, champion
    assert champion["window"]["errors"] == 0 and canary["window"]["errors"] == 0, stats
    assert any("wrong code word" in c for c in canary["comments"]), canary
    assert stats["rollbacks"] and "positive feedback" in stats["rollbacks"][-1]["reason"], stats
    table = caller.lathe("deployments", "stats", "bank-canary")[1]
    for needle in ("VARIANT", "champion", "retired", GROUP + "/2", "Rollbacks:", "wrong code word"):
        assert needle in table, (needle, table)

    # Without the server: the numbers it flushed to lathe.db (every few seconds).
    def offline():
        code, out, err = caller.lathe("deployments", "stats", "bank-canary", "--json", "--data-dir",
                                      caller.server.data_dir, endpoint="http://127.0.0.1:9", ok=False)
        assert code == 0, (out, err)
        return json.loads(out)
    flushed = wait_for(offline, lambda s: {v["served"]: v["total"]["feedback"] for v in s["variants"]} ==
                       {GROUP + "/1": 4, GROUP + "/2": 3}, 30, "the flushed stats")
    by_served = {v["served"]: v for v in flushed["variants"]}
    assert by_served[GROUP + "/2"]["variant"] == "retired" and by_served[GROUP + "/1"]["variant"] == "champion"
    assert by_served[GROUP + "/2"]["total"]["positive"] == 0, flushed
    print("ok: the worse canary rolled back on feedback (alias history, no more traffic, email with the reason), "
          "stats from the server and from lathe.db")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lathe", required=True)
    parser.add_argument("--shared", required=True)
    args = parser.parse_args()
    require_stories(args.shared)
    with tempfile.TemporaryDirectory() as tmp:
        config = stories_config(args.lathe, args.shared, tmp)
        with Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET), config=config).start() as server:
            caller = Caller(args, server)
            models = train(caller, tmp)
            known = {word: caller.invoke(arn)[0] for word, arn in models.items()}
            assert known["alpha"] != known["bravo"], known
            print("ok: two fine-tuned models answer %r and %r" % (known["alpha"], known["bravo"]))
            caller.sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
            for word in ("alpha", "bravo"):
                caller.sagemaker.create_model_package(ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved",
                                                      CustomerMetadataProperties={"customModelArn": models[word]})
            ab_part(caller, models, known)
            canary_part(caller, known)
    print("deployments_canary_test: OK")


if __name__ == "__main__":
    main()
