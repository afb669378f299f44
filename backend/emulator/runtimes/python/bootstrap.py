"""lambdeck python runtime shim: a Lambda Runtime API client using only the standard
library. Loads the handler named by _HANDLER ("module.function", "dir/module.function" or
"package.module.function") from LAMBDA_TASK_ROOT like AWS's runtime does, then loops on
invocation/next, calling handler(event, context) and posting the JSON result or the error
({errorMessage, errorType, stackTrace}) back."""
import importlib
import json
import os
import socket
import sys
import time

# traceback and logging are imported only when needed: start-up time is cold-start time.

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
PREFIX = "/2018-06-01/runtime"
# lambdeck's own variable ("python3.9 → running with python3.11 (...)"): hidden from the code
RUNTIME_NOTE = os.environ.pop("_LAMBDECK_RUNTIME_NOTE", None)


class Response:
    def __init__(self, status, headers):
        self.status = status
        self.headers = headers

    def getheader(self, name):
        return self.headers.get(name.lower())


class Runtime:
    """A minimal keep-alive HTTP/1.1 client for the Runtime API (http.client costs tens of
    milliseconds of imports on every cold start)."""

    def __init__(self, address):
        host, _, port = address.partition(":")
        self.addr = (host, int(port or 80))
        self.sock = None
        self.buf = b""

    def _read_until(self, marker):
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the Runtime API")
            self.buf += chunk
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("connection closed by the Runtime API")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _once(self, method, path, body, headers):
        if self.sock is None:
            self.sock = socket.create_connection(self.addr)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""
        body = body or b""
        lines = ["%s %s%s HTTP/1.1" % (method, PREFIX, path), "Host: %s:%d" % self.addr,
                 "Content-Length: %d" % len(body)]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        hdrs = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if hdrs.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    break
                data += self._read_exact(size)
                self._read_exact(2)
        else:
            data = self._read_exact(int(hdrs.get("content-length", "0")))
        if hdrs.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return Response(status, hdrs), data

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            try:
                return self._once(method, path, body, headers)
            except OSError:
                if self.sock:
                    self.sock.close()
                self.sock = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn, trace_id, client_context):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = client_context
        self.xray_trace_id = trace_id
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def log(self, msg):
        sys.stdout.write(str(msg))
        sys.stdout.flush()


def error_object(exc, error_type=None):
    import traceback
    here = os.path.abspath(__file__)
    tb = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) != here]
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(tb),
    }


class MarshalError(Exception):
    pass


CURRENT = {"request_id": None}


def setup_logging():
    # Like AWS: "[LEVEL]\t<time>Z\t<request id>\t<message>" through a handler on the root.
    # Done once the handler's module is loaded, and only if it uses logging.
    if "logging" not in sys.modules:
        return
    import logging

    class RequestIdFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = CURRENT["request_id"] or ""
            return True

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S"))
    handler.formatter.converter = time.gmtime
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)


def load_handler(spec):
    """Returns (handler, None) or (None, error dict) with AWS's error types."""
    try:
        modname, fname = spec.rsplit(".", 1)
    except ValueError:
        return None, {"errorMessage": "Bad handler '%s': not enough values to unpack "
                      "(expected 2, got 1)" % spec, "errorType": "Runtime.MalformedHandlerName",
                      "stackTrace": []}
    modname = modname.replace("/", ".")
    try:
        mod = importlib.import_module(modname)
    except SyntaxError as e:
        import traceback
        return None, {"errorMessage": "Syntax error in module '%s': %s" % (modname, e),
                      "errorType": "Runtime.UserCodeSyntaxError",
                      "stackTrace": traceback.format_exception_only(type(e), e)}
    except ImportError as e:
        hint = ""
        if getattr(e, "name", None) and e.name.split(".")[0] in ("boto3", "botocore"):
            # AWS's python runtimes include boto3; locally it comes from the interpreter
            hint = (" (AWS's runtime includes boto3; locally it must be in the function's "
                    "Python environment, %s: apt-get install python3-boto3, or install it in "
                    "the project's virtualenv)" % sys.executable)
        return None, {"errorMessage": "Unable to import module '%s': %s%s" % (modname, e, hint),
                      "errorType": "Runtime.ImportModuleError", "stackTrace": []}
    except Exception as e:  # errors raised while the module initialises
        return None, error_object(e)
    fn = getattr(mod, fname, None)
    if fn is None:
        return None, {"errorMessage": "Handler '%s' missing on module '%s'" % (fname, modname),
                      "errorType": "Runtime.HandlerNotFound", "stackTrace": []}
    return fn, None


def log_error(err):
    # One log event, like AWS's runtime: the traceback's lines joined with "\r".
    lines = ["[ERROR] %s: %s" % (err["errorType"], err["errorMessage"])]
    if err.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        for s in err["stackTrace"]:
            lines.extend(s.rstrip("\n").split("\n"))
    sys.stdout.write("\r".join(l.replace("\r", "") for l in lines) + "\n")
    sys.stdout.flush()


def main():
    if RUNTIME_NOTE:
        sys.stdout.write("lambdeck: %s\n" % RUNTIME_NOTE)
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path.insert(0, task_root)
    # the shim's own directory must not shadow user modules
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != here or p == task_root]
    rt = Runtime(API)
    handler, init_error = load_handler(os.environ.get("_HANDLER", ""))
    setup_logging()
    if init_error:
        log_error(init_error)
    while True:
        resp, body = rt.request("GET", "/invocation/next")
        if resp.status != 200:
            sys.stderr.write("lambdeck runtime: invocation/next returned %d\n" % resp.status)
            sys.exit(1)
        rid = resp.getheader("Lambda-Runtime-Aws-Request-Id")
        deadline = int(resp.getheader("Lambda-Runtime-Deadline-Ms") or 0)
        arn = resp.getheader("Lambda-Runtime-Invoked-Function-Arn")
        trace = resp.getheader("Lambda-Runtime-Trace-Id")
        cc = resp.getheader("Lambda-Runtime-Client-Context")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        CURRENT["request_id"] = rid
        ctx = LambdaContext(rid, deadline, arn, trace, json.loads(cc) if cc else None)
        if init_error:
            err = dict(init_error)
            err["requestId"] = rid
            rt.request("POST", "/invocation/%s/error" % rid, json.dumps(err).encode(),
                       {"Lambda-Runtime-Function-Error-Type": err["errorType"]})
            continue
        try:
            event = json.loads(body) if body else {}
            result = handler(event, ctx)
            try:
                out = json.dumps(result).encode()
            except (TypeError, ValueError) as e:
                raise MarshalError("Unable to marshal response: %s" % e) from None
        except Exception as e:  # the handler's error goes back to the caller
            err = error_object(e, "Runtime.MarshalError" if isinstance(e, MarshalError) else None)
            err["requestId"] = rid
            log_error(err)
            rt.request("POST", "/invocation/%s/error" % rid, json.dumps(err).encode(),
                       {"Lambda-Runtime-Function-Error-Type": err["errorType"]})
            continue
        rt.request("POST", "/invocation/%s/response" % rid, out,
                   {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
