#!/usr/bin/env python3
"""Step Functions against a real `lathe serve`, with boto3 and the AWS CLI.

Run by ctest (tests/CMakeLists.txt) as:
  stepfunctions_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 or the AWS CLI is missing.

Covers:
 (a) the AWS CLI: create-state-machine from a file, describe, list, update, start-execution of a
     Pass/Choice/Wait machine run to SUCCEEDED, describe-execution, get-execution-history, delete;
 (b) boto3: the history's event types and ids, paged forward and in reverse; list-executions with
     statusFilter and paging; StartExecution's idempotency by name;
 (c) an EventBridge rule whose target is the state machine: PutEvents with a matching event starts
     an execution whose input is the event;
 (d) bad input: invalid definitions (InvalidDefinition, and ValidateStateMachineDefinition's
     diagnostics), EXPRESS, hostile names, oversized and malformed input, forged tokens;
 (e) kill -9 of the server while an execution is in a Wait: it finishes after the restart.
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, AwsCli, Server, expect_error, forget_caller_aws_settings, require_aws_cli

import boto3

KEY_ID, SECRET = "LATHETESTKEY000013", "lathe-test-secret-states-0123456789abcdef"
REGION = "us-east-1"
ACCOUNT = "000000000000"
ROLE = "arn:aws:iam::%s:role/StepFunctionsRole" % ACCOUNT

# Pass -> Choice -> Wait -> Succeed, or Fail when the Choice does not match.
PIPELINE = {
    "Comment": "A Pass, a Choice and a Wait",
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Parameters": {"count.$": "$.count", "kind": "batch"}, "ResultPath": "$.prepared",
                    "Next": "Enough"},
        "Enough": {"Type": "Choice",
                   "Choices": [{"Variable": "$.prepared.count", "NumericGreaterThanEquals": 10, "Next": "Pause"}],
                   "Default": "TooFew"},
        "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "TooFew": {"Type": "Fail", "Error": "TooFew", "Cause": "fewer than 10 records"},
    },
}


def wait_for_end(sfn, arn, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.1)
    raise AssertionError("%s still RUNNING after %d s" % (arn, timeout))


def all_history(sfn, arn, reverse, page):
    events, token = [], None
    while True:
        kw = dict(executionArn=arn, maxResults=page, reverseOrder=reverse)
        if token:
            kw["nextToken"] = token
        r = sfn.get_execution_history(**kw)
        assert len(r["events"]) <= page, r
        events += r["events"]
        token = r.get("nextToken")
        if not token:
            return events


def cli_steps(cli, tmp):
    path = os.path.join(tmp, "pipeline.json")
    with open(path, "w") as f:
        json.dump(PIPELINE, f)
    out = json.loads(cli.run("stepfunctions", "create-state-machine", "--name", "cli-pipeline", "--definition",
                             "file://" + path, "--role-arn", ROLE).stdout)
    arn = out["stateMachineArn"]
    assert arn == "arn:aws:states:%s:%s:stateMachine:cli-pipeline" % (REGION, ACCOUNT), out
    d = json.loads(cli.run("stepfunctions", "describe-state-machine", "--state-machine-arn", arn).stdout)
    assert d["name"] == "cli-pipeline" and d["status"] == "ACTIVE" and d["type"] == "STANDARD", d
    assert json.loads(d["definition"]) == PIPELINE
    listed = json.loads(cli.run("stepfunctions", "list-state-machines").stdout)
    assert arn in [m["stateMachineArn"] for m in listed["stateMachines"]], listed
    updated = dict(PIPELINE, Comment="updated")
    with open(path, "w") as f:
        json.dump(updated, f)
    cli.run("stepfunctions", "update-state-machine", "--state-machine-arn", arn, "--definition", "file://" + path)
    d = json.loads(cli.run("stepfunctions", "describe-state-machine", "--state-machine-arn", arn).stdout)
    assert json.loads(d["definition"])["Comment"] == "updated"
    started = json.loads(cli.run("stepfunctions", "start-execution", "--state-machine-arn", arn, "--name", "run-1",
                                 "--input", '{"count": 12}').stdout)
    execution = started["executionArn"]
    for _ in range(600):
        d = json.loads(cli.run("stepfunctions", "describe-execution", "--execution-arn", execution).stdout)
        if d["status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == {"count": 12, "prepared": {"count": 12, "kind": "batch"}}, d
    history = json.loads(cli.run("stepfunctions", "get-execution-history", "--execution-arn", execution).stdout)
    types = [e["type"] for e in history["events"]]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded", types
    for t in ("PassStateEntered", "ChoiceStateEntered", "WaitStateEntered", "WaitStateExited"):
        assert t in types, types
    # A failing run: the Choice's default.
    started = json.loads(cli.run("stepfunctions", "start-execution", "--state-machine-arn", arn,
                                 "--input", '{"count": 3}').stdout)
    for _ in range(600):
        d = json.loads(cli.run("stepfunctions", "describe-execution", "--execution-arn",
                               started["executionArn"]).stdout)
        if d["status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert d["status"] == "FAILED" and d["error"] == "TooFew", d
    r = cli.run("stepfunctions", "create-state-machine", "--name", "broken", "--definition",
                '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}', "--role-arn", ROLE,
                ok=False)
    assert r.returncode != 0 and "InvalidDefinition" in r.stderr, r.stderr
    cli.run("stepfunctions", "delete-state-machine", "--state-machine-arn", arn)
    r = cli.run("stepfunctions", "describe-state-machine", "--state-machine-arn", arn, ok=False)
    assert "StateMachineDoesNotExist" in r.stderr, r.stderr


def boto3_steps(sfn):
    arn = sfn.create_state_machine(name="boto3-pipeline", definition=json.dumps(PIPELINE), roleArn=ROLE,
                                   tags=[{"key": "team", "value": "ml"}])["stateMachineArn"]
    # The same request again: the same machine (AWS's idempotency); another definition: refused.
    again = sfn.create_state_machine(name="boto3-pipeline", definition=json.dumps(PIPELINE), roleArn=ROLE)
    assert again["stateMachineArn"] == arn
    expect_error("StateMachineAlreadyExists", 400, sfn.create_state_machine, name="boto3-pipeline",
                 definition=json.dumps(dict(PIPELINE, Comment="other")), roleArn=ROLE)
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "ml"}]

    run = sfn.start_execution(stateMachineArn=arn, name="paged", input=json.dumps({"count": 10}))
    repeat = sfn.start_execution(stateMachineArn=arn, name="paged", input=json.dumps({"count": 10}))
    assert repeat["executionArn"] == run["executionArn"] and repeat["startDate"] == run["startDate"]
    expect_error("ExecutionAlreadyExists", 400, sfn.start_execution, stateMachineArn=arn, name="paged",
                 input=json.dumps({"count": 11}))
    d = wait_for_end(sfn, run["executionArn"])
    assert d["status"] == "SUCCEEDED", d
    forward = all_history(sfn, run["executionArn"], False, 2)
    backward = all_history(sfn, run["executionArn"], True, 3)
    assert [e["id"] for e in forward] == list(range(1, len(forward) + 1)), forward
    assert [e["id"] for e in backward] == [e["id"] for e in reversed(forward)]
    assert forward[0]["type"] == "ExecutionStarted" and forward[-1]["type"] == "ExecutionSucceeded"
    assert json.loads(forward[0]["executionStartedEventDetails"]["input"]) == {"count": 10}
    for e in forward[1:]:
        assert 0 < e["previousEventId"] < e["id"], e
    entered = [e for e in forward if e["type"] == "ChoiceStateEntered"][0]
    assert entered["stateEnteredEventDetails"]["name"] == "Enough", entered

    for i in range(4):
        sfn.start_execution(stateMachineArn=arn, name="more-%d" % i, input='{"count": 1}')
    seen, token = set(), None
    while True:
        kw = dict(stateMachineArn=arn, maxResults=2)
        if token:
            kw["nextToken"] = token
        page = sfn.list_executions(**kw)
        seen.update(e["name"] for e in page["executions"])
        token = page.get("nextToken")
        if not token:
            break
    assert seen == {"paged", "more-0", "more-1", "more-2", "more-3"}, seen
    for i in range(4):
        wait_for_end(sfn, "arn:aws:states:%s:%s:execution:boto3-pipeline:more-%d" % (REGION, ACCOUNT, i))
    failed = sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"]
    assert sorted(e["name"] for e in failed) == ["more-0", "more-1", "more-2", "more-3"], failed
    for_execution = sfn.describe_state_machine_for_execution(executionArn=run["executionArn"])
    assert json.loads(for_execution["definition"]) == PIPELINE
    return arn


def eventbridge_steps(session, url, sfn, machine_arn):
    events = session.client("events", endpoint_url=url, config=NO_RETRY)
    events.put_rule(Name="start-pipeline", EventPattern=json.dumps({"source": ["lathe.test"],
                                                                     "detail-type": ["New Data"]}))
    events.put_targets(Rule="start-pipeline", Targets=[{"Id": "sfn", "Arn": machine_arn, "RoleArn": ROLE}])
    r = events.put_events(Entries=[{"Source": "lathe.test", "DetailType": "New Data",
                                    "Detail": json.dumps({"count": 25, "key": "training-data/a.jsonl"})},
                                   {"Source": "lathe.test", "DetailType": "Other", "Detail": "{}"}])
    assert r["FailedEntryCount"] == 0, r
    deadline, started = time.time() + 30, []
    while time.time() < deadline:
        started = [e for e in sfn.list_executions(stateMachineArn=machine_arn)["executions"]
                   if e["name"] not in ("paged",) and not e["name"].startswith("more-")]
        if started:
            break
        time.sleep(0.1)
    assert len(started) == 1, started
    d = wait_for_end(sfn, started[0]["executionArn"])
    event = json.loads(d["input"])
    assert event["source"] == "lathe.test" and event["detail"]["key"] == "training-data/a.jsonl", event
    # The event has no "count" at the top: the Choice's default, as the definition says.
    assert d["status"] == "FAILED", d
    events.remove_targets(Rule="start-pipeline", Ids=["sfn"])
    events.delete_rule(Name="start-pipeline")


def bad_input_steps(sfn, machine_arn):
    m = expect_error("InvalidDefinition", 400, sfn.create_state_machine, name="bad",
                     definition='{"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": true}}}', roleArn=ROLE)
    assert m.startswith("Invalid State Machine Definition"), m
    expect_error("InvalidDefinition", 400, sfn.create_state_machine, name="bad", definition="{", roleArn=ROLE)
    v = sfn.validate_state_machine_definition(
        definition='{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}')
    assert v["result"] == "FAIL" and v["diagnostics"][0]["severity"] == "ERROR", v
    assert sfn.validate_state_machine_definition(definition=json.dumps(PIPELINE))["result"] == "OK"
    m = expect_error("StateMachineTypeNotSupported", 400, sfn.create_state_machine, name="express",
                     definition=json.dumps(PIPELINE), roleArn=ROLE, type="EXPRESS")
    assert "STANDARD" in m, m
    for name in ("has space", "slash/name", "x" * 81, "semi;colon", "wild*"):
        expect_error("InvalidName", 400, sfn.create_state_machine, name=name, definition=json.dumps(PIPELINE),
                     roleArn=ROLE)
        expect_error("InvalidName", 400, sfn.start_execution, stateMachineArn=machine_arn, name=name)
    expect_error("InvalidExecutionInput", 400, sfn.start_execution, stateMachineArn=machine_arn, input="{not json")
    expect_error("ValidationException", 400, sfn.start_execution, stateMachineArn=machine_arn,
                 input=json.dumps({"x": "y" * (256 * 1024)}))
    expect_error("InvalidArn", 400, sfn.describe_execution, executionArn="not-an-arn")
    expect_error("ExecutionDoesNotExist", 400, sfn.describe_execution,
                 executionArn="arn:aws:states:%s:%s:execution:boto3-pipeline:none" % (REGION, ACCOUNT))
    expect_error("StateMachineDoesNotExist", 400, sfn.start_execution,
                 stateMachineArn="arn:aws:states:%s:%s:stateMachine:none" % (REGION, ACCOUNT))
    expect_error("InvalidToken", 400, sfn.list_executions, stateMachineArn=machine_arn, nextToken="forged-token")
    expect_error("InvalidToken", 400, sfn.list_state_machines, nextToken="forged-token")
    expect_error("TaskDoesNotExist", 400, sfn.send_task_success, taskToken="forged-token", output="{}")
    expect_error("TaskDoesNotExist", 400, sfn.send_task_heartbeat, taskToken="forged-token")


def start_waiting(sfn):
    definition = {"StartAt": "Before", "States": {
        "Before": {"Type": "Pass", "Result": "before", "ResultPath": "$.before", "Next": "Sleep"},
        "Sleep": {"Type": "Wait", "Seconds": 4, "Next": "After"},
        "After": {"Type": "Pass", "Result": "after", "ResultPath": "$.after", "End": True}}}
    arn = sfn.create_state_machine(name="crash-wait", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    return sfn.start_execution(stateMachineArn=arn, name="survives", input='{"n": 1}')["executionArn"]


def client(server):
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
    return session, session.client("stepfunctions", endpoint_url=server.url, config=NO_RETRY)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    require_aws_cli()
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    with tempfile.TemporaryDirectory() as tmp:
        data, home = os.path.join(tmp, "data"), os.path.join(tmp, "home")
        with Server(args.lathe, data, keys=(KEY_ID, SECRET)).start() as server:
            cli_steps(AwsCli(home, server.url, (KEY_ID, SECRET), REGION), tmp)
            session, sfn = client(server)
            machine = boto3_steps(sfn)
            eventbridge_steps(session, server.url, sfn, machine)
            bad_input_steps(sfn, machine)
            waiting = start_waiting(sfn)
            time.sleep(0.5)
            d = sfn.describe_execution(executionArn=waiting)
            assert d["status"] == "RUNNING", d
            server.kill9()
        with Server(args.lathe, data, keys=(KEY_ID, SECRET), port=server.port).start() as server:
            _, sfn = client(server)
            d = wait_for_end(sfn, waiting)
            assert d["status"] == "SUCCEEDED", d
            assert json.loads(d["output"]) == {"n": 1, "before": "before", "after": "after"}, d
            types = [e["type"] for e in all_history(sfn, waiting, False, 100)]
            assert types.count("ExecutionStarted") == 1 and "WaitStateExited" in types, types
            # What was stored before the crash is all there.
            assert sfn.describe_state_machine(stateMachineArn=machine)["name"] == "boto3-pipeline"
    print("OK")


if __name__ == "__main__":
    main()
