"""What the integration tests share: a `lathe serve` child process, botocore's error check, and
the AWS CLI as a user runs it.

Import it after putting this folder on sys.path (the tests are run as scripts from any cwd):
    sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
    from lathe_harness import ...
Importing it exits 77 (ctest's "skipped") when boto3 is missing: every test here needs it.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

try:
    import boto3  # noqa: F401  (imported here so that a missing boto3 skips, not fails)
    import botocore.exceptions
    from botocore.config import Config
except ImportError:
    print("SKIP: boto3 is not installed for", sys.executable)
    sys.exit(77)

# Every call is made once: a retry would hide the first answer, which is the one under test.
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


class Server:
    """`lathe serve` on 127.0.0.1 (a free port, or `port`) with the keys `keys` = (id, secret).

    data_dir: --data-dir. config: a dict written to DATA_DIR-config.json and passed as --config.
    extra_args: more `lathe serve` arguments.
    default_build: --default-build; "first-use" unless a test wants the start-up build (a test
    that does not use the default model must not spend minutes of CPU building it).
    home: LATHE_HOME (DATA_DIR when not given). stderr goes to DATA_DIR-serve.log, appended to
    across restarts on the same data_dir; tail() gives its end for failure messages.
    """

    def __init__(self, lathe, data_dir, *, keys, config=None, home=None, port=0, default_build="first-use",
                 extra_args=()):
        self.lathe, self.data_dir = os.path.abspath(lathe), os.path.abspath(data_dir)
        self.key_id, self.secret = keys
        self.config, self.port, self.default_build = config, port, default_build
        self.extra_args = list(extra_args)
        self.home = os.path.abspath(home) if home else self.data_dir
        self.log_path = self.data_dir + "-serve.log"
        self.proc, self.url, self.host, self.killed = None, None, None, False

    def command(self):
        cmd = [self.lathe, "serve", "--listen", "127.0.0.1:%d" % self.port, "--data-dir", self.data_dir,
               "--default-build", self.default_build] + self.extra_args
        if self.config is not None:
            path = self.data_dir + "-config.json"
            with open(path, "w") as f:
                json.dump(self.config, f)
            cmd += ["--config", path]
        return cmd

    def env(self):
        return dict(os.environ, LATHE_ACCESS_KEY_ID=self.key_id, LATHE_SECRET_ACCESS_KEY=self.secret,
                    LATHE_HOME=self.home)

    def start(self):
        """Starts it and waits for its first line, "lathe serve: http(s)://HOST:PORT ..."."""
        os.makedirs(self.data_dir, exist_ok=True)
        with open(self.log_path, "a") as log:  # the child keeps its own descriptor
            # cwd: beside the data, so that nothing it might write lands where the test was run.
            self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=log, env=self.env(),
                                         text=True, cwd=os.path.dirname(self.data_dir))
        first = self.proc.stdout.readline()
        assert first.startswith(("lathe serve: http://", "lathe serve: https://")), \
            "unexpected first line: %r (log: %s)" % (first, self.tail())
        self.url = first.split()[2]
        self.host, port = self.url.split("://", 1)[1].rsplit(":", 1)
        self.port = int(port)
        return self

    def tail(self):
        with open(self.log_path) as f:
            return f.read()[-3000:]

    def kill9(self):
        """Kills it as a crash would: no shutdown of any kind."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.killed = True

    def stop(self):
        """SIGTERM, and a clean exit expected (SIGKILL after 20 s fails the test)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.killed:
            assert self.proc.returncode == -signal.SIGKILL, "serve exited with %s" % self.proc.returncode
        else:
            assert self.proc.returncode == 0, "serve exited with %s: %s" % (self.proc.returncode, self.tail())

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            print(self.tail(), file=sys.stderr)
        self.stop()


def small_default_model(lathe, home):
    """Builds the small default model into HOME unless it is there (`lathe models build-default
    --max-records 4000`, as the Bedrock tests share it) and returns the config's "models" entry
    that serves it."""
    subprocess.run([lathe, "models", "build-default", "--data-dir", home, "--max-records", "4000"], check=True,
                   stdout=subprocess.DEVNULL)
    return {"lathe.default-v1": os.path.join(home, "models", "lathe-default")}


def import_stories260k(lathe, shared, folder):
    """Imports ../shared's stories260K llama2.c checkpoint with `lathe models import` as
    FOLDER/stories260K and returns that path; None when SHARED lacks it (the caller skips)."""
    stories = os.path.join(shared, "models", "stories260K")
    if not os.path.isdir(stories):
        return None
    model = os.path.join(folder, "stories260K")
    subprocess.run([lathe, "models", "import", os.path.join(stories, "stories260K.bin"), "--tokenizer",
                    os.path.join(stories, "tok512.model"), "--out", model], check=True, stdout=subprocess.DEVNULL)
    return model


def import_stories260k_or_skip(lathe, shared, folder):
    """import_stories260k, or exit 77 (skipped) with a message naming SHARED when it lacks the model."""
    model = import_stories260k(lathe, shared, folder)
    if model is None:
        print("SKIP: %s lacks models/stories260K" % os.path.abspath(shared))
        sys.exit(77)
    return model


def stories260k_test_args():
    """A stories260K test's arguments: --lathe (required, made absolute) and --shared (default: the
    checkout's ../shared)."""
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    p.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "..",
                                                    "shared"))
    args = p.parse_args()
    args.lathe = os.path.abspath(args.lathe)
    return args


def forget_caller_aws_settings(*also):
    """Removes the caller's AWS profile and keys (and `also`, e.g. "AWS_ENDPOINT_URL") from this
    process's environment, so boto3 uses only what a test gives it."""
    for k in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN") + also:
        os.environ.pop(k, None)


def expect_error_response(code, http, fn, *args, **kwargs):
    """Calls fn(*args, **kwargs), which must fail with AWS error `code` and HTTP status `http`;
    returns botocore's parsed error response."""
    try:
        fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, http), "expected %s %d, got %s: %s" % (code, http, got, e)
        return e.response
    raise AssertionError("expected %s, the call succeeded" % code)


def expect_error(code, http, fn, *args, **kwargs):
    """expect_error_response, returning the error's message."""
    return expect_error_response(code, http, fn, *args, **kwargs)["Error"]["Message"]


def aws_cli_path():
    """The `aws` executable: the one installed beside this Python first (pyenv's shims need a
    HOME of their own), else the first on PATH; None when there is none."""
    beside = os.path.join(os.path.dirname(sys.executable), "aws")
    return beside if os.access(beside, os.X_OK) else shutil.which("aws")


def require_aws_cli():
    """Exits 77 (skipped) when the AWS CLI is not installed."""
    if not aws_cli_path():
        print("SKIP: the AWS CLI (aws) is not installed")
        sys.exit(77)


class AwsCli:
    """The AWS CLI as a user of the tutorials runs it: the endpoint, keys and region in the
    environment, no other AWS_* variable, and a fresh HOME (created here) with no ~/.aws."""

    def __init__(self, home, endpoint, keys, region, cwd=None):
        self.home, self.endpoint, self.region, self.cwd = home, endpoint, region, cwd
        self.key_id, self.secret = keys
        os.makedirs(home, exist_ok=True)

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(HOME=self.home, AWS_ENDPOINT_URL=self.endpoint, AWS_ACCESS_KEY_ID=self.key_id,
                   AWS_SECRET_ACCESS_KEY=self.secret, AWS_DEFAULT_REGION=self.region, AWS_MAX_ATTEMPTS="1")
        return env

    def run(self, *args, ok=True):
        """`aws ARGS...`; with ok, asserts that it succeeded. Returns the CompletedProcess."""
        r = subprocess.run([aws_cli_path(), *args], env=self.env(), cwd=self.cwd, capture_output=True, text=True,
                           timeout=120)
        if ok:
            assert r.returncode == 0, "aws %s failed (%d): %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr)
        return r

    def shell(self, script):
        """A bash script, as a tutorial writes it, with this `aws` first on PATH."""
        path = os.path.dirname(aws_cli_path()) + os.pathsep + os.environ.get("PATH", "")
        return subprocess.run(["bash", "-c", script], env=dict(self.env(), PATH=path), cwd=self.cwd,
                              capture_output=True, text=True, timeout=120)


def wait_for(fn, done, timeout, what):
    """Calls fn() until done(its result) holds, at most `timeout` seconds; returns that result."""
    deadline = time.time() + timeout
    while True:
        r = fn()
        if done(r):
            return r
        assert time.time() < deadline, "timed out waiting for %s; last: %s" % (what, r)
        time.sleep(0.3)


def lathe_notifications(lathe, data_dir, *argv):
    """`lathe notifications ARGS` on the server's data directory: its output."""
    r = subprocess.run([lathe, "notifications", "--data-dir", data_dir, *argv], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return r.stdout


def wait_for_outbox(lathe, data_dir, predicate, timeout=30):
    """The first message in the email outbox for which predicate(entry) holds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for entry in json.loads(lathe_notifications(lathe, data_dir, "--json")):
            if predicate(entry):
                return entry
        time.sleep(0.2)
    raise AssertionError("no such message in the outbox: %s" % lathe_notifications(lathe, data_dir))


def wait_for(fn, done, timeout, what):
    """Calls fn() every half second until done(result) holds; returns that result."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = fn()
        if done(r):
            return r
        time.sleep(0.5)
    raise AssertionError("timed out waiting for %s; last: %s" % (what, r))


def tutorial_block(shared, heading, language, guide="bedrock-fine-tuning-automation-guide.md"):
    """The first ```language block after `heading` in a tutorial of ../shared/seeds (the automation
    guide unless `guide` names the other, bedrock-fine-tuning-guide.md), as a user copies it."""
    path = os.path.join(shared, "seeds", guide)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start = text.index(heading)
    block = re.search(r"```%s\n(.*?)```" % language, text[start:], re.S)
    assert block, "no ```%s block after %r in %s" % (language, heading, path)
    return block.group(1)

