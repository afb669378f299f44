"""The emulator's HTTP edge as AWS clients meet it (issue 21, items 4, 5, 11, 12, 13):
an over-size ZipFile reaches the AWS CLI and botocore as 413 RequestEntityTooLargeException
with AWS's message (not "Connection was closed"); empty zips are refused; error types are
AWS's and messages carry no host path; idle and half-sent connections are closed while a long
Invoke and a quiet live tail stay open; %00 / %2F in a function name are refused with AWS's
ValidationException; over-long URIs and headers get AWS JSON, not HTML; ::1 is loopback;
SigV4 refuses a foreign region/service scope, UNSIGNED-PAYLOAD and unsigned x-amz-* headers."""
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zipfile

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, http_request, zip_bytes  # noqa: E402

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/lambdeck-test"
APP = "import time\n\ndef handler(e, c):\n    time.sleep(e.get('sleep', 0))\n    return 'ok'\n"
# The server closes connections idle this long (API_IDLE_TIMEOUT_S in emulator.c).
IDLE_TIMEOUT = 15
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    else:
        print("ok:", what, flush=True)


def signed_headers(emu, method, path, body=b"", headers=None, service="lambda", region=None, creds=None):
    req = AWSRequest(method=method, url=emu.endpoint + path, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(*(creds or emu.credentials())), service, region or emu.region).add_auth(req)
    return dict(req.headers.items())


def send(emu, method, path, body=b"", headers=None):
    return http_request(emu.endpoint + path, method, body, headers)


def error_of(fn):
    try:
        fn()
    except Exception as e:  # botocore ClientError or a connection error
        resp = getattr(e, "response", None)
        if resp is None:
            return ("no response: %s: %s" % (type(e).__name__, e), None, None)
        return (resp.get("Error", {}).get("Code"), resp.get("ResponseMetadata", {}).get("HTTPStatusCode"),
                resp.get("Error", {}).get("Message"))
    return (None, None, None)


def raw_socket(emu):
    u = urllib.parse.urlparse(emu.endpoint)
    return socket.create_connection((u.hostname, u.port), timeout=5), u


def test_oversize_zip(emu, lam):
    """Item 4: a ZipFile over AWS's request limit."""
    tmp = tempfile.mkdtemp(prefix="lkbig.")
    big = os.path.join(tmp, "big.zip")
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as z:  # 52 MiB: base64 in JSON > 69905067 B
        z.writestr("app.py", APP)
        z.writestr("blob.bin", os.urandom(52 * 1024 * 1024))
    env = dict(emu.env, AWS_MAX_ATTEMPTS="1")
    cp = subprocess.run(["/usr/bin/aws", "--endpoint-url", emu.endpoint, "lambda", "create-function",
                         "--function-name", "big", "--runtime", "python3.12", "--role", ROLE,
                         "--handler", "app.handler", "--zip-file", "fileb://" + big],
                        env=env, capture_output=True, timeout=300)
    err = cp.stderr.decode(errors="replace")
    check(cp.returncode != 0 and "RequestEntityTooLargeException" in err
          and "Request must be smaller than 69905067 bytes for the CreateFunction operation" in err,
          "aws lambda create-function with a 52 MiB zip -> RequestEntityTooLargeException with AWS's "
          "message: %r" % err[-300:])
    with open(big, "rb") as f:
        data = f.read()
    os.unlink(big)
    os.rmdir(tmp)
    lam.create_function(FunctionName="edge", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Timeout=60, Code={"ZipFile": zip_bytes({"app.py": APP})})
    code, status, msg = error_of(lambda: lam.update_function_code(FunctionName="edge", ZipFile=data))
    check(code == "RequestEntityTooLargeException" and status == 413
          and msg == "Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation",
          "botocore update_function_code with a 52 MiB zip -> 413 with AWS's message: %r" % ((code, status, msg),))
    check(lam.invoke(FunctionName="edge", Payload=b"{}")["Payload"].read() == b'"ok"',
          "the function keeps its code and the emulator serves on")


def test_big_response(emu, lam):
    """A response over the Runtime API's body limit (16 MB) is read and dropped like one over
    6 MB: the invoke fails Function.ResponseSizeTooLarge, the worker is not cut off."""
    lam.create_function(FunctionName="bigout", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Timeout=60, Code={"ZipFile": zip_bytes(
                            {"app.py": "def handler(e, c):\n    return 'x' * (e['mb'] << 20)\n"})})
    for mb in (10, 20):
        r = lam.invoke(FunctionName="bigout", Payload=b'{"mb": %d}' % mb)
        body = json.loads(r["Payload"].read())
        check(r.get("FunctionError") == "Unhandled" and body.get("errorType") == "Function.ResponseSizeTooLarge",
              "a %d MB response -> Function.ResponseSizeTooLarge: %r" % (mb, body))
    r = lam.invoke(FunctionName="bigout", Payload=b'{"mb": 0}', LogType="Tail")
    check(r["Payload"].read() == b'""', "the worker serves the next invoke")


def test_client_context(emu, lam):
    """X-Amz-Client-Context is base64 JSON: the function gets it decoded, anything else is
    AWS's InvalidRequestContentException (it used to reach the runtime raw and kill it)."""
    lam.create_function(FunctionName="ctx", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_bytes({"app.py": "def handler(e, c):\n"
                                                              "    cc = c.client_context\n"
                                                              "    return getattr(cc, 'custom', None) or cc['custom']\n"})})
    cc = base64.b64encode(json.dumps({"custom": {"k": "v"}, "env": {}, "client": {}}).encode()).decode()
    r = lam.invoke(FunctionName="ctx", Payload=b"{}", ClientContext=cc)
    body = r["Payload"].read()
    check(r.get("FunctionError") is None and json.loads(body) == {"k": "v"},
          "botocore's ClientContext reaches the function decoded: %r" % body)
    cp = emu.aws("lambda", "invoke", "--function-name", "ctx", "--client-context", cc, "/dev/stdout", raw=True)
    check(cp.returncode == 0 and b'{"k": "v"}' in cp.stdout, "and the AWS CLI's: %r" % cp.stdout[-200:])
    for bad in ("string", base64.b64encode(b"[1]").decode(), "e30=" * 1000):
        got = error_of(lambda: lam.invoke(FunctionName="ctx", Payload=b"{}", ClientContext=bad))
        check(got == ("InvalidRequestContentException", 400,
                      "Client context must be a valid Base64-encoded JSON object."),
              "ClientContext %r... -> AWS's InvalidRequestContentException: %r" % (bad[:12], got))


def test_zip_errors(emu, lam):
    """Item 5: empty zips; AWS error types only, no host path in messages."""
    for what, z in (("a 0-byte ZipFile", b""), ("a zip without entries", zip_bytes({}))):
        got = error_of(lambda: lam.create_function(FunctionName="empty", Runtime="python3.12", Role=ROLE,
                                                   Handler="app.handler", Code={"ZipFile": z}))
        check(got == ("InvalidParameterValueException", 400, "Uploaded file must be a non-empty zip"),
              "CreateFunction with %s -> AWS's InvalidParameterValueException: %r" % (what, got))
        got = error_of(lambda: lam.update_function_code(FunctionName="edge", ZipFile=z))
        check(got == ("InvalidParameterValueException", 400, "Uploaded file must be a non-empty zip"),
              "UpdateFunctionCode with %s -> AWS's InvalidParameterValueException: %r" % (what, got))
    deep = zip_bytes({"app.py": APP, "a/" * 2100 + "f.txt": "x"})
    code, status, msg = error_of(lambda: lam.update_function_code(FunctionName="edge", ZipFile=deep))
    check(code == "InvalidParameterValueException" and status == 400,
          "2 100 nested directories -> InvalidParameterValueException, not a host error type: %r" % code)
    check(msg is not None and emu.state_dir not in msg and emu.tmp not in msg,
          "the message names no host path: %r" % (msg or "")[:200])
    check(lam.invoke(FunctionName="edge", Payload=b"{}")["Payload"].read() == b'"ok"',
          "refused code leaves the function as it was")
    # a host-side failure (a file where the function's directory goes) is AWS's
    # ServiceException, and its message names no host path either
    with open(os.path.join(emu.state_dir, "functions", "blocked"), "w") as f:
        f.write("in the way")
    code, status, msg = error_of(lambda: lam.create_function(
        FunctionName="blocked", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": zip_bytes({"app.py": APP})}))
    check(code == "ServiceException" and status == 500 and msg is not None
          and emu.state_dir not in msg and emu.tmp not in msg,
          "a host error -> 500 ServiceException without host paths: %r" % ((code, status, msg),))


def test_timeouts(emu, lam):
    """Item 11: idle and half-sent connections are closed; a long Invoke, the live tail and
    a keep-alive client that comes back later still work."""
    results = {}

    def closed_within(name, data):
        s, _u = raw_socket(emu)
        if data:
            s.sendall(data)
        s.settimeout(IDLE_TIMEOUT * 4)
        t0 = time.monotonic()
        try:
            while s.recv(4096):
                pass
            results[name] = time.monotonic() - t0
        except OSError as e:
            results[name] = "still open (%s)" % e
        s.close()

    def long_invoke():
        results["invoke"] = lam.invoke(FunctionName="edge", Payload=json.dumps(
            {"sleep": IDLE_TIMEOUT + 5}).encode())["Payload"].read()

    def quiet_tail():
        body = json.dumps({"logGroupIdentifiers": ["/aws/lambda/edge"]}).encode()
        hdrs = signed_headers(emu, "POST", "/", body, {"Content-Type": "application/x-amz-json-1.1",
                                                       "X-Amz-Target": "Logs_20140328.StartLiveTail"},
                              service="logs")
        s, u = raw_socket(emu)
        head = "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (u.netloc, len(body))
        head += "".join("%s: %s\r\n" % kv for kv in hdrs.items() if kv[0].lower() != "host")
        s.sendall(head.encode() + b"\r\n" + body)
        s.settimeout(IDLE_TIMEOUT * 4)
        got, t0 = b"", time.monotonic()
        try:
            # the session start, then nothing until the marker printed after the timeout
            while b"after-the-timeout" not in got:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            results["tail"] = (b"after-the-timeout" in got, time.monotonic() - t0)
        except OSError as e:
            results["tail"] = (False, str(e))
        s.close()

    threads = [threading.Thread(target=closed_within, args=("idle", b"")),
               threading.Thread(target=closed_within, args=(
                   "half", b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"")),
               threading.Thread(target=closed_within, args=("head", b"GET /2015-03-31/functions HTTP/1.1\r\nHo")),
               threading.Thread(target=long_invoke), threading.Thread(target=quiet_tail)]
    lam.list_functions()  # a keep-alive connection in botocore's pool, idle from now on
    for t in threads:
        t.start()
    threads[3].join()  # the long invoke ends after the timeout: print the tail's marker now
    logs = emu.client("logs")
    logs.create_log_stream(logGroupName="/aws/lambda/edge", logStreamName="marker")
    logs.put_log_events(logGroupName="/aws/lambda/edge", logStreamName="marker",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "after-the-timeout"}])
    for t in threads:
        t.join()
    for name in ("idle", "half", "head"):
        v = results.get(name)
        check(isinstance(v, float) and v < IDLE_TIMEOUT * 2,
              "a %s connection is closed by the server (after %r s)" % (name, v))
    check(results.get("invoke") == b'"ok"', "an Invoke running longer than the idle timeout completes: %r"
          % results.get("invoke"))
    check(results.get("tail", (False,))[0], "a live tail quiet for longer than the idle timeout still gets "
          "events: %r" % (results.get("tail"),))
    check(lam.get_function(FunctionName="edge")["Configuration"]["FunctionName"] == "edge",
          "botocore's pooled connection, closed by the server meanwhile, is replaced transparently")


def test_names_and_http_errors(emu, lam):
    """Item 12: %00 and %2F in a name; oversized URI/headers answered in AWS JSON."""
    for path, what in (("/2015-03-31/functions/edge%00junk", "%00"),
                       ("/2015-03-31/functions/edge%00", "a trailing %00"),
                       ("/2015-03-31/functions/edge%2Fconfiguration", "%2F")):
        s, h, b = send(emu, "GET", path, headers=signed_headers(emu, "GET", path))
        check(s == 400 and isinstance(b, dict) and b.get("__type") == "ValidationException"
              and "at 'functionName' failed to satisfy constraint" in b.get("message", "")
              and h.get("x-amzn-ErrorType") == "ValidationException",
              "%s in a function name -> 400 ValidationException: %r %r" % (what, s, b))
    got = error_of(lambda: lam.invoke(FunctionName="edge\x00x", Payload=b"{}"))
    check(got[0] == "ValidationException", "botocore invoke of 'edge\\0x' -> ValidationException: %r" % (got,))
    q = "/2015-03-31/functions/edge?Qualifier=%24LATEST%00x"
    s, h, b = send(emu, "GET", q, headers=signed_headers(emu, "GET", q))
    check(s == 400 and isinstance(b, dict) and b.get("__type") == "ValidationException",
          "%%00 in a query value -> 400 ValidationException: %r %r" % (s, b))
    for what, req in (("a 40 KB header", b"GET /2015-03-31/functions/ HTTP/1.1\r\nHost: x\r\nX-Big: "
                       + b"a" * 40000 + b"\r\n\r\n"),
                      ("a 20 KB URI", b"GET /2015-03-31/functions/" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")):
        s, _u = raw_socket(emu)
        s.sendall(req)
        resp = b""
        try:
            while b"\r\n\r\n" not in resp or not resp.rstrip().endswith(b"}"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                resp += chunk
        except OSError as e:  # libmicrohttpd resets after its own HTML page
            resp += b" (%s)" % str(e).encode()
        s.close()
        head, _, body = resp.partition(b"\r\n\r\n")
        try:
            j = json.loads(body)
        except ValueError:
            j = None
        check(head.split(b" ")[1:2] in ([b"431"], [b"414"]) and b"application/json" in head.lower()
              and b"x-amzn-errortype:" in head.lower() and isinstance(j, dict) and "__type" in j
              and "message" in j, "%s -> AWS JSON error, not HTML: %r" % (what, resp[:160]))


def test_sigv4(emu, lam):
    """Item 13: scope, UNSIGNED-PAYLOAD, unsigned x-amz-* headers."""
    p = "/2015-03-31/functions/"
    for service, region in (("s3", "eu-west-1"), ("lambda", "eu-west-1"), ("logs", None), ("s3", None)):
        s, h, b = send(emu, "GET", p, headers=signed_headers(emu, "GET", p, service=service, region=region))
        check(s == 403 and isinstance(b, dict) and b.get("__type") == "InvalidSignatureException",
              "a signature scoped to %s/%s -> 403 InvalidSignatureException: %r %r"
              % (service, region or emu.region, s, b))
    s, h, b = send(emu, "POST", "/", b"{}", headers=signed_headers(
        emu, "POST", "/", b"{}", {"Content-Type": "application/x-amz-json-1.1",
                                  "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}, service="lambda"))
    check(s == 403, "a Logs request signed for lambda -> 403: %r" % s)
    inv = "/2015-03-31/functions/edge/invocations"
    hdrs = signed_headers(emu, "POST", inv, b'{"sleep": 0}', {"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
    s, h, b = send(emu, "POST", inv, b'{"sleep": 1}', headers=hdrs)
    check(s == 403 and isinstance(b, dict) and b.get("__type") == "InvalidSignatureException",
          "UNSIGNED-PAYLOAD with a changed body -> 403: %r %r" % (s, b))
    hdrs = signed_headers(emu, "POST", inv, b"{}")
    hdrs["X-Amz-Invocation-Type"] = "DryRun"
    s, h, b = send(emu, "POST", inv, b"{}", headers=hdrs)
    check(s == 403 and isinstance(b, dict) and "X-Amz-Invocation-Type" in b.get("message", ""),
          "an X-Amz-Invocation-Type added after signing -> 403 naming it: %r %r" % (s, b))
    # what the clients really send still passes
    r = lam.invoke(FunctionName="edge", InvocationType="DryRun", LogType="None",
                   ClientContext="eyJjdXN0b20iOiB7fX0=")
    check(r["StatusCode"] == 204, "botocore's own x-amz-* headers are signed and accepted")
    cp = emu.aws("lambda", "invoke", "--function-name", "edge", "--invocation-type", "Event",
                 "--payload", "{}", "/dev/null", raw=True)
    check(cp.returncode == 0, "the AWS CLI's Event invoke is accepted: %r" % cp.stderr[-300:])


def test_ipv6_loopback():
    """Item 12: ::1 is loopback; 127.0.0.0/8 too; anything else still needs --allow-remote."""
    with Emulator(args=["--host", "::1"]) as emu:
        check(emu.endpoint.startswith("http://[::1]:"), "endpoint of an emulator on ::1: %s" % emu.endpoint)
        # (the AWS CLI 2.9 of Debian 12 refuses any IPv6 endpoint URL: botocore here)
        check(emu.client("lambda").list_functions()["Functions"] == [], "botocore works against [::1]")
    with tempfile.TemporaryDirectory() as d:
        for host in ("10.1.2.3", "::2", "fe80::1"):
            cp = subprocess.run([os.environ["LAMBDECK"], "emulate", "--host", host, "--port", "0",
                                 "--state-dir", os.path.join(d, "s")], capture_output=True, timeout=60)
            check(cp.returncode == 1 and b"--allow-remote" in cp.stderr,
                  "%s is still refused without --allow-remote" % host)


def main():
    with Emulator() as emu:
        lam = emu.client("lambda", retries=False, read_timeout=120)
        try:
            for t in (test_oversize_zip, test_big_response, test_client_context, test_zip_errors, test_names_and_http_errors, test_sigv4, test_timeouts):
                try:
                    t(emu, lam)
                except Exception as e:  # one broken area must not hide the others
                    check(False, "%s raised %s: %s" % (t.__name__, type(e).__name__, e))
        finally:
            if failures:
                print(emu.read_log()[-3000:])
    try:
        test_ipv6_loopback()
    except Exception as e:
        check(False, "test_ipv6_loopback raised %s: %s" % (type(e).__name__, e))
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
