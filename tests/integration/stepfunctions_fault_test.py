#!/usr/bin/env python3
"""Step Functions: kill -9 of `lathe serve` while a Task's Lambda function runs.

Run by ctest (tests/CMakeLists.txt) as:
  stepfunctions_fault_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 is missing.

A python3.12 function (a zip built here) sleeps, then answers with what depends on its event and
on how many times it was started. Two state machines call it: one through
arn:aws:states:::lambda:invoke, one through the bare function ARN. Both executions are started,
and the server is killed once each history shows the task started and the handler is running.
After a restart on the same data dir and port:
 - both executions SUCCEEDED, with the output of the second attempt (the handler's attempt 2);
 - each history shows the task scheduled and started twice (the first attempt interrupted, the
   second succeeding, as the executor records a re-run), and one success, no failure;
 - the first attempt never completed: its handler died with the server (no "done" marker), and
   nothing it started (a `sleep` in its process group) outlives the function's timeout.
"""
import argparse
import io
import json
import os
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, Server

import boto3

KEY_ID, SECRET = "LATHETESTKEY000013F", "lathe-test-secret-states-fault-0123456789"
REGION = "us-east-1"
ACCOUNT = "000000000000"
ROLE = "arn:aws:iam::%s:role/StepFunctionsRole" % ACCOUNT
FUNCTION_TIMEOUT = 8  # seconds; the handler sleeps HANDLER_SLEEP, its helper much longer
HANDLER_SLEEP = 3

# Markers in event["dir"]: start-PID when the handler starts (the attempt is how many came before,
# plus one), helper-PID naming the pid of a `sleep` it leaves running in its process group, and
# done-PID when it returns.
HANDLER = '''
import os, subprocess, time

def handler(event, context):
    d = event["dir"]
    attempt = len([n for n in os.listdir(d) if n.startswith("start-")]) + 1
    helper = subprocess.Popen(["sleep", "60"])
    with open(os.path.join(d, "helper-%d" % os.getpid()), "w") as f:
        f.write(str(helper.pid))
    with open(os.path.join(d, "start-%d" % os.getpid()), "w") as f:
        f.write(context.aws_request_id)
    time.sleep(event["sleep"])
    with open(os.path.join(d, "done-%d" % os.getpid()), "w") as f:
        f.write(str(attempt))
    return {"doubled": event["n"] * 2, "attempt": attempt}
'''


def make_zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def clients(server):
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
    return (session.client("stepfunctions", endpoint_url=server.url, config=NO_RETRY),
            session.client("lambda", endpoint_url=server.url, config=NO_RETRY))


def history(sfn, arn):
    events, token = [], None
    while True:
        kw = dict(executionArn=arn, maxResults=100)
        if token:
            kw["nextToken"] = token
        r = sfn.get_execution_history(**kw)
        events += r["events"]
        token = r.get("nextToken")
        if not token:
            return events


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def alive(pid):
    """Running (a zombie, dead but not yet reaped by whoever adopted it, is not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def markers(d, prefix):
    return {int(n[len(prefix):]): open(os.path.join(d, n)).read() for n in os.listdir(d) if n.startswith(prefix)}


def start(sfn, function_arn, tmp, name, resource_kind):
    if resource_kind == "invoke":
        task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "slow-double", "Payload.$": "$"},
                "ResultSelector": {"result.$": "$.Payload"}, "End": True}
    else:
        task = {"Type": "Task", "Resource": function_arn, "End": True}
    machine = sfn.create_state_machine(name=name, roleArn=ROLE, definition=json.dumps(
        {"StartAt": "Double", "States": {"Double": task}}))["stateMachineArn"]
    d = os.path.join(tmp, name)
    os.makedirs(d)
    n = 21 if resource_kind == "invoke" else 50
    arn = sfn.start_execution(stateMachineArn=machine, name="crash-" + name,
                              input=json.dumps({"n": n, "dir": d, "sleep": HANDLER_SLEEP}))["executionArn"]
    return arn, d, n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        with Server(args.lathe, data, keys=(KEY_ID, SECRET)).start() as server:
            sfn, lam = clients(server)
            function_arn = lam.create_function(
                FunctionName="slow-double", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                Timeout=FUNCTION_TIMEOUT, Code={"ZipFile": make_zip({"app.py": HANDLER})})["FunctionArn"]
            runs = {"invoke": start(sfn, function_arn, tmp, "via-invoke", "invoke"),
                    "bare": start(sfn, function_arn, tmp, "via-arn", "bare")}
            started_type = {"invoke": "TaskStarted", "bare": "LambdaFunctionStarted"}
            for kind, (arn, d, _) in runs.items():
                wait_for(lambda: started_type[kind] in [e["type"] for e in history(sfn, arn)], 30,
                         "%s in %s's history" % (started_type[kind], kind))
                wait_for(lambda: markers(d, "start-"), 30, "the %s handler to start" % kind)
                assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
            killed_at = time.time()
            server.kill9()
        first = {}
        for kind, (arn, d, _) in runs.items():
            (pid, _), = markers(d, "start-").items()
            first[kind] = (pid, int(markers(d, "helper-")[pid]))
            # The handler dies with the server (it would otherwise finish and write done-PID).
            wait_for(lambda: not alive(pid), 5, "the first %s handler (pid %d) to die with the server" % (kind, pid))

        with Server(args.lathe, data, keys=(KEY_ID, SECRET), port=server.port).start() as server:
            sfn, _ = clients(server)
            for kind, (arn, d, n) in runs.items():
                wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", 60,
                         "%s to end after the restart" % kind)
                desc = sfn.describe_execution(executionArn=arn)
                assert desc["status"] == "SUCCEEDED", desc
                answer = {"doubled": 2 * n, "attempt": 2}
                expected = {"result": answer} if kind == "invoke" else answer
                assert json.loads(desc["output"]) == expected, (kind, desc["output"])

                events = history(sfn, arn)
                types = [e["type"] for e in events]
                assert [e["id"] for e in events] == list(range(1, len(events) + 1)), events
                if kind == "invoke":
                    want = ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskScheduled",
                            "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
                    scheduled = [e["taskScheduledEventDetails"] for e in events if e["type"] == "TaskScheduled"]
                    assert all(s["resource"] == "invoke" and s["resourceType"] == "lambda" for s in scheduled), scheduled
                    assert json.loads(scheduled[0]["parameters"]) == json.loads(scheduled[1]["parameters"]), scheduled
                    done = [e for e in events if e["type"] == "TaskSucceeded"][0]["taskSucceededEventDetails"]
                    assert json.loads(done["output"])["Payload"] == answer, done
                else:
                    want = ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
                            "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded",
                            "TaskStateExited", "ExecutionSucceeded"]
                    scheduled = [e["lambdaFunctionScheduledEventDetails"] for e in events
                                 if e["type"] == "LambdaFunctionScheduled"]
                    assert all(s["resource"] == function_arn for s in scheduled), scheduled
                    done = [e for e in events if e["type"] == "LambdaFunctionSucceeded"][0]
                    assert json.loads(done["lambdaFunctionSucceededEventDetails"]["output"]) == answer, done
                assert types == want, (kind, types)

            # Past the time the first attempts would have finished: still one completion each,
            # by the second attempt's handler, and the first attempt's helper is gone by the
            # function's timeout (counted from the kill).
            time.sleep(max(0.0, killed_at + HANDLER_SLEEP + 1 - time.time()))
            for kind, (arn, d, _) in runs.items():
                first_pid, helper_pid = first[kind]
                starts, done = markers(d, "start-"), markers(d, "done-")
                assert len(starts) == 2 and first_pid in starts, starts
                assert list(done.items()) == [(max(set(starts) - {first_pid}), "2")], (kind, done, starts)
                wait_for(lambda: not alive(helper_pid), max(1.0, killed_at + FUNCTION_TIMEOUT - time.time()),
                         "what the first %s handler started (pid %d) to end by its timeout" % (kind, helper_pid))
                assert len(history(sfn, arn)) == len(want), "events after the end"
    print("OK")


if __name__ == "__main__":
    main()
