#!/usr/bin/env python3
"""HTTP/2 and TLS on `lathe serve`'s port (issue #21) with real clients:

- curl --http2-prior-knowledge (h2c) and plain HTTP/1.1 on one http:// port;
- with --tls-self-signed: curl --http2 (ALPN h2) and --http1.1, boto3 and the AWS CLI with
  AWS_CA_BUNDLE, a plaintext request on the TLS port refused, a stalled TLS handshake closed
  after the header timeout while others are served;
- with --tls-cert/--tls-key: SIGHUP swaps in a new certificate for new connections, and broken
  files keep the old one;
- a non-loopback --listen without TLS logs the warning.

Run by ctest as: http2_tls_test.py --lathe build/lathe. Exit 77 (skipped) without boto3 (the
harness), curl or openssl; the AWS CLI part is skipped (with a note) when it is not installed.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from lathe_harness import NO_RETRY, AwsCli, Server, aws_cli_path, forget_caller_aws_settings  # noqa: E402

import boto3  # noqa: E402

KEY_ID, SECRET = "LATHETESTKEY000022", "lathe-test-secret-tls-0123456789abcdefghij"
REGION = "us-east-1"


def curl(*args):
    """curl signing with the test keys; returns (http_version, status, body)."""
    r = subprocess.run(["curl", "-sS", "--max-time", "30", "--aws-sigv4", "aws:amz:%s:bedrock" % REGION,
                        "--user", "%s:%s" % (KEY_ID, SECRET), "-w", "\n%{http_version} %{http_code}", *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "curl %s failed: %s" % (" ".join(args), r.stderr)
    body, _, tail = r.stdout.rpartition("\n")
    version, code = tail.split()
    return version, int(code), body


def check_models(body):
    ids = {m["modelId"] for m in json.loads(body)["modelSummaries"]}
    assert "amazon.titan-text-express-v1" in ids, ids


def plain_port(lathe, tmp):
    with Server(lathe, os.path.join(tmp, "plain"), keys=(KEY_ID, SECRET)).start() as s:
        version, code, body = curl("--http2-prior-knowledge", s.url + "/foundation-models")
        assert (version, code) == ("2", 200), (version, code, body)
        check_models(body)
        version, code, body = curl("--http1.1", s.url + "/foundation-models")
        assert (version, code) == ("1.1", 200), (version, code, body)
        # A signature over other bytes is refused over HTTP/2 exactly as over HTTP/1.1.
        version, code, body = curl("--http2-prior-knowledge", "-H", "X-Amz-Date: 20200101T000000Z",
                                   s.url + "/foundation-models")
        assert code == 403 and version == "2", (version, code, body)
    print("ok   h2c (curl --http2-prior-knowledge) and HTTP/1.1 on one http:// port")


def stalled_handshake_is_closed(s, ca):
    host, port = s.host, s.port
    stalled = socket.create_connection((host, port))
    half = socket.create_connection((host, port))
    half.sendall(b"\x16\x03\x01\x00\xff")  # the start of a ClientHello, never finished
    start = time.time()
    # Others are served meanwhile (the handshake runs on the reactor, not a thread).
    version, code, _ = curl("--http2", "--cacert", ca, s.url + "/foundation-models")
    assert (version, code) == ("2", 200)
    for sock in (stalled, half):
        sock.settimeout(30)
        assert sock.recv(100) == b"", "the stalled handshake got an answer"
    took = time.time() - start
    assert took < 25, "the stalled handshakes were held %.0f s" % took
    assert "handshake did not complete" in s.tail(), s.tail()
    print("ok   two stalled TLS handshakes closed after %.0f s while others were served" % took)


def tls_self_signed(lathe, tmp):
    data = os.path.join(tmp, "tls")
    with Server(lathe, data, keys=(KEY_ID, SECRET), extra_args=["--tls-self-signed"]).start() as s:
        ca = os.path.join(data, "tls", "ca.pem")
        assert s.url.startswith("https://127.0.0.1:"), s.url
        version, code, body = curl("--http2", "--cacert", ca, s.url + "/foundation-models")
        assert (version, code) == ("2", 200), (version, code)
        check_models(body)
        version, code, _ = curl("--http1.1", "--cacert", ca, s.url + "/foundation-models")
        assert (version, code) == ("1.1", 200), (version, code)
        print("ok   curl --http2 (ALPN h2) and --http1.1 over TLS with the self-signed CA")

        bedrock = boto3.client("bedrock", region_name=REGION, endpoint_url=s.url, verify=ca, config=NO_RETRY,
                               aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
        assert bedrock.list_foundation_models()["modelSummaries"]
        os.environ["AWS_CA_BUNDLE"] = ca  # as the server's printed line says
        try:
            sts = boto3.client("sts", region_name=REGION, endpoint_url=s.url, config=NO_RETRY,
                               aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
            assert sts.get_caller_identity()["Account"]
        finally:
            del os.environ["AWS_CA_BUNDLE"]
        untrusted = boto3.client("bedrock", region_name=REGION, endpoint_url=s.url, config=NO_RETRY,
                                 aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
        try:
            untrusted.list_foundation_models()
            raise AssertionError("a client without the CA trusted the server")
        except Exception as e:  # botocore's SSLError
            assert "SSL" in type(e).__name__ or "certificate" in str(e), e
        print("ok   boto3 over https with verify= and with AWS_CA_BUNDLE; refused without the CA")

        if aws_cli_path():
            cli = AwsCli(os.path.join(tmp, "cli-home"), s.url, (KEY_ID, SECRET), REGION)
            env = cli.env()
            env["AWS_CA_BUNDLE"] = ca
            r = subprocess.run([aws_cli_path(), "bedrock", "list-foundation-models", "--by-customization-type",
                                "FINE_TUNING"], env=env, capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
            assert "lathe.default-v1" in r.stdout
            print("ok   aws bedrock list-foundation-models over https with AWS_CA_BUNDLE")
        else:
            print("note the AWS CLI is not installed: its https check did not run")

        # lathe's own client commands trust the CA as the AWS CLI does; `lathe cleanup` beside the
        # server finds its https URL and its CA in the data dir by itself.
        env = dict(os.environ, AWS_ENDPOINT_URL=s.url, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET)
        r = subprocess.run([lathe, "models", "list"], env=dict(env, AWS_CA_BUNDLE=ca), capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0 and "lathe.default-v1" in r.stdout, r.stdout + r.stderr
        del env["AWS_ENDPOINT_URL"]
        r = subprocess.run([lathe, "cleanup", "--data-dir", data, "--dry-run"], env=env, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0 and "asking it at https://" in r.stderr, r.stdout + r.stderr
        print("ok   lathe models list (AWS_CA_BUNDLE) and lathe cleanup beside the server, over https")

        # Plaintext on the TLS port: not served (and logged).
        with socket.create_connection((s.host, s.port)) as plain:
            plain.sendall(b"GET /foundation-models HTTP/1.1\r\nHost: x\r\n\r\n")
            plain.settimeout(10)
            try:
                got = plain.recv(100)
            except ConnectionResetError:
                got = b""
            assert not got.startswith(b"HTTP/1.1 200"), got
        stalled_handshake_is_closed(s, ca)


def make_cert(folder, name):
    """A self-signed certificate (its own CA) for 127.0.0.1 named CN=name: (cert, key)."""
    cert, key = os.path.join(folder, name + ".pem"), os.path.join(folder, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=" + name, "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def peer_name(host, port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            return dict(x[0] for x in tls.getpeercert()["subject"])["commonName"]


def wait_log(s, text, timeout=10):
    deadline = time.time() + timeout
    while text not in s.tail():
        assert time.time() < deadline, "no %r in the log: %s" % (text, s.tail())
        time.sleep(0.1)


def sighup_reload(lathe, tmp):
    certs = os.path.join(tmp, "certs")
    os.makedirs(certs)
    one, two = make_cert(certs, "reload-one"), make_cert(certs, "reload-two")
    live_cert, live_key = os.path.join(certs, "live.pem"), os.path.join(certs, "live-key.pem")
    shutil.copy(one[0], live_cert)
    shutil.copy(one[1], live_key)
    with Server(lathe, os.path.join(tmp, "reload"), keys=(KEY_ID, SECRET),
                extra_args=["--tls-cert", live_cert, "--tls-key", live_key]).start() as s:
        assert peer_name(s.host, s.port, one[0]) == "reload-one"
        shutil.copy(two[0], live_cert)
        shutil.copy(two[1], live_key)
        s.proc.send_signal(signal.SIGHUP)
        wait_log(s, "reloaded the TLS certificate")
        assert peer_name(s.host, s.port, two[0]) == "reload-two"
        with open(live_key, "w") as f:
            f.write("not a key\n")
        s.proc.send_signal(signal.SIGHUP)
        wait_log(s, "kept the old TLS certificate")
        assert peer_name(s.host, s.port, two[0]) == "reload-two"
    print("ok   SIGHUP reloads the certificate; broken files keep the old one")


def non_loopback_warning(lathe, tmp):
    data = os.path.join(tmp, "open")
    p = subprocess.Popen([lathe, "serve", "--listen", "0.0.0.0:0", "--data-dir", data, "--no-auth",
                          "--default-build", "first-use"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()
        assert first.startswith("lathe serve: http://0.0.0.0:"), first
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    assert "without TLS" in err and "--tls-self-signed" in err, err
    print("ok   a non-loopback address without TLS is warned about")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    for tool in ("curl", "openssl"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed" % tool)
            sys.exit(77)
    forget_caller_aws_settings("AWS_ENDPOINT_URL", "AWS_CA_BUNDLE")
    lathe = os.path.abspath(args.lathe)
    with tempfile.TemporaryDirectory() as tmp:
        plain_port(lathe, tmp)
        tls_self_signed(lathe, tmp)
        sighup_reload(lathe, tmp)
        non_loopback_warning(lathe, tmp)
    print("http2_tls: all steps passed")


if __name__ == "__main__":
    main()
