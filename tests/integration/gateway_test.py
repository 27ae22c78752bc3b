#!/usr/bin/env python3
"""`lathe serve`'s one endpoint for every service, as the AWS CLI, boto3 and botocore see it.

Run by ctest (tests/CMakeLists.txt, `gateway_aws_cli`) as:
  gateway_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 or the `aws` CLI is missing. Needs no model: nothing here trains.

1. The tutorials' IAM and STS commands, run by the AWS CLI unmodified (its own environment, a
   throwaway HOME), and `aws bedrock list-foundation-models` with the request's region in ARNs.
2. The automation tutorial's boto3 (get_caller_identity, get_role, the cleanup loop), managed
   policies and IAM's error codes.
3. Per protocol, malformed and unauthenticated requests sent raw (signed with botocore's SigV4Auth
   where they should be), their errors read by botocore's own parsers; the transport's limits.
4. Bedrock API keys (AWS_BEARER_TOKEN_BEDROCK), 5. strictRoles, 6. a port already taken.
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from lathe_harness import NO_RETRY, AwsCli, Server, expect_error, require_aws_cli  # exits 77 without boto3

import boto3
import botocore.exceptions
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HeadersDict
from botocore.credentials import Credentials
from botocore.parsers import create_parser

KEY_ID, SECRET = "LATHEGATEWAYKEY00001", "lathe-gateway-secret-0123456789abcdefghij"
ACCOUNT = "000000000000"
REGION = "ap-south-1"
ROLE = "BedrockFineTuningRole"
ROLE_ARN = "arn:aws:iam::%s:role/%s" % (ACCOUNT, ROLE)
API_KEY = "lathe-api-key-" + "0123456789abcdef" * 2  # 46 characters, no white space

# The tutorials' policy documents, verbatim (bedrock-fine-tuning-guide.md, Step 1; the automation
# guide's bedrock_trust_policy.json and bedrock_s3_policy.json).
TRUST_POLICY = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Service": "bedrock.amazonaws.com"
            },
            "Action": "sts:AssumeRole"
        }
    ]
}
"""
PERMISSIONS_POLICY = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:PutObject",
                "s3:ListBucket"
            ],
            "Resource": [
                "arn:aws:s3:::my-bedrock-finetuning-bucket",
                "arn:aws:s3:::my-bedrock-finetuning-bucket/*"
            ]
        }
    ]
}
"""
S3_POLICY = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:ListBucket"
            ],
            "Resource": [
                "arn:aws:s3:::bedrock-finetuning-your-unique-name",
                "arn:aws:s3:::bedrock-finetuning-your-unique-name/*"
            ]
        }
    ]
}
"""


def make_server(lathe, tmp, name, config=None, port=0):
    """`lathe serve` on TMP/NAME with this test's keys; LATHE_HOME is TMP/lathe-home."""
    return Server(lathe, os.path.join(tmp, name), keys=(KEY_ID, SECRET), config=config, port=port,
                  home=os.path.join(tmp, "lathe-home"))


# --- 1. The AWS CLI, unmodified ----------------------------------------------------------------

def cli_tutorial(server, tmp):
    work = os.path.join(tmp, "cli-work")
    os.makedirs(work)
    cli = AwsCli(os.path.join(tmp, "cli-home"), server.url, (KEY_ID, SECRET), REGION, cwd=work)
    for name, text in (("bedrock-trust-policy.json", TRUST_POLICY),
                       ("bedrock-permissions-policy.json", PERMISSIONS_POLICY)):
        with open(os.path.join(work, name), "w") as f:
            f.write(text)

    def cli_json(*args):
        return json.loads(cli.run(*args).stdout)

    who = cli_json("sts", "get-caller-identity")
    assert who["Account"] == ACCOUNT and who["Arn"] == "arn:aws:iam::%s:root" % ACCOUNT, who

    created = cli_json("iam", "create-role", "--role-name", ROLE,
                       "--assume-role-policy-document", "file://bedrock-trust-policy.json")
    assert created["Role"]["Arn"] == ROLE_ARN, created
    assert created["Role"]["AssumeRolePolicyDocument"] == json.loads(TRUST_POLICY), created
    cli.run("iam", "put-role-policy", "--role-name", ROLE, "--policy-name", "BedrockS3Access",
            "--policy-document", "file://bedrock-permissions-policy.json")
    arn = cli.run("iam", "get-role", "--role-name", ROLE, "--query", "Role.Arn", "--output", "text").stdout
    assert arn == ROLE_ARN + "\n", repr(arn)
    listed = cli_json("iam", "list-role-policies", "--role-name", ROLE)
    assert listed["PolicyNames"] == ["BedrockS3Access"], listed
    doc = cli_json("iam", "get-role-policy", "--role-name", ROLE, "--policy-name", "BedrockS3Access")
    assert doc["PolicyDocument"] == json.loads(PERMISSIONS_POLICY), doc

    # Out of order: a role with a policy left cannot go.
    r = cli.run("iam", "delete-role", "--role-name", ROLE, ok=False)
    assert r.returncode != 0 and "DeleteConflict" in r.stderr, (r.returncode, r.stderr)
    # The automation tutorial's cleanup and its check, as written.
    cli.run("iam", "delete-role-policy", "--role-name", ROLE, "--policy-name", "BedrockS3Access")
    cli.run("iam", "delete-role", "--role-name", ROLE)
    check = cli.shell('aws iam get-role --role-name BedrockFineTuningRole 2>&1 | '
                      'grep -q "NoSuchEntity" && echo "Role deleted" || echo "Role still exists"')
    assert check.stdout.strip() == "Role deleted", (check.stdout, check.stderr)

    # Bedrock on the same endpoint; the request's region is the one in the ARNs.
    models = cli_json("bedrock", "list-foundation-models", "--region", REGION)
    arns = [m["modelArn"] for m in models["modelSummaries"]]
    assert arns and all(a.startswith("arn:aws:bedrock:%s::foundation-model/" % REGION) for a in arns), arns
    # The CLI left no configuration of its own behind that could mask a missing variable.
    assert not os.path.exists(os.path.join(cli.home, ".aws", "credentials"))


# --- 2. boto3, as the automation tutorial writes it --------------------------------------------

def use_boto3_environment(server, tmp):
    """boto3.client("sts") with no arguments, as the tutorial calls it: everything comes from the
    environment, and nothing from the user's own files."""
    for k in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[k]
    os.environ.update(AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                      AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE=os.path.join(tmp, "no-aws-config"),
                      AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "no-aws-credentials"), AWS_MAX_ATTEMPTS="1")


def boto3_tutorial():
    # bedrock-fine-tuning-automation-guide.md, check_setup() and get_account_id().
    sts = boto3.client("sts")
    identity = sts.get_caller_identity()
    assert identity["Account"] == ACCOUNT and identity["UserId"] == ACCOUNT, identity

    iam = boto3.client("iam")
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST_POLICY)
    iam.put_role_policy(RoleName=ROLE, PolicyName="BedrockS3Access", PolicyDocument=S3_POLICY)

    def get_role_arn(role_name):  # start_finetuning.py, verbatim
        """Look up the full ARN for our IAM role."""
        iam = boto3.client("iam")
        response = iam.get_role(RoleName=role_name)
        return response["Role"]["Arn"]

    assert get_role_arn(ROLE) == ROLE_ARN

    # Errors, as IAM answers them.
    expect_error("EntityAlreadyExists", 409, iam.create_role, RoleName=ROLE, AssumeRolePolicyDocument=TRUST_POLICY)
    expect_error("EntityAlreadyExists", 409, iam.create_role, RoleName=ROLE.lower(),
                 AssumeRolePolicyDocument=TRUST_POLICY)  # names are unique regardless of case
    expect_error("MalformedPolicyDocument", 400, iam.put_role_policy, RoleName=ROLE, PolicyName="Broken",
                 PolicyDocument='{"Version": "2012-10-17", "Statement": [')
    expect_error("MalformedPolicyDocument", 400, iam.create_role, RoleName="TrustWithResource",
                 AssumeRolePolicyDocument=TRUST_POLICY.replace('"Action"', '"Resource": "*", "Action"'))
    expect_error("NoSuchEntity", 404, iam.get_role, RoleName="NoSuchRole")
    expect_error("ValidationError", 400, iam.get_role, RoleName="bad name with spaces")

    # AWS managed policies, attached and detached.
    s3_read = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=s3_read)
    attached = iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": s3_read}], attached
    expect_error("DeleteConflict", 409, iam.delete_role, RoleName=ROLE)
    iam.detach_role_policy(RoleName=ROLE, PolicyArn=s3_read)
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    expect_error("NoSuchEntity", 404, iam.detach_role_policy, RoleName=ROLE, PolicyArn=s3_read)
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert roles == [ROLE], roles

    # bedrock-fine-tuning-guide.md's cleanup, verbatim but for the prompt.
    role_name = "BedrockFineTuningRole"
    iam = boto3.client('iam')
    policies = iam.list_role_policies(RoleName=role_name)
    assert policies["PolicyNames"] == ["BedrockS3Access"], policies
    for policy in policies.get('PolicyNames', []):
        iam.delete_role_policy(RoleName=role_name, PolicyName=policy)
    iam.delete_role(RoleName=role_name)
    expect_error("NoSuchEntity", 404, iam.get_role, RoleName=role_name)


# --- 3. Raw requests, read by botocore's parsers -----------------------------------------------

_models = botocore.session.get_session()


def operation(service, name):
    return _models.get_service_model(service).operation_model(name)


class Raw:
    """Requests built and (optionally) signed here, sent as is over http.client."""

    def __init__(self, server):
        self.server = server

    def send(self, method, path, body=b"", headers=None, service=None, region=REGION, key=KEY_ID, secret=SECRET,
             after_signing=None, send_body=None):
        req = AWSRequest(method=method, url=self.server.url + path, data=body, headers=dict(headers or {}))
        if service:
            SigV4Auth(Credentials(key, secret), service, region).add_auth(req)
        prepared = req.prepare()
        sent = dict(prepared.headers.items())
        sent.update(after_signing or {})
        target = prepared.url[len(self.server.url):]
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=15)
        try:
            body = prepared.body if send_body is None else send_body
            if send_body is not None:
                sent["Content-Length"] = str(len(send_body))
            conn.request(method, target, body=body, headers=sent)
            res = conn.getresponse()
            return res.status, HeadersDict(res.getheaders()), res.read()
        finally:
            conn.close()

    def form(self, service, form, **kw):
        return self.send("POST", "/", form.encode(),
                         {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service=service, **kw)


def parse_error(protocol, response, op):
    """The error as botocore's parser for `protocol` reads the response: (Code, Message, status)."""
    status, headers, body = response
    parsed = create_parser(protocol).parse({"status_code": status, "headers": headers, "body": body},
                                           op.output_shape)
    assert "Error" in parsed, "not an error: %d %r" % (status, body[:300])
    return parsed["Error"].get("Code"), parsed["Error"].get("Message", ""), status


def expect_raw(protocol, op, response, code, status):
    got = parse_error(protocol, response, op)
    assert got[0] == code and got[2] == status, "expected %s %d, got %s (body %r)" % (code, status, got,
                                                                                    response[2][:300])
    return got[1]


QUERY_NS = {"iam": "https://iam.amazonaws.com/doc/2010-05-08/", "sts": "https://sts.amazonaws.com/doc/2011-06-15/"}


def check_query_error_shape(response, service, code):
    """<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>, as AWS
    writes it, with the request id of the x-amzn-RequestId header."""
    status, headers, body = response
    assert headers.get("Content-Type", "").startswith("text/xml"), headers
    root = ET.fromstring(body)
    ns = "{%s}" % QUERY_NS[service]
    assert root.tag == ns + "ErrorResponse", root.tag
    assert [c.tag for c in root] == [ns + "Error", ns + "RequestId"], [c.tag for c in root]
    error = root.find(ns + "Error")
    assert [c.tag for c in error] == [ns + "Type", ns + "Code", ns + "Message"], [c.tag for c in error]
    assert error.find(ns + "Type").text == "Sender" and error.find(ns + "Code").text == code, body
    assert root.find(ns + "RequestId").text == headers["x-amzn-RequestId"], (body, headers)


def query_protocol_errors(raw):
    iam_v, sts_v = "Version=2010-05-08", "Version=2011-06-15"
    create_role, list_roles = operation("iam", "CreateRole"), operation("iam", "ListRoles")
    who = operation("sts", "GetCallerIdentity")
    r = raw.form("sts", "Action=GetCallerIdentity&%s&x=%%zz" % sts_v)
    expect_raw("query", who, r, "MalformedQueryString", 400)
    check_query_error_shape(r, "sts", "MalformedQueryString")
    r = raw.form("iam", "Action=CreateRole&Action=ListRoles&" + iam_v)
    expect_raw("query", create_role, r, "MalformedQueryString", 400)  # a name given twice
    r = raw.form("iam", "Action=NoSuchAction&" + iam_v)
    assert "NoSuchAction" in expect_raw("query", create_role, r, "InvalidAction", 400)
    check_query_error_shape(r, "iam", "InvalidAction")
    expect_raw("query", who, raw.form("sts", "Action=AssumeRoleWithSAML&" + sts_v), "InvalidAction", 400)
    expect_raw("query", create_role, raw.form("iam", iam_v), "MissingAction", 400)
    r = raw.form("iam", "Action=CreateRole&%s&AssumeRolePolicyDocument=%%7B%%7D" % iam_v)
    msg = expect_raw("query", create_role, r, "ValidationError", 400)
    assert "roleName" in msg and "must not be null" in msg, msg
    check_query_error_shape(r, "iam", "ValidationError")
    msg = expect_raw("query", list_roles, raw.form("iam", "Action=ListRoles&%s&MaxItems=abc" % iam_v),
                     "ValidationError", 400)
    assert "maxItems" in msg or "MaxItems" in msg, msg
    expect_raw("query", list_roles, raw.form("iam", "Action=ListRoles&%s&MaxItems=0" % iam_v), "ValidationError", 400)


def rest_json_errors(raw):
    create = operation("bedrock", "CreateModelCustomizationJob")
    valid = {"jobName": "j", "customModelName": "m", "roleArn": "arn:aws:iam::%s:role/R" % ACCOUNT,
             "baseModelIdentifier": "amazon.titan-text-express-v1",
             "trainingDataConfig": {"s3Uri": "file:///nowhere/train.jsonl"},
             "outputDataConfig": {"s3Uri": "file:///nowhere/out/"}, "hyperParameters": {}}

    def post(body):
        return raw.send("POST", "/model-customization-jobs", body if isinstance(body, bytes) else json.dumps(body).encode(),
                        {"Content-Type": "application/json"}, service="bedrock")

    r = post(b'{"jobName": "j",')
    assert r[1].get("x-amzn-ErrorType", "").startswith("ValidationException"), r[1]
    expect_raw("rest-json", create, r, "ValidationException", 400)
    msg = expect_raw("rest-json", create, post(dict(valid, jobName=5)), "ValidationException", 400)
    assert "jobName" in msg, msg
    missing = dict(valid)
    del missing["jobName"]
    msg = expect_raw("rest-json", create, post(missing), "ValidationException", 400)
    assert "jobName" in msg, msg
    msg = expect_raw("rest-json", create, post(b"[" * 200000 + b"]" * 200000), "ValidationException", 400)
    assert "deeper" in msg, msg
    r = raw.send("GET", "/no-such-operation", service="bedrock")
    expect_raw("rest-json", create, r, "UnknownOperationException", 404)
    assert r[1].get("x-amzn-RequestId"), r[1]


def json_target_errors(raw):
    """A json 1.0 service lathe does not implement (DynamoDB) is answered in its protocol, naming
    the service; one it does (Step Functions) answers an operation it does not know likewise."""
    op = operation("dynamodb", "ListTables")
    r = raw.send("POST", "/", b"{}", {"Content-Type": "application/x-amz-json-1.0",
                                       "X-Amz-Target": "DynamoDB_20120810.ListTables"}, service="dynamodb")
    msg = expect_raw("json", op, r, "UnknownOperationException", 404)
    assert "'dynamodb'" in msg, msg
    assert r[1]["Content-Type"] == "application/x-amz-json-1.0", r[1]
    assert json.loads(r[2])["__type"] == "UnknownOperationException", r[2]
    op = operation("stepfunctions", "ListStateMachines")
    r = raw.send("POST", "/", b"{}", {"Content-Type": "application/x-amz-json-1.0",
                                       "X-Amz-Target": "AWSStepFunctions.NoSuchOperation"}, service="states")
    status, _, body = r
    assert status == 400 and json.loads(body)["__type"] == "UnknownOperationException", r


def auth_errors(raw):
    bedrock_op = operation("bedrock", "ListFoundationModels")
    runtime_op = operation("bedrock-runtime", "InvokeModel")
    iam_op, sts_op = operation("iam", "ListRoles"), operation("sts", "GetCallerIdentity")
    iam_form, sts_form = "Action=ListRoles&Version=2010-05-08", "Action=GetCallerIdentity&Version=2011-06-15"
    invoke_body, invoke_headers = b'{"inputText": "hi"}', {"Content-Type": "application/json"}

    # Unsigned.
    expect_raw("rest-json", bedrock_op, raw.send("GET", "/foundation-models"), "MissingAuthenticationTokenException", 403)
    expect_raw("rest-json", runtime_op, raw.send("POST", "/model/x/invoke", invoke_body, invoke_headers),
               "MissingAuthenticationTokenException", 403)
    for op, form in ((iam_op, iam_form), (sts_op, sts_form)):  # no scope: the form's shape answers
        expect_raw("query", op, raw.form(None, form), "MissingAuthenticationToken", 403)

    # Forged: the right key, the wrong secret.
    forged = "not-the-secret-0000000000000000000000000"
    expect_raw("rest-json", bedrock_op, raw.send("GET", "/foundation-models", service="bedrock", secret=forged),
               "InvalidSignatureException", 403)
    expect_raw("rest-json", runtime_op, raw.send("POST", "/model/x/invoke", invoke_body, invoke_headers,
                                                 service="bedrock", secret=forged), "InvalidSignatureException", 403)
    for op, form, service in ((iam_op, iam_form, "iam"), (sts_op, sts_form, "sts")):
        expect_raw("query", op, raw.form(service, form, secret=forged), "SignatureDoesNotMatch", 403)
    # Signed, then changed: the body is part of the signature.
    assert raw.form("iam", iam_form)[0] == 200
    r = raw.form("iam", iam_form, send_body=(iam_form + "&PathPrefix=%2Fother%2F").encode())
    expect_raw("query", iam_op, r, "SignatureDoesNotMatch", 403)

    # A key the server does not know.
    expect_raw("rest-json", bedrock_op, raw.send("GET", "/foundation-models", service="bedrock", key="AKIANOTKNOWN0000"),
               "UnrecognizedClientException", 403)
    for op, form, service in ((iam_op, iam_form, "iam"), (sts_op, sts_form, "sts")):
        expect_raw("query", op, raw.form(service, form, key="AKIANOTKNOWN0000"), "InvalidClientTokenId", 403)

    # The scope's service is the one that answers: CreateRole signed for sts reaches STS, which has
    # no such action, so a signature for one service never acts on another.
    r = raw.form("sts", "Action=CreateRole&Version=2010-05-08&RoleName=Smuggled&AssumeRolePolicyDocument=%7B%7D")
    expect_raw("query", sts_op, r, "InvalidAction", 400)
    check_query_error_shape(r, "sts", "InvalidAction")
    # A Bedrock path signed for iam is IAM's to answer (it has no Action), not Bedrock's.
    r = raw.send("GET", "/foundation-models", service="iam")
    expect_raw("query", iam_op, r, "MissingAction", 400)
    # A service lathe does not implement, named as such.
    r = raw.send("GET", "/foundation-models", service="dynamodb")
    assert "'dynamodb'" in expect_raw("rest-json", bedrock_op, r, "UnknownOperationException", 404)
    # A path one implemented service does not route, signed for it: that service's answer.
    r = raw.send("GET", "/foundation-models", service="lambda")
    assert "lambda has no operation" in expect_raw("rest-json", bedrock_op, r, "UnknownOperationException", 404)
    # A malformed region in the scope.
    for region in ("AP-SOUTH-1", "ap_south_1", "x" * 65):
        msg = expect_raw("rest-json", bedrock_op, raw.send("GET", "/foundation-models", service="bedrock",
                                                           region=region), "InvalidSignatureException", 403)
        assert "region" in msg, msg
        expect_raw("query", iam_op, raw.form("iam", iam_form, region=region), "SignatureDoesNotMatch", 403)


def complete(data):
    """Whether `data` holds a whole HTTP response with a Content-Length body."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def raw_exchange(server, head, body=b"", read_timeout=10):
    """Sends `head` (and `body`) on a fresh connection and reads the whole answer."""
    s = socket.create_connection((server.host, server.port), timeout=read_timeout)
    try:
        try:
            s.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking it all; its answer is still there
        data = b""
        while not complete(data):
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = HeadersDict()
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return status, headers, body


def transport_limits(raw, server):
    bedrock_op = operation("bedrock", "ListFoundationModels")
    host = ("Host: %s:%d\r\n" % (server.host, server.port)).encode()
    r = raw_exchange(server, b"GET /foundation-models HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 100000 + b"\r\n\r\n")
    expect_raw("rest-json", bedrock_op, r, "ValidationException", 431)
    r = raw_exchange(server, b"GET /foundation-models?x=" + b"a" * 17000 + b" HTTP/1.1\r\n" + host + b"\r\n")
    expect_raw("rest-json", bedrock_op, r, "ValidationException", 414)

    # A signed control-plane POST declaring 20 MiB: refused on its headers alone, before a byte
    # of the body is read (this client sends none and still gets the answer).
    req = AWSRequest(method="POST", url=server.url + "/model-customization-jobs", data=b"",
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(KEY_ID, SECRET), "bedrock", REGION).add_auth(req)
    head = "POST /model-customization-jobs HTTP/1.1\r\nHost: %s:%d\r\n" % (server.host, server.port)
    for name, value in req.headers.items():
        head += "%s: %s\r\n" % (name, value)
    head += "Content-Length: %d\r\n\r\n" % (20 << 20)
    r = raw_exchange(server, head.encode(), read_timeout=8)  # under the server's 10 s body timeout
    msg = expect_raw("rest-json", operation("bedrock", "CreateModelCustomizationJob"), r, "ValidationException", 413)
    assert str(20 << 20) in msg, msg
    assert r[1].get("Connection") == "close", r[1]  # the unsent body must not become a request


# --- 4. Bedrock API keys ------------------------------------------------------------------------

def bearer_tokens(server, raw):
    os.environ["AWS_BEARER_TOKEN_BEDROCK"] = API_KEY
    try:
        bedrock = boto3.client("bedrock", region_name=REGION, config=NO_RETRY)
        seen = {}

        def look(request, **kw):  # returns None: a value would replace the response
            seen["auth"] = request.headers["Authorization"]

        bedrock.meta.events.register("before-send.bedrock.*", look)
        models = bedrock.list_foundation_models()["modelSummaries"]
        assert models, models
        assert seen["auth"] == b"Bearer " + API_KEY.encode() or seen["auth"] == "Bearer " + API_KEY, seen
        os.environ["AWS_BEARER_TOKEN_BEDROCK"] = API_KEY[:-1] + "X"
        wrong = boto3.client("bedrock", region_name=REGION, config=NO_RETRY)
        expect_error("UnrecognizedClientException", 403, wrong.list_foundation_models)
    finally:
        del os.environ["AWS_BEARER_TOKEN_BEDROCK"]
    # The API key is Bedrock's: IAM refuses it, in IAM's protocol.
    r = raw.send("POST", "/", b"Action=ListRoles&Version=2010-05-08",
                 {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                  "Authorization": "Bearer " + API_KEY})
    msg = expect_raw("query", operation("iam", "ListRoles"), r, "IncompleteSignature", 400)
    assert "Bearer" in msg and API_KEY not in msg, msg


# --- 5. strictRoles -----------------------------------------------------------------------------

def strict_roles(server, tmp):
    data = os.path.join(tmp, "strict-data.jsonl")
    with open(data, "w") as f:
        f.writelines(json.dumps({"prompt": "Customer: question %d?\nAgent:" % i, "completion": " Answer."}) + "\n"
                     for i in range(8))
    bedrock = boto3.client("bedrock", region_name=REGION, config=NO_RETRY)
    iam = boto3.client("iam", config=NO_RETRY)
    role_arn = "arn:aws:iam::%s:role/StrictRole" % ACCOUNT

    def create():
        return bedrock.create_model_customization_job(
            jobName="strict", customModelName="strict-model", roleArn=role_arn,
            baseModelIdentifier="amazon.titan-text-express-v1", trainingDataConfig={"s3Uri": "file://" + data},
            outputDataConfig={"s3Uri": "file://" + os.path.join(tmp, "strict-out") + "/"},
            hyperParameters={"epochCount": "1"})["jobArn"]

    msg = expect_error("ValidationException", 400, create)
    assert role_arn in msg and "does not exist" in msg, msg
    iam.create_role(RoleName="StrictRole", AssumeRolePolicyDocument=TRUST_POLICY)
    job_arn = create()
    # Stopped at once, or Failed on its way (the base model here is an empty folder); either way
    # no longer about the role.
    try:
        bedrock.stop_model_customization_job(jobIdentifier=job_arn)
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "ConflictException", e  # it already ended
    deadline = time.time() + 30
    while True:
        job = bedrock.get_model_customization_job(jobIdentifier=job_arn)
        if job["status"] in ("Stopped", "Failed"):
            break
        assert time.time() < deadline, "the strictRoles job did not end: %s" % job
        time.sleep(0.2)
    assert "role" not in job.get("failureMessage", "").lower(), job
    print("strictRoles: the job with an existing role ended %s (%s)" % (job["status"], job.get("failureMessage", "")[:80]))
    # A role in another account is not this caller's, whatever its name.
    other = role_arn.replace(ACCOUNT, "123456789012")
    msg = expect_error("ValidationException", 400, bedrock.create_model_customization_job,
                       jobName="strict-other", customModelName="m2", roleArn=other,
                       baseModelIdentifier="amazon.titan-text-express-v1",
                       trainingDataConfig={"s3Uri": "file://" + data},
                       outputDataConfig={"s3Uri": "file://" + os.path.join(tmp, "strict-out") + "/"})
    assert other in msg, msg


# --- 6. A port already taken --------------------------------------------------------------------

def port_conflict(lathe, tmp, running):
    second = make_server(lathe, tmp, "second", port=running.port)
    os.makedirs(second.data_dir, exist_ok=True)
    r = subprocess.run(second.command(), env=second.env(), capture_output=True, text=True, timeout=30, cwd=tmp)
    assert r.returncode != 0, (r.returncode, r.stdout, r.stderr)
    assert "127.0.0.1:%d" % running.port in r.stderr, r.stderr
    assert "lathe serve: http://" not in r.stdout, r.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    args.lathe = os.path.abspath(args.lathe)
    require_aws_cli()
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.realpath(tmp)
        with make_server(args.lathe, tmp, "main", config={"bedrockApiKeys": [API_KEY]}).start() as server:
            cli_tutorial(server, tmp)
            use_boto3_environment(server, tmp)
            boto3_tutorial()
            raw = Raw(server)
            query_protocol_errors(raw)
            rest_json_errors(raw)
            json_target_errors(raw)
            auth_errors(raw)
            transport_limits(raw, server)
            bearer_tokens(server, raw)
            port_conflict(args.lathe, tmp, server)
        # lathe.default-v1 from an empty folder: nothing here builds or trains a model (a job
        # that reached the default model's build could not be stopped until it ended).
        empty_model = os.path.join(tmp, "empty-model")
        os.makedirs(empty_model)
        strict_config = {"strictRoles": True, "fileRoots": [tmp], "models": {"lathe.default-v1": empty_model}}
        with make_server(args.lathe, tmp, "strict", config=strict_config).start() as strict:
            use_boto3_environment(strict, tmp)
            strict_roles(strict, tmp)
    print("OK in %.0f s" % (time.time() - start))


if __name__ == "__main__":
    main()
