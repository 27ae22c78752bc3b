# lathe's Python runtime for Lambda functions: what AWS's runtime interface client does, in one
# process per invocation. lathe starts `python3 -u bootstrap.py` in the function's code folder
# with the event on stdin; the handler's prints go to stdout/stderr (the invocation's log), and
# the answer goes to file descriptor 3 as one record: b"R" + the result as JSON, or b"E" + the
# error object {"errorMessage", "errorType", "requestId", "stackTrace"} as AWS's runtime writes it.
import importlib
import json
import os
import sys
import time
import traceback

RESULT_FD = 3


class LambdaContext:
    """The context object AWS passes as the handler's second argument."""

    def __init__(self, env, deadline_ms):
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = env.get("_LATHE_INVOKED_FUNCTION_ARN")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")  # a string, as in AWS
        self.aws_request_id = env.get("_LATHE_REQUEST_ID")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def answer(kind, text):
    sys.stdout.flush()
    sys.stderr.flush()
    data = kind + text.encode("utf-8")
    view = memoryview(data)
    while view:
        n = os.write(RESULT_FD, view)
        view = view[n:]
    os.close(RESULT_FD)
    os._exit(0)  # as AWS freezes the sandbox: threads the handler left running do not hold it


def fail(error_type, message, stack=None):
    err = {"errorMessage": message, "errorType": error_type,
           "requestId": os.environ.get("_LATHE_REQUEST_ID", ""), "stackTrace": stack or []}
    print("[ERROR] %s: %s" % (error_type, message), file=sys.stderr)
    for line in stack or []:
        sys.stderr.write(line)
    answer(b"E", json.dumps(err))


def load_handler(spec):
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as e:
        fail("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (spec, e))
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        fail("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        fail("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, e))
    except Exception as e:  # the module raised while being imported
        tb = traceback.format_list(traceback.extract_tb(e.__traceback__)[1:])
        fail(type(e).__name__, str(e), tb)
    handler = getattr(module, function_name, None)
    if handler is None:
        fail("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))
    return handler


def main():
    env = os.environ
    deadline_ms = int(env.get("_LATHE_DEADLINE_MS", "0"))
    task_root = env.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path.insert(0, task_root)
    raw = sys.stdin.buffer.read()
    try:
        event = json.loads(raw) if raw.strip() else {}
    except ValueError as e:
        fail("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
    handler = load_handler(env.get("_HANDLER", ""))
    context = LambdaContext(env, deadline_ms)
    try:
        result = handler(event, context)
    except Exception as e:
        # The frames of the user's code only (AWS's runtime drops its own).
        tb = traceback.format_list(traceback.extract_tb(e.__traceback__)[1:])
        fail(type(e).__name__, str(e), tb)
    try:
        text = json.dumps(result)
    except (TypeError, ValueError) as e:
        fail("Runtime.MarshalError", "Unable to marshal response: %s" % e)
    answer(b"R", text)


if __name__ == "__main__":
    main()
