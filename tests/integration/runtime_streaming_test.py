#!/usr/bin/env python3
"""InvokeModelWithResponseStream and ConverseStream through real boto3 against `lathe serve`
(stories260K serving lathe.default-v1, so nothing is built): botocore reads lathe's event stream,
and the text streamed equals what invoke_model / converse answer at temperature 0, for a Titan
body, an Anthropic Messages body and Converse. Also: stop sequences, errors before the stream
(ordinary HTTP errors), and clients that close the stream early (the server keeps answering).
The AWS CLI v1 has no streaming Bedrock commands (the service model says so); the test checks
that it still has none, so that a CLI that gains them gets tested here.

Run by ctest (tests/CMakeLists.txt) as:
  runtime_streaming_test.py --lathe build/lathe [--shared ../shared]
Exit 77 (skipped) when boto3 or ../shared's stories260K is missing.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import (NO_RETRY, Server, aws_cli_path, expect_error, forget_caller_aws_settings,
                           import_stories260k_or_skip, stories260k_test_args)  # exits 77 without boto3

import boto3

KEY_ID, SECRET = "LATHETESTKEY000001", "lathe-test-secret-0123456789abcdefghijklmn"
REGION = "us-east-1"
TITAN = "amazon.titan-text-express-v1"


def chunks(response):
    """The JSON chunks of an InvokeModelWithResponseStream answer, as the Bedrock guide reads them."""
    return [json.loads(event["chunk"]["bytes"]) for event in response["body"]]


def titan(runtime, max_tokens=40, stops=()):
    body = json.dumps({"inputText": "Once upon a time",
                       "textGenerationConfig": {"maxTokenCount": max_tokens, "temperature": 0,
                                                "stopSequences": list(stops)}})
    whole = json.loads(runtime.invoke_model(modelId=TITAN, body=body)["body"].read())
    streamed = runtime.invoke_model_with_response_stream(modelId=TITAN, body=body)
    assert streamed["contentType"] == "application/json", streamed["contentType"]
    parts = chunks(streamed)
    text = "".join(c["outputText"] for c in parts)
    assert text == whole["results"][0]["outputText"], (text, whole)
    assert len(parts) > 2, parts  # streamed in pieces, not in one
    assert parts[0]["inputTextTokenCount"] == whole["inputTextTokenCount"], parts[0]
    last = parts[-1]
    assert last["completionReason"] == whole["results"][0]["completionReason"], last
    assert last["totalOutputTextTokenCount"] == whole["results"][0]["tokenCount"], last
    metrics = last["amazon-bedrock-invocationMetrics"]
    assert metrics["inputTokenCount"] == whole["inputTextTokenCount"], metrics
    assert metrics["outputTokenCount"] == whole["results"][0]["tokenCount"], metrics
    assert all(c["completionReason"] is None for c in parts[:-1]), parts
    return whole


def anthropic(runtime):
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 40, "temperature": 0,
                       "messages": [{"role": "user", "content": "Tell me a story"}]})
    whole = json.loads(runtime.invoke_model(modelId=TITAN, body=body)["body"].read())
    parts = chunks(runtime.invoke_model_with_response_stream(modelId=TITAN, body=body))
    types = [c["type"] for c in parts]
    assert types[:2] == ["message_start", "content_block_start"], types
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"], types
    assert set(types[2:-3]) == {"content_block_delta"}, types
    text = "".join(c["delta"]["text"] for c in parts if c["type"] == "content_block_delta")
    assert text == whole["content"][0]["text"], (text, whole)
    assert parts[0]["message"]["usage"]["input_tokens"] == whole["usage"]["input_tokens"], parts[0]
    assert parts[-2]["delta"]["stop_reason"] == whole["stop_reason"], parts[-2]
    assert parts[-2]["usage"]["output_tokens"] == whole["usage"]["output_tokens"], parts[-2]
    assert parts[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == whole["usage"]["output_tokens"]


def converse(runtime, stops=None):
    kwargs = {"modelId": TITAN, "messages": [{"role": "user", "content": [{"text": "Tell me a story"}]}],
              "inferenceConfig": {"maxTokens": 40, "temperature": 0}}
    if stops:
        kwargs["inferenceConfig"]["stopSequences"] = stops
    whole = runtime.converse(**kwargs)
    events = list(runtime.converse_stream(**kwargs)["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and events[0]["messageStart"]["role"] == "assistant", events[0]
    assert kinds[-3:] == ["contentBlockStop", "messageStop", "metadata"], kinds
    assert set(kinds[1:-3]) == {"contentBlockDelta"}, kinds
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert text == whole["output"]["message"]["content"][0]["text"], (text, whole)
    assert events[-2]["messageStop"]["stopReason"] == whole["stopReason"], events[-2]
    usage = events[-1]["metadata"]["usage"]
    assert usage == whole["usage"], (usage, whole["usage"])
    assert events[-1]["metadata"]["metrics"]["latencyMs"] >= 0
    return whole


def errors(runtime):
    """What fails before the stream starts is an ordinary error, as invoke_model / converse give it."""
    good = json.dumps({"inputText": "hi"})
    expect_error("ValidationException", 400, runtime.invoke_model_with_response_stream, modelId="no.such-model", body=good)
    expect_error("ValidationException", 400, runtime.invoke_model_with_response_stream, modelId=TITAN,
                 body=json.dumps({"inputText": "hi", "textGenerationConfig": {"temperature": "hot"}}))
    expect_error("ValidationException", 400, runtime.invoke_model_with_response_stream, modelId=TITAN, body="not json")
    expect_error("ValidationException", 400, runtime.converse_stream, modelId=TITAN, messages=[])
    expect_error("ValidationException", 400, runtime.converse_stream, modelId=TITAN,
                 messages=[{"role": "assistant", "content": [{"text": "hi"}]}])
    expect_error("ValidationException", 400, runtime.converse_stream, modelId="no.such-model",
                 messages=[{"role": "user", "content": [{"text": "hi"}]}])


def early_close(runtime):
    """Clients that stop reading and close: the server stops generating and keeps answering."""
    body = json.dumps({"inputText": "Once upon a time", "textGenerationConfig": {"maxTokenCount": 400, "temperature": 0}})
    for _ in range(4):
        response = runtime.invoke_model_with_response_stream(modelId=TITAN, body=body)
        first = next(iter(response["body"]))
        assert "chunk" in first, first
        response["body"].close()
    stream = runtime.converse_stream(modelId=TITAN, messages=[{"role": "user", "content": [{"text": "Hello"}]}],
                                     inferenceConfig={"maxTokens": 400})["stream"]
    next(iter(stream))
    stream.close()


def cli_has_no_streaming_commands():
    aws = aws_cli_path()
    if aws is None:
        print("the AWS CLI is absent: its part is skipped")
        return
    try:
        out = subprocess.run([aws, "bedrock-runtime", "help"], capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, PAGER="cat", MANPAGER="cat")).stdout
    except (FileNotFoundError, subprocess.TimeoutExpired):
        print("the AWS CLI is absent: its part is skipped")
        return
    assert "converse-stream" not in out and "invoke-model-with-response-stream" not in out, \
        "this AWS CLI has the streaming commands: test them here"
    print("the AWS CLI (v1) has no streaming Bedrock commands: boto3 only")


def main():
    args = stories260k_test_args()
    forget_caller_aws_settings("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        model = import_stories260k_or_skip(args.lathe, args.shared, tmp)
        config = {"models": {"lathe.default-v1": model}, "region": REGION}
        with Server(args.lathe, os.path.join(tmp, "data"), keys=(KEY_ID, SECRET), config=config).start() as server:
            session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
            runtime = session.client("bedrock-runtime", endpoint_url=server.url, config=NO_RETRY)
            bedrock = session.client("bedrock", endpoint_url=server.url, config=NO_RETRY)
            details = bedrock.get_foundation_model(modelIdentifier=TITAN)["modelDetails"]
            assert details["responseStreamingSupported"] is True, details
            whole = titan(runtime)
            # A stop sequence from the middle of the answer: the stream ends before it, never in it.
            text = whole["results"][0]["outputText"]
            words = text.split(" ")
            stop = " " + " ".join(words[len(words) // 2:len(words) // 2 + 2])
            stopped = titan(runtime, stops=[stop])
            assert stopped["results"][0]["completionReason"] == "STOP_CRITERIA_MET", stopped
            anthropic(runtime)
            converse(runtime)
            answer = converse(runtime)["output"]["message"]["content"][0]["text"]
            if " " in answer.strip():
                converse(runtime, stops=[answer.strip().split(" ")[1]])
            errors(runtime)
            early_close(runtime)
            titan(runtime)  # the server still streams, and whole answers still match
            print("boto3 streaming: Titan, Anthropic, Converse, stop sequences, errors, early close")
    cli_has_no_streaming_commands()
    print("OK")


if __name__ == "__main__":
    main()
