#!/usr/bin/env python3
"""Lambda on `lathe serve`, with the AWS CLI and boto3 as users run them.

Run by ctest (tests/CMakeLists.txt, `lambda`) as:
  lambda_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 or the `aws` CLI is missing.

1. The AWS CLI: create-function --zip-file fileb://function.zip, invoke, get-function,
   list-functions (with the built-ins), update-function-configuration / -code, delete-function.
2. boto3: Invoke with LogType Tail, a handler's exception (FunctionError Unhandled, AWS's error
   payload), a timeout, an Event invocation run later, DryRun; a function that calls lathe's S3
   with boto3 through the AWS_ENDPOINT_URL lathe gives it.
3. The built-in validate-training-data on a good and a broken dataset uploaded to S3.
4. kill -9 while an Event invocation runs: the function survives and the invocation runs again.
5. Bad input answered with Lambda's codes and statuses.
6. An EventBridge rule with a function target invokes it with the event.
"""
import argparse
import base64
import io
import json
import os
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, AwsCli, Server, expect_error, forget_caller_aws_settings, require_aws_cli

import boto3
from botocore.config import Config

KEY_ID, SECRET = "LATHELAMBDATESTKEY01", "lathe-lambda-secret-0123456789abcdefghij"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"

HANDLER = '''import json, os, time
def lambda_handler(event, context):
    print("event:", json.dumps(event))
    if event.get("fail"):
        raise ValueError("asked to fail: %s" % event["fail"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("touch"):
        with open(event["touch"], "w") as f:
            f.write(json.dumps(event))
    if event.get("buckets"):
        import boto3
        return sorted(b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"])
    return {"statusCode": 200, "body": event.get("name", "world"), "function": context.function_name,
            "greeting": os.environ.get("GREETING")}
'''


def make_zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def records(n, broken=False):
    lines = [json.dumps({"prompt": "Customer: question %d\nAgent:" % i, "completion": " answer %d" % i}) for i in range(n)]
    if broken:
        lines[3] = '{"prompt": "no completion here"}'
    return ("\n".join(lines) + "\n").encode()


def wait_for(pred, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def cli_part(server, tmp):
    cli = AwsCli(os.path.join(tmp, "cli-home"), server.url, (KEY_ID, SECRET), REGION, cwd=tmp)
    with open(os.path.join(tmp, "function.zip"), "wb") as f:
        f.write(make_zip({"lambda_function.py": HANDLER}))
    r = cli.run("lambda", "create-function", "--function-name", "cli-fn", "--runtime", "python3.12", "--role", ROLE,
                "--handler", "lambda_function.lambda_handler", "--zip-file", "fileb://function.zip",
                "--environment", "Variables={GREETING=hello}", "--timeout", "10")
    created = json.loads(r.stdout)
    assert created["FunctionArn"] == "arn:aws:lambda:%s:000000000000:function:cli-fn" % REGION, created
    assert created["Runtime"] == "python3.12" and created["State"] == "Active", created
    with open(os.path.join(tmp, "event.json"), "w") as f:
        json.dump({"name": "cli"}, f)
    r = cli.run("lambda", "invoke", "--function-name", "cli-fn", "--payload", "fileb://event.json", "out.json")
    meta = json.loads(r.stdout)
    assert meta["StatusCode"] == 200 and "FunctionError" not in meta, meta
    with open(os.path.join(tmp, "out.json")) as f:
        out = json.load(f)
    assert out == {"statusCode": 200, "body": "cli", "function": "cli-fn", "greeting": "hello"}, out
    # A handler's exception: exit 0, FunctionError in the metadata, the error in the file.
    with open(os.path.join(tmp, "fail.json"), "w") as f:
        json.dump({"fail": "please"}, f)
    r = cli.run("lambda", "invoke", "--function-name", "cli-fn", "--payload", "fileb://fail.json", "err.json")
    assert json.loads(r.stdout)["FunctionError"] == "Unhandled", r.stdout
    with open(os.path.join(tmp, "err.json")) as f:
        err = json.load(f)
    assert err["errorType"] == "ValueError" and err["errorMessage"] == "asked to fail: please", err
    names = [f["FunctionName"] for f in json.loads(cli.run("lambda", "list-functions").stdout)["Functions"]]
    assert names == ["check-finetuning-status", "cli-fn", "evaluate-finetuned-model", "register-model-version",
                     "start-bedrock-finetuning", "validate-training-data"], names
    got = json.loads(cli.run("lambda", "get-function", "--function-name", "cli-fn").stdout)
    assert got["Configuration"]["Environment"]["Variables"] == {"GREETING": "hello"}, got
    cli.run("lambda", "update-function-configuration", "--function-name", "cli-fn", "--environment",
            "Variables={GREETING=bonjour}", "--memory-size", "256")
    with open(os.path.join(tmp, "v2.zip"), "wb") as f:
        f.write(make_zip({"lambda_function.py": "def lambda_handler(e, c):\n    return {'version': 2}\n"}))
    updated = json.loads(cli.run("lambda", "update-function-code", "--function-name", "cli-fn",
                                 "--zip-file", "fileb://v2.zip").stdout)
    assert updated["MemorySize"] == 256 and updated["CodeSha256"] != created["CodeSha256"], updated
    cli.run("lambda", "invoke", "--function-name", "cli-fn", "v2.json")
    with open(os.path.join(tmp, "v2.json")) as f:
        assert json.load(f) == {"version": 2}
    r = cli.run("lambda", "invoke", "--function-name", "no-such-fn", "x.json", ok=False)
    assert r.returncode != 0 and "ResourceNotFoundException" in r.stderr, r.stderr
    cli.run("lambda", "delete-function", "--function-name", "cli-fn")
    r = cli.run("lambda", "get-function", "--function-name", "cli-fn", ok=False)
    assert "ResourceNotFoundException" in r.stderr, r.stderr
    print("ok: the AWS CLI's create-function, invoke, get/list, update and delete")


def client(server, service):
    return boto3.client(service, endpoint_url=server.url, region_name=REGION, aws_access_key_id=KEY_ID,
                        aws_secret_access_key=SECRET, config=NO_RETRY)


def boto3_part(server, tmp):
    lam = client(server, "lambda")
    zipped = make_zip({"lambda_function.py": HANDLER})
    lam.create_function(FunctionName="py-fn", Runtime="python3.12", Role=ROLE, Handler="lambda_function.lambda_handler",
                        Code={"ZipFile": zipped}, Timeout=2)
    r = lam.invoke(FunctionName="py-fn", Payload=json.dumps({"name": "boto3"}), LogType="Tail")
    assert r["StatusCode"] == 200 and "FunctionError" not in r, r
    assert json.loads(r["Payload"].read())["body"] == "boto3"
    log = base64.b64decode(r["LogResult"]).decode()
    assert 'event: {"name": "boto3"}' in log and "REPORT RequestId:" in log, log
    r = lam.invoke(FunctionName="py-fn", Payload=json.dumps({"fail": "x"}))
    assert r["FunctionError"] == "Unhandled", r
    err = json.loads(r["Payload"].read())
    assert err["errorType"] == "ValueError" and isinstance(err["stackTrace"], list) and err["stackTrace"], err
    r = lam.invoke(FunctionName="py-fn", Payload=json.dumps({"sleep": 30}))
    err = json.loads(r["Payload"].read())
    assert r["FunctionError"] == "Unhandled" and "Task timed out after 2.00 seconds" in err["errorMessage"], err
    assert lam.invoke(FunctionName="py-fn", InvocationType="DryRun")["StatusCode"] == 204
    touched = os.path.join(tmp, "event-ran.json")
    r = lam.invoke(FunctionName="py-fn", InvocationType="Event", Payload=json.dumps({"touch": touched}))
    assert r["StatusCode"] == 202, r
    wait_for(lambda: os.path.exists(touched), what="the Event invocation to run")
    # The function calls lathe itself with boto3: AWS_ENDPOINT_URL and keys come with its environment.
    # Importing boto3 alone can take 2 s on a loaded 2-core machine: a timeout that fits it.
    lam.update_function_configuration(FunctionName="py-fn", Timeout=30)
    client(server, "s3").create_bucket(Bucket="lambda-sees-this")
    r = lam.invoke(FunctionName="py-fn", Payload=json.dumps({"buckets": True}))
    assert "FunctionError" not in r, r["Payload"].read()
    assert "lambda-sees-this" in json.loads(r["Payload"].read())
    # A handler's module and function by ARN, partial ARN and with $LATEST.
    for name in ("arn:aws:lambda:%s:000000000000:function:py-fn" % REGION, "000000000000:function:py-fn", "py-fn:$LATEST"):
        assert lam.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200, name
    print("ok: boto3 invoke (Tail logs, errors, timeout, Event, DryRun, a function calling lathe)")


def builtins_part(server):
    s3, lam = client(server, "s3"), client(server, "lambda")
    s3.create_bucket(Bucket="training-bucket")
    s3.put_object(Bucket="training-bucket", Key="training-data/good.jsonl", Body=records(40))
    s3.put_object(Bucket="training-bucket", Key="training-data/bad.jsonl", Body=records(40, broken=True))
    good = json.loads(lam.invoke(FunctionName="validate-training-data", Payload=json.dumps(
        {"bucket": "training-bucket", "key": "training-data/good.jsonl"}))["Payload"].read())
    assert good["isValid"] is True and good["recordCount"] == 40 and good["format"] == "prompt-completion", good
    bad = json.loads(lam.invoke(FunctionName="validate-training-data", Payload=json.dumps(
        {"bucket": "training-bucket", "key": "training-data/bad.jsonl"}))["Payload"].read())
    assert bad["isValid"] is False and any("bad.jsonl:4" in e for e in bad["errors"]), bad
    # register-model-version is there (issue #15): a model that does not exist is a function error.
    missing = lam.invoke(FunctionName="register-model-version", Payload=json.dumps({"customModelName": "nope"}))
    assert missing.get("FunctionError") == "Unhandled", missing
    error = json.loads(missing["Payload"].read())
    assert error["errorType"] == "ResourceNotFoundException" and "nope" in error["errorMessage"], error
    print("ok: validate-training-data on a good and a broken dataset; register-model-version names a missing model")


def eventbridge_part(server, tmp):
    """A rule whose target is a function: the event arrives as an asynchronous invocation."""
    lam, events = client(server, "lambda"), client(server, "events")
    marker = os.path.join(tmp, "from-eventbridge.json")
    code = "import json\ndef h(event, context):\n    open(event['detail']['path'], 'w').write(json.dumps(event))\n"
    arn = lam.create_function(FunctionName="on-event", Runtime="python3.12", Role=ROLE, Handler="app.h",
                              Code={"ZipFile": make_zip({"app.py": code})})["FunctionArn"]
    events.put_rule(Name="to-lambda", EventPattern=json.dumps({"source": ["lathe.test"]}))
    events.put_targets(Rule="to-lambda", Targets=[{"Id": "fn", "Arn": arn}])
    r = events.put_events(Entries=[{"Source": "lathe.test", "DetailType": "Test", "Detail": json.dumps({"path": marker})}])
    assert r["FailedEntryCount"] == 0, r
    wait_for(lambda: os.path.exists(marker), what="the rule's function to run")
    with open(marker) as f:
        event = json.load(f)
    assert event["source"] == "lathe.test" and event["detail-type"] == "Test", event
    print("ok: an EventBridge rule invokes a function")


def restart_part(server):
    lam = client(server, "lambda")
    marker = os.path.join(os.path.dirname(server.data_dir), "after-restart.json")
    # It calls lathe: after the restart it must get the new server's endpoint and keys (a leftover
    # event that ran before the server set them would reach AWS itself).
    code = ("import json, os, time, boto3\ndef h(event, context):\n    time.sleep(4)\n"
            "    name = boto3.client('lambda').get_function(FunctionName='durable-fn')['Configuration']['FunctionName']\n"
            "    open(event['path'], 'w').write(json.dumps([os.environ.get('AWS_ENDPOINT_URL'), name]))\n")
    lam.create_function(FunctionName="durable-fn", Runtime="python3.11", Role=ROLE, Handler="app.h", Timeout=30,
                        Code={"ZipFile": make_zip({"app.py": code})})
    # Queued, and killed with the server while it runs: run again after the restart (at least once).
    assert lam.invoke(FunctionName="durable-fn", InvocationType="Event",
                      Payload=json.dumps({"path": marker}))["StatusCode"] == 202
    time.sleep(1)
    server.kill9()
    assert not os.path.exists(marker)
    server.killed = False  # the restarted server is stopped cleanly at the end
    server.start()
    lam = client(server, "lambda")
    assert lam.get_function(FunctionName="durable-fn")["Configuration"]["Handler"] == "app.h"
    wait_for(lambda: os.path.exists(marker), what="the Event invocation to run after the restart")
    endpoint, name = json.loads(open(marker).read())
    assert endpoint == server.url and name == "durable-fn", (endpoint, name, server.url)
    print("ok: functions and queued Event invocations survive kill -9")


def bad_input_part(server):
    lam = client(server, "lambda")
    zipped = make_zip({"a.py": "def h(e, c): return 1\n"})
    base = dict(Runtime="python3.12", Role=ROLE, Handler="a.h", Code={"ZipFile": zipped})
    expect_error("ValidationException", 400, lam.create_function, FunctionName="bad name", **base)
    expect_error("ValidationException", 400, lam.create_function, FunctionName="x" * 65, **base)
    expect_error("InvalidParameterValueException", 400, lam.create_function, FunctionName="f",
                 **dict(base, Runtime="nodejs20.x"))
    expect_error("InvalidParameterValueException", 400, lam.create_function, FunctionName="f",
                 **dict(base, Code={"ZipFile": b"not a zip"}))
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../escape.py", "x")
    msg = expect_error("InvalidParameterValueException", 400, lam.create_function, FunctionName="f",
                       **dict(base, Code={"ZipFile": evil.getvalue()}))
    assert "Could not unzip uploaded file" in msg, msg
    expect_error("InvalidParameterValueException", 400, lam.create_function, FunctionName="f", Timeout=901, **base)
    # What botocore would refuse before sending, sent anyway (as another SDK may).
    raw = boto3.client("lambda", endpoint_url=server.url, region_name=REGION, aws_access_key_id=KEY_ID,
                       aws_secret_access_key=SECRET, config=NO_RETRY.merge(Config(parameter_validation=False)))
    expect_error("ValidationException", 400, raw.create_function, FunctionName="f", MemorySize=64, **base)
    expect_error("ValidationException", 400, raw.list_functions, MaxItems=0)
    lam.create_function(FunctionName="f", **base)
    expect_error("ResourceConflictException", 409, lam.create_function, FunctionName="f", **base)
    expect_error("InvalidRequestContentException", 400, lam.invoke, FunctionName="f", Payload=b"{not json")
    expect_error("RequestTooLargeException", 413, lam.invoke, FunctionName="f",
                 Payload=json.dumps("x" * (6 * 1024 * 1024)).encode())
    expect_error("ResourceNotFoundException", 404, lam.invoke, FunctionName="f", Qualifier="7", Payload=b"{}")
    expect_error("ResourceNotFoundException", 404, lam.delete_function, FunctionName="nope")
    print("ok: bad input answered with Lambda's codes")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    require_aws_cli()
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        with Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET)).start() as server:
            cli_part(server, tmp)
            boto3_part(server, tmp)
            builtins_part(server)
            bad_input_part(server)
            eventbridge_part(server, tmp)
            restart_part(server)
    print("lambda: all passed")


if __name__ == "__main__":
    main()
