#!/usr/bin/env python3
"""Operations with one real `lathe serve` at a time (docs/operations.md):

1. Upgrade: a data directory as lathe 0.1 left it (tests/fixtures/make_v1_data_dir.py, schema
   without a version) is served by this lathe: the same job, custom model, provisioned throughput,
   tags and S3 objects through boto3, the model answers, lathe.db was backed up before the upgrade
   and carries the new version; a lathe.db from a newer lathe makes `lathe serve` refuse to start.
2. Backup and restore: `lathe backup` while a job trains, the original data directory moved away,
   `lathe restore` into a new one (a non-empty target refused), a server started there lists the
   same jobs, custom models, throughput, tags and S3 objects (bytes equal) and InvokeModel at
   temperature 0 answers the same text. boto3 writes to a bucket during the backup: the restored
   bucket is its state at one point in time. `lathe doctor` on the live data directory first.
   The same through S3: `lathe backup --to s3://` into the server's own S3, `lathe restore --from
   s3://`, a server there shows the same.

  operations_test.py --lathe build/lathe --home build/test-lathe-home
Exit 77 (skipped) without boto3.
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
# Exits 77 (skipped) without boto3.
from lathe_harness import NO_RETRY, Server, forget_caller_aws_settings, small_default_model, wait_for  # noqa: E402
import boto3  # noqa: E402

KEY_ID, SECRET = "LATHETESTKEY000022", "lathe-test-secret-operations-0123456789"
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/lathe-test"
FIXTURE = os.path.join(HERE, "..", "fixtures", "make_v1_data_dir.py")


def clients(server):
    s = boto3.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
    return (s.client("bedrock", endpoint_url=server.url, config=NO_RETRY),
            s.client("bedrock-runtime", endpoint_url=server.url, config=NO_RETRY),
            s.client("s3", endpoint_url=server.url, config=NO_RETRY))


def greedy(runtime, model_id):
    """InvokeModel at temperature 0. After a start, a throughput listed InService may still be loading
    its model in the background (ThrottlingException until then): retried for up to 60 s."""
    body = json.dumps({"inputText": "Tell me about dog 3", "textGenerationConfig": {"maxTokenCount": 24, "temperature": 0}})
    deadline = time.time() + 60
    while True:
        try:
            answer = runtime.invoke_model(modelId=model_id, body=body)
            return json.loads(answer["body"].read())["results"][0]["outputText"]
        except runtime.exceptions.ThrottlingException:
            assert time.time() < deadline, "the throughput never loaded its model"
            time.sleep(0.3)


def in_service(bedrock, arn):
    return wait_for(lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=arn), lambda r: r["status"] != "Creating",
                    60, "the throughput")["status"]


def state(bedrock, s3):
    """What a user sees: jobs, custom models, throughput, their tags, and every S3 object's bytes."""
    jobs = {j["jobArn"]: j["jobName"] for j in bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]}
    models = {m["modelArn"]: m["modelName"] for m in bedrock.list_custom_models()["modelSummaries"]}
    pts = {p["provisionedModelArn"]: (p["provisionedModelName"], p["modelArn"])
           for p in bedrock.list_provisioned_model_throughputs()["provisionedModelSummaries"]}
    tags = {arn: sorted((t["key"], t["value"]) for t in bedrock.list_tags_for_resource(resourceARN=arn)["tags"])
            for arn in list(jobs) + list(models) + list(pts)}
    objects = {}
    for b in s3.list_buckets()["Buckets"]:
        for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", []):
            objects[(b["Name"], o["Key"])] = (o["ETag"], s3.get_object(Bucket=b["Name"], Key=o["Key"])["Body"].read())
    return {"jobs": jobs, "models": models, "throughput": pts, "tags": tags, "objects": objects}


LIVE_BUCKET, BACKUP_BUCKET = "ops-live", "ops-backups"


class LiveWriter(threading.Thread):
    """boto3 writes while `lathe backup` runs: for i = 0, 1, ... PutObject w-i (body "write i"), then
    overwrites live.txt with "i" (which frees the blob of i - 1: a blob the backup's snapshot may
    name)."""

    def __init__(self, s3):
        super().__init__(daemon=True)
        self.s3, self.written, self.stop, self.error = s3, 0, threading.Event(), None

    def run(self):
        try:
            while not self.stop.is_set():
                i = self.written
                self.s3.put_object(Bucket=LIVE_BUCKET, Key="w-%05d" % i, Body=b"write %d" % i)
                self.s3.put_object(Bucket=LIVE_BUCKET, Key="live.txt", Body=b"%d" % i)
                self.written = i + 1
        except Exception as e:  # noqa: BLE001 - reported by __exit__
            self.error = e

    def __enter__(self):
        self.start()
        # A few writes done before the backup starts, so that it meets a bucket being written.
        wait_for(lambda: self.written, lambda n: n >= 3 or self.error, 30, "the first writes")
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join(30)
        assert self.error is None, self.error

    @staticmethod
    def check_one_point_in_time(live):
        """The restored bucket is the state after some write: w-0 .. w-m, each with its bytes, and
        live.txt from the same moment (m - 1 before its overwrite, or m)."""
        keys = sorted(k for k in live if k.startswith("w-"))
        m = len(keys) - 1
        assert m >= 2 and keys == ["w-%05d" % i for i in range(m + 1)], keys
        for i, k in enumerate(keys):
            assert live[k] == b"write %d" % i, (k, live[k])
        assert live["live.txt"] in (b"%d" % (m - 1), b"%d" % m), (m, live["live.txt"])
        assert set(live) == set(keys) | {"live.txt"}, sorted(live)


def doctor(args, data, server):
    """`lathe doctor` on the data directory of the running server: no error, the port named as held
    by that lathe serve, lathe.db's integrity checked."""
    r = subprocess.run([args.lathe, "doctor", "--data-dir", data, "--listen", "%s:%d" % (server.host, server.port), "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    found = json.loads(r.stdout)
    assert found["errors"] == 0, found
    what = {f["area"]: [] for f in found["findings"]}
    for f in found["findings"]:
        what[f["area"]].append(f["what"])
    assert any("serve.lock" in w for w in what["port"]), what["port"]
    assert any("integrity_check: ok" in w for w in what["store"]), what["store"]
    print("ok   lathe doctor on the live data directory: %d findings, no errors; %s" % (len(found["findings"]), what["port"][0]))


def upgrade_from_0_1(args, tmp, config, model_dir):
    data = os.path.join(tmp, "old")
    made = json.loads(subprocess.run([sys.executable, FIXTURE, data, "--model", model_dir], check=True,
                                     capture_output=True, text=True).stdout)
    with Server(args.lathe, data, keys=(KEY_ID, SECRET), config=config).start() as server:
        bedrock, runtime, s3 = clients(server)
        seen = state(bedrock, s3)
        assert seen["jobs"] == {made["job"]: "fixture-job"}, seen["jobs"]
        assert seen["models"] == {made["custom_model"]: "fixture-model"}, seen["models"]
        assert list(seen["throughput"]) == [made["throughput"]], seen["throughput"]
        for arn, tags in made["tags"].items():
            assert seen["tags"][arn] == sorted(tags.items()), (arn, seen["tags"][arn])
        import hashlib
        assert {k: hashlib.sha256(body).hexdigest() for (_, k), (_, body) in seen["objects"].items()} == made["objects"]
        assert in_service(bedrock, made["throughput"]) == "InService"
        assert greedy(runtime, made["throughput"]), "no text"
    db = sqlite3.connect(os.path.join(data, "lathe.db"))
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 2
    db.close()
    backups = [f for f in os.listdir(data) if f.startswith("lathe.db.backup-v0-")]
    assert len(backups) == 1, os.listdir(data)
    with open(os.path.join(data, "layout-version")) as f:
        assert f.read() == "1\n"
    print("ok   a lathe 0.1 data directory is upgraded (backup first) and serves the same jobs, models, tags, objects")

    db = sqlite3.connect(os.path.join(data, "lathe.db"))
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    r = subprocess.run([args.lathe, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--default-build", "first-use"],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, LATHE_ACCESS_KEY_ID=KEY_ID, LATHE_SECRET_ACCESS_KEY=SECRET))
    assert r.returncode != 0, r.stdout
    assert "schema version 99" in r.stderr and os.path.join(data, "lathe.db") in r.stderr, r.stderr
    print("ok   a lathe.db from a newer lathe is refused: %s" % r.stderr.strip().splitlines()[-1][:120])


def backup_and_restore(args, tmp, config):
    data = os.path.join(tmp, "data")
    with Server(args.lathe, data, keys=(KEY_ID, SECRET), config=config).start() as server:
        bedrock, runtime, s3 = clients(server)
        s3.create_bucket(Bucket="ops-data")
        records = "".join(json.dumps({"prompt": "Tell me about dog %d" % i, "completion": "Dog %d ran in the park." % i}) + "\n"
                          for i in range(12))
        s3.put_object(Bucket="ops-data", Key="train.jsonl", Body=records.encode())
        s3.put_object(Bucket="ops-data", Key="notes/a b+c.txt", Body=b"\x00binary\xffbytes")
        first = bedrock.create_model_customization_job(
            jobName="ops-first", customModelName="ops-model", roleArn=ROLE, baseModelIdentifier="lathe.default-v1",
            trainingDataConfig={"s3Uri": "s3://ops-data/train.jsonl"}, outputDataConfig={"s3Uri": "s3://ops-data/out/"},
            hyperParameters={"epochCount": "8", "batchSize": "4", "learningRate": "0.01"},
            customModelTags=[{"key": "stage", "value": "dev"}])["jobArn"]
        done = wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=first),
                        lambda j: j["status"] != "InProgress", 120, "the first job")
        assert done["status"] == "Completed", done.get("failureMessage")
        pt = bedrock.create_provisioned_model_throughput(modelUnits=1, provisionedModelName="ops-pt",
                                                         modelId=done["outputModelArn"])["provisionedModelArn"]
        bedrock.tag_resource(resourceARN=pt, tags=[{"key": "team", "value": "ops"}])
        assert in_service(bedrock, pt) == "InService"
        text = greedy(runtime, pt)
        # The fine-tune shows in the text: what is compared after the restore is the trained model's.
        base = greedy(runtime, "lathe.default-v1")
        print("base %r, fine-tuned %r" % (base, text))
        assert text != base, (text, base)
        # A job long enough to be training during the backup; checkpoints every few steps.
        second = bedrock.create_model_customization_job(
            jobName="ops-training", customModelName="ops-model-2", roleArn=ROLE, baseModelIdentifier="lathe.default-v1",
            trainingDataConfig={"s3Uri": "s3://ops-data/train.jsonl"}, outputDataConfig={"s3Uri": "s3://ops-data/out2/"},
            hyperParameters={"epochCount": "100", "batchSize": "1"})["jobArn"]
        wait_for(lambda: bedrock.get_model_customization_job(jobIdentifier=second),
                 lambda j: j.get("trainingMetrics", {}).get("trainingLoss") is not None, 60, "the second job training")
        s3.create_bucket(Bucket=LIVE_BUCKET)
        s3.create_bucket(Bucket=BACKUP_BUCKET)
        before = state(bedrock, s3)
        doctor(args, data, server)
        with LiveWriter(s3) as writer:
            r = subprocess.run([args.lathe, "backup", "--to", os.path.join(tmp, "backup"), "--data-dir", data, "--json"],
                               capture_output=True, text=True, timeout=120)
            during = writer.written
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["s3Objects"] >= 3 and report["schemaVersion"] >= 2, report
        from_s3 = backup_through_s3(args, tmp, data, server)
        assert bedrock.get_model_customization_job(jobIdentifier=second)["status"] == "InProgress", "the job ended before the backup"
        bedrock.stop_model_customization_job(jobIdentifier=second)
    print("ok   lathe backup while a job trains and boto3 writes (%d writes by the end of the backup, %d attempt(s)): "
          "%d files, %d bytes" % (during, report["attempts"], report["files"], report["bytes"]))

    # The original goes away: the restored server must not read anything of it.
    shutil.move(data, data + "-moved")
    restored = os.path.join(tmp, "restored")
    os.makedirs(os.path.join(tmp, "full"))
    with open(os.path.join(tmp, "full", "keep"), "w") as f:
        f.write("mine")
    r = subprocess.run([args.lathe, "restore", "--from", os.path.join(tmp, "backup"), "--data-dir", os.path.join(tmp, "full")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "is not empty" in r.stderr, (r.returncode, r.stderr)
    r = subprocess.run([args.lathe, "restore", "--from", os.path.join(tmp, "backup"), "--data-dir", restored],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for where, directory in (("a new data directory", restored), ("a data directory from s3://", from_s3)):
        serves_as_before(args, directory, config, before, pt, second, text)
        print("ok   restored into %s: the same jobs, models, throughput, tags, S3 bytes and greedy text %r" % (where, text))


def backup_through_s3(args, tmp, data, server):
    """`lathe backup --to s3://` of the live data directory into the server's own S3 (any S3 would
    do), refused a second time on the same prefix; `lathe restore --from s3://` into a new
    directory: the files and their modes come back. Returns that directory."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)
    backup = [args.lathe, "backup", "--to", "s3://%s/nightly/" % BACKUP_BUCKET, "--data-dir", data, "--endpoint", server.url]
    r = subprocess.run(backup + ["--json"], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    sent = json.loads(r.stdout)
    r = subprocess.run(backup, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 1 and "a backup is there already" in r.stderr, (r.returncode, r.stderr)
    restored = os.path.join(tmp, "from-s3")
    r = subprocess.run([args.lathe, "restore", "--from", "s3://%s/nightly" % BACKUP_BUCKET, "--data-dir", restored,
                        "--endpoint", server.url, "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert (got["files"], got["bytes"]) == (sent["files"], sent["bytes"]), (got, sent)
    for rel in ("lathe.db", "credentials.json"):
        if os.path.exists(os.path.join(data, rel)):
            mode = os.stat(os.path.join(data, rel)).st_mode & 0o777
            assert os.stat(os.path.join(restored, rel)).st_mode & 0o777 == mode, rel
    print("ok   lathe backup --to s3:// (%d files, a second one on the prefix refused), lathe restore --from s3://"
          % sent["files"])
    return restored


def serves_as_before(args, restored, config, before, pt, second, text):
    """A server on the restored directory shows what the original showed before the backup: the same
    jobs, models, throughput, tags, S3 objects (the live bucket at one point in time) and text."""
    with Server(args.lathe, restored, keys=(KEY_ID, SECRET), config=config).start() as server:
        bedrock, runtime, s3 = clients(server)
        after = state(bedrock, s3)
        for what in ("jobs", "models", "throughput", "tags"):
            assert after[what] == before[what], (what, before[what], after[what])
        live = {k: body for (b, k), (_, body) in after["objects"].items() if b == LIVE_BUCKET}
        after_objects = {bk: v for bk, v in after["objects"].items() if bk[0] != LIVE_BUCKET}
        assert after_objects == before["objects"], (sorted(before["objects"]), sorted(after_objects))
        LiveWriter.check_one_point_in_time(live)
        assert in_service(bedrock, pt) == "InService"
        assert greedy(runtime, pt) == text, (greedy(runtime, pt), text)
        # The job that was training resumes in the restored directory; stopped here to save time.
        job = bedrock.get_model_customization_job(jobIdentifier=second)
        assert job["status"] in ("InProgress", "Stopping", "Stopped"), job["status"]
        if job["status"] == "InProgress":
            bedrock.stop_model_customization_job(jobIdentifier=second)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--home", required=True)
    args = p.parse_args()
    args.lathe, args.home = os.path.abspath(args.lathe), os.path.abspath(args.home)
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    config = {"models": small_default_model(args.lathe, args.home)}
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        upgrade_from_0_1(args, tmp, config, config["models"]["lathe.default-v1"])
        backup_and_restore(args, tmp, config)
    print("operations: passed in %.1f s" % (time.time() - started))


if __name__ == "__main__":
    main()
