"""The emulator's safety: SigV4 verification (403 for missing/bad signatures, --any-credentials),
the generated credentials file, unsafe zips (.., absolute paths, links leaving the root,
garbage), oversize payloads (413), malformed JSON, unknown runtimes, garbage HTTP that must
not crash the server, restart persistence, and the endpoint file / single instance lock."""
import base64
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, http_request, zip_bytes, zip_dir  # noqa: E402

import botocore.session  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

FIX = os.path.join(os.environ["LAMBDECK_SRC"], "tests/fixtures/emulator")
ROLE = "arn:aws:iam::000000000000:role/lambdeck-test"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    else:
        print("ok:", what, flush=True)


def raw(emu, method, path, body=b"", headers=None, sign_with=None):
    """Sends one HTTP request; signs it with botocore's SigV4Auth when sign_with=(ak, sk).
    Returns (status, headers, parsed JSON body or raw bytes)."""
    url = emu.endpoint + path
    headers = dict(headers or {})
    if sign_with:
        req = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(Credentials(*sign_with), "lambda", emu.region).add_auth(req)
        headers = dict(req.headers.items())
    return http_request(url, method, body, headers, timeout=30)


def error_code(fn):
    try:
        fn()
    except Exception as e:
        resp = getattr(e, "response", {})
        return resp.get("Error", {}).get("Code"), resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return None, None


def create(lam, name, z, runtime="python3.12", handler="app.handler"):
    return error_code(lambda: lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE,
                                                  Handler=handler, Code={"ZipFile": z}))


def test_auth(emu):
    creds = emu.credentials()
    st = os.stat(emu.credentials_file)
    check(stat.S_IMODE(st.st_mode) == 0o600, "credentials file mode 0600")
    text = open(emu.credentials_file).read()
    check("[lambdeck-local]" in text and "aws_access_key_id" in text and "aws_secret_access_key" in text,
          "credentials file in shared-credentials format with profile lambdeck-local")
    s, h, b = raw(emu, "GET", "/2015-03-31/functions/")
    check(s == 403 and isinstance(b, dict) and b.get("__type") == "MissingAuthenticationTokenException"
          and h.get("x-amzn-ErrorType"), "unsigned request -> 403 with the AWS error shape: %r %r" % (s, b))
    s, h, b = raw(emu, "GET", "/2015-03-31/functions/", sign_with=(creds[0], "wrong-secret"))
    check(s == 403 and b.get("__type") == "InvalidSignatureException", "bad signature -> 403 InvalidSignatureException: %r" % b)
    s, h, b = raw(emu, "GET", "/2015-03-31/functions/", sign_with=("AKIAUNKNOWN", creds[1]))
    check(s == 403 and b.get("__type") == "UnrecognizedClientException", "unknown access key -> 403: %r" % b)
    s, h, b = raw(emu, "GET", "/2015-03-31/functions/", sign_with=creds)
    check(s == 200 and b == {"Functions": []}, "correctly signed request -> 200")
    # a signed body that was tampered with
    payload = json.dumps({"FunctionName": "x"}).encode()
    req = AWSRequest(method="POST", url=emu.endpoint + "/2015-03-31/functions", data=payload, headers={})
    SigV4Auth(Credentials(*creds), "lambda", emu.region).add_auth(req)
    r = urllib.request.Request(emu.endpoint + "/2015-03-31/functions", data=payload.replace(b"x", b"y"),
                               headers=dict(req.headers.items()), method="POST")
    try:
        urllib.request.urlopen(r, timeout=10)
        code = 200
    except urllib.error.HTTPError as e:
        code = e.code
    check(code == 403, "tampered body -> 403")
    # the AWS CLI with wrong keys
    env = dict(emu.env)
    env.pop("AWS_PROFILE")
    env.update(AWS_ACCESS_KEY_ID=creds[0], AWS_SECRET_ACCESS_KEY="not-the-secret")
    cp = subprocess.run(["/usr/bin/aws", "--endpoint-url", emu.endpoint, "lambda", "list-functions"],
                        env=env, capture_output=True, timeout=60)
    check(cp.returncode != 0 and b"InvalidSignatureException" in cp.stderr, "aws CLI with a wrong secret is refused")


def test_zips(lam):
    app = "def handler(e, c):\n    return 'ok'\n"
    cases = {
        "dotdot": zip_bytes({"app.py": app, "../evil.py": "x"}),
        "dotdot_inner": zip_bytes({"app.py": app, "lib/../../evil.py": "x"}),
        "absolute": zip_bytes({"app.py": app, "/tmp/evil.py": "x"}),
        "link_abs": zip_bytes({"app.py": app, "passwd": ("->", "/etc/passwd")}),
        "link_up": zip_bytes({"app.py": app, "up": ("->", "../../../../etc")}),
        "link_nested_up": zip_bytes({"app.py": app, "a/b": ("->", "../../x")}),
        "through_link": zip_bytes({"app.py": app, "d": ("->", "sub"), "d/f.py": "x"}),
        "garbage": b"this is not a zip file at all",
        "truncated": zip_bytes({"app.py": app})[:-30],
    }
    for name, z in cases.items():
        code = create(lam, "bad_" + name, z)
        check(code == ("InvalidParameterValueException", 400), "unsafe/broken zip '%s' rejected: %r" % (name, code))
    check(error_code(lambda: lam.get_function(FunctionName="bad_dotdot"))[1] == 404, "rejected zip leaves no function")
    good = zip_bytes({"app.py": app, "lib/real.txt": "data", "alias.txt": ("->", "lib/real.txt"),
                      "lib/self": ("->", "../app.py")})
    check(create(lam, "goodlinks", good) == (None, None), "links inside the root are accepted")
    r = lam.invoke(FunctionName="goodlinks", Payload=b"{}")
    check(r["Payload"].read() == b'"ok"', "function with internal links runs")
    # unzipped size limit: a zip bomb of zeros (260 MB of zeros compresses to ~250 KB)
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("app.py", app)
        with zf.open("zeros.bin", "w", force_zip64=True) as w:
            chunk = b"\0" * (1 << 20)
            for _ in range(251):
                w.write(chunk)
    check(create(lam, "bomb", buf.getvalue()) == ("InvalidParameterValueException", 400),
          "unzipped size > 250 MB rejected")


def test_validation(emu, lam):
    creds = emu.credentials()
    z = zip_dir(os.path.join(FIX, "python"))
    code = error_code(lambda: lam.create_function(FunctionName="rt", Runtime="cobol85", Role=ROLE,
                                                  Handler="a.b", Code={"ZipFile": z}))
    check(code == ("InvalidParameterValueException", 400), "unknown runtime -> InvalidParameterValueException")
    s, h, b = raw(emu, "POST", "/2015-03-31/functions", json.dumps(
        {"FunctionName": "rt", "Runtime": "cobol85", "Handler": "a.b", "Role": ROLE,
         "Code": {"ZipFile": base64.b64encode(z).decode()}}).encode(), sign_with=creds)
    check(s == 400 and "python3.12" in b.get("message", "") and "nodejs20.x" in b["message"]
          and "provided.al2023" in b["message"], "unknown runtime error names the supported ones: %r" % b)
    s, h, b = raw(emu, "POST", "/2015-03-31/functions", b'{"FunctionName": "x", ', sign_with=creds)
    check(s == 400 and b.get("__type") == "InvalidRequestContentException", "malformed JSON -> InvalidRequestContentException")
    check(error_code(lambda: lam.create_function(FunctionName="bad name!", Runtime="python3.12", Role=ROLE,
                                                 Handler="a.b", Code={"ZipFile": z}))[1] == 400, "bad function name -> 400")
    check(error_code(lambda: lam.create_function(FunctionName="t0", Runtime="python3.12", Role=ROLE, Timeout=901,
                                                 Handler="a.b", Code={"ZipFile": z}))[1] == 400, "Timeout > 900 -> 400")
    check(error_code(lambda: lam.create_function(FunctionName="envres", Runtime="python3.12", Role=ROLE,
                                                 Handler="a.b", Code={"ZipFile": z},
                                                 Environment={"Variables": {"AWS_REGION": "x"}}))[1] == 400,
          "reserved environment variable -> 400")
    check(create(lam, "payload", z) == (None, None), "create for payload tests")
    big = b'"' + b"a" * (6 * 1024 * 1024) + b'"'
    s, h, b = raw(emu, "POST", "/2015-03-31/functions/payload/invocations", big, sign_with=creds)
    check(s == 413 and b.get("__type") == "RequestEntityTooLargeException"
          and b.get("message") == "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
          "payload > 6 MB -> 413 RequestEntityTooLargeException with AWS's message: %r" % b)
    mid = b'"' + b"a" * (2 * 1024 * 1024) + b'"'
    s, h, b = raw(emu, "POST", "/2015-03-31/functions/payload/invocations", mid,
                  headers={"X-Amz-Invocation-Type": "Event"}, sign_with=creds)
    check(s == 413, "Event payload > 1 MB -> 413")
    s, h, b = raw(emu, "POST", "/2015-03-31/functions/payload/invocations", b"{not json", sign_with=creds)
    check(s == 400 and b.get("__type") == "InvalidRequestContentException", "malformed invoke payload -> 400")
    s, h, b = raw(emu, "POST", "/2015-03-31/functions/payload/invocations", b"{}",
                  headers={"X-Amz-Invocation-Type": "Sideways"}, sign_with=creds)
    check(s == 400, "bad invocation type -> 400")
    s, h, b = raw(emu, "POST", "/2015-03-31/functions/nope/invocations", b"{}", sign_with=creds)
    check(s == 404 and b.get("__type") == "ResourceNotFoundException", "invoke of a missing function -> 404")


def test_garbage(emu):
    host, port = emu.endpoint.split("//")[1].split(":")
    junk = [b"\x00\x01\x02garbage\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
            b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\nabc",
            b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"GET /%zz%%%/..%00 HTTP/1.1\r\nHost: x\r\n\r\n"]
    for j in junk:
        try:
            with socket.create_connection((host, int(port)), timeout=5) as s:
                s.sendall(j)
                s.shutdown(socket.SHUT_WR)
                s.recv(4096)
        except OSError:
            pass
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"PUT /2015-03-31/functions/x/code HTTP/1.1\r\nHost: x\r\nContent-Length: 200000000\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        first = s.recv(4096)
    check(first.startswith(b"HTTP/1.1 413") and b"RequestEntityTooLargeException" in first,
          "a body declared larger than any API limit is refused before it is sent (Expect: 100-continue): %r"
          % first[:60])
    s, h, b = raw(emu, "GET", "/2015-03-31/functions/", sign_with=emu.credentials())
    check(s == 200, "server still answers after garbage requests")


CHILD = """
import os, subprocess, sys, time
p = subprocess.Popen([os.environ["LAMBDECK"], "emulate", "--port", "0", "--state-dir", sys.argv[1],
                      "--exit-with-parent", "--quiet"], stdout=subprocess.PIPE)
print(p.stdout.readline().decode().strip(), flush=True)
time.sleep(60)
"""


def test_exit_with_parent():
    """--exit-with-parent: a killed test leaves no emulator behind."""
    tmp = tempfile.mkdtemp(prefix="lkemu.")
    parent = subprocess.Popen([sys.executable, "-c", CHILD, os.path.join(tmp, "state")],
                              stdout=subprocess.PIPE)
    info = json.loads(parent.stdout.readline())
    parent.kill()
    parent.wait()
    parent.stdout.close()
    gone = False
    for _ in range(100):
        try:
            os.kill(info["pid"], 0)
            with open("/proc/%d/stat" % info["pid"]) as f:
                if f.read().split(")")[1].split()[0] == "Z":
                    gone = True
                    break
        except OSError:
            gone = True
            break
        time.sleep(0.1)
    check(gone, "--exit-with-parent: the emulator stops when its parent is killed")
    shutil.rmtree(tmp, ignore_errors=True)


def main():
    with Emulator() as emu:
        lam = emu.client("lambda")
        try:
            test_auth(emu)
            test_zips(lam)
            test_validation(emu, lam)
            test_garbage(emu)
            ep = json.load(open(os.path.join(emu.state_dir, "endpoint")))
            check(ep["endpoint"] == emu.endpoint and ep["pid"] == emu.proc.pid, "endpoint file names the running emulator")
            second = subprocess.run([os.environ["LAMBDECK"], "emulate", "--port", "0", "--state-dir", emu.state_dir],
                                    capture_output=True, timeout=30)
            check(second.returncode == 1 and b"already running" in second.stderr,
                  "a second emulator on the same state dir refuses to start")
            # restart persistence
            before = lam.get_function_configuration(FunctionName="goodlinks")
            emu.restart()
            lam = emu.client("lambda")
            after = lam.get_function_configuration(FunctionName="goodlinks")
            check(before["CodeSha256"] == after["CodeSha256"] and before["RevisionId"] == after["RevisionId"],
                  "function configuration persists across a restart")
            check(lam.invoke(FunctionName="goodlinks", Payload=b"{}")["Payload"].read() == b'"ok"',
                  "function code persists across a restart")
            check(sorted(f["FunctionName"] for f in lam.list_functions()["Functions"]) == ["goodlinks", "payload"],
                  "exactly the created functions persist")
        finally:
            if failures:
                print(emu.read_log()[-3000:])
    with Emulator(args=["--any-credentials", "--idle-timeout", "1"]) as emu:
        s, h, b = raw(emu, "GET", "/2015-03-31/functions/")
        check(s == 200, "--any-credentials accepts an unsigned request")
        lam = botocore.session.Session().create_client("lambda", region_name=emu.region, endpoint_url=emu.endpoint,
                                                       aws_access_key_id="anything", aws_secret_access_key="goes")
        check(lam.list_functions()["Functions"] == [], "--any-credentials accepts arbitrary keys")
        # idle workers are reaped: after the idle timeout the next invoke is a cold start
        lam.create_function(FunctionName="idle", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": zip_dir(os.path.join(FIX, "python"))})
        p1 = json.loads(lam.invoke(FunctionName="idle", Payload=b"{}")["Payload"].read())["pid"]
        p2 = json.loads(lam.invoke(FunctionName="idle", Payload=b"{}")["Payload"].read())["pid"]
        time.sleep(2.0)
        r = lam.invoke(FunctionName="idle", Payload=b"{}", LogType="Tail")
        p3 = json.loads(r["Payload"].read())["pid"]
        check(p1 == p2 and p3 != p1 and "Init Duration" in base64.b64decode(r["LogResult"]).decode(),
              "idle worker stopped after --idle-timeout, next invoke starts a new one")
        check(not os.path.exists("/proc/%d" % p1) or open("/proc/%d/stat" % p1).read().split()[2] == "Z",
              "the idle worker process is gone")
    test_exit_with_parent()
    emu = Emulator(keep=True)
    emu.start()
    emu.stop()
    check(not os.path.exists(os.path.join(emu.state_dir, "endpoint")), "clean shutdown removes the endpoint file")
    cp = subprocess.run([os.environ["LAMBDECK"], "emulate", "--host", "0.0.0.0", "--port", "0",
                         "--state-dir", os.path.join(emu.tmp, "remote")], capture_output=True, timeout=30)
    check(cp.returncode == 1 and b"--allow-remote" in cp.stderr, "non-loopback address needs --allow-remote")
    shutil.rmtree(emu.tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
