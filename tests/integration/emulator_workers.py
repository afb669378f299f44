"""Emulator workers under abuse (issue 21): an oversize function response is refused as AWS
does while the warm worker lives on (item 6); another local user cannot speak to a worker's
Runtime API (item 8); the Event queue is bounded by bytes, throttling with 429 beyond it
(item 11)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, small_asan_quarantine, zip_bytes  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/lambda"

BIG = '''
import os, socket, subprocess, sys
def handler(event, context):
    if event.get("mb"):
        return "x" * (event["mb"] * 1024 * 1024)
    if event.get("probe"):  # a child process of the worker (its process group) may speak
        api = os.environ["AWS_LAMBDA_RUNTIME_API"]
        out = subprocess.run([sys.executable, "-c", event["probe"], api, "forge"],
                             capture_output=True, text=True)
        return out.stdout.strip()
    return {"pid": os.getpid(), "api": os.environ["AWS_LAMBDA_RUNTIME_API"]}
'''

# A provided runtime whose bootstrap speaks to the Runtime API with curl, as AWS's
# tutorial bootstrap does.
BOOTSTRAP = r'''#!/bin/bash
set -u
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  ID=$(grep -i Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  case "$EVENT" in
    *big*) head -c $((20 * 1024 * 1024)) /dev/zero | tr '\0' 'x' > /tmp/lkbig.$$
           curl -sS -o /dev/null "$API/invocation/$ID/response" --data-binary @/tmp/lkbig.$$
           rm -f /tmp/lkbig.$$ ;;
    *) curl -sS -o /dev/null "$API/invocation/$ID/response" -d "{\"pid\": $$}" ;;
  esac
done
'''


def invoke(lam, name, payload):
    r = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return r.get("FunctionError"), json.loads(r["Payload"].read())


def check_oversize(lam, name, big_payload):
    err, body = invoke(lam, name, {})
    assert err is None, body
    pid = body["pid"]
    for payload in big_payload:
        err, body = invoke(lam, name, payload)
        assert err == "Unhandled", (payload, body)
        assert body["errorType"] == "Function.ResponseSizeTooLarge", (payload, body)
        assert "6291556 bytes" in body["errorMessage"], body
        # the same warm worker answers the next invoke
        err, body = invoke(lam, name, {})
        assert err is None and body["pid"] == pid, (
            "the worker did not survive a %r response: %r" % (payload, body))
    print("ok: %s: oversize responses -> Function.ResponseSizeTooLarge, worker %d lives on"
          % (name, pid))


# Run as another uid: speaks raw HTTP to the Runtime API and prints what came back (nothing
# when the connection is refused).
INTRUDER = r'''
import socket, sys
host, port = sys.argv[1].split(":")
REQS = {"next": "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n",
        "kill": "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n"
                "Content-Length: 2\r\n\r\n{}",
        "forge": "POST /2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nHost: x\r\n"
                 "Content-Length: 2\r\n\r\n{}"}
out = []
for req in (REQS[a] for a in sys.argv[2:]):
    s = socket.create_connection((host, int(port)), timeout=10)
    try:
        s.sendall(req.encode())
        data = s.recv(4096)
    except (ConnectionResetError, BrokenPipeError):
        data = b""
    except socket.timeout:
        data = b"TIMEOUT"
    s.close()
    out.append(data[:60].decode("latin-1"))
print(repr(out))
'''


def check_other_uid(emu, lam):
    """A client of another uid, or of the emulator's uid outside the worker's process group,
    is refused by the worker's Runtime API; the worker keeps working; a child process of the
    worker is answered."""
    if os.geteuid() != 0:
        print("skip: not root, cannot run a client as another uid")
        return
    err, body = invoke(lam, "big", {})
    assert err is None, body
    pid, api = body["pid"], body["api"]
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
           sys.executable, "-c", INTRUDER, api, "next", "kill", "forge"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    answers = eval(out.stdout.strip())
    assert answers == ["", "", ""], "another uid got Runtime API answers: %r" % answers
    # the worker was neither killed nor robbed of its next invocation
    err, body = invoke(lam, "big", {})
    assert err is None and body["pid"] == pid, body
    assert "refused a Runtime API connection" in emu.read_log()
    # the emulator's own uid outside the worker's process group is refused too
    out = subprocess.run([sys.executable, "-c", INTRUDER, api, "forge"], capture_output=True,
                         text=True, timeout=60)
    assert eval(out.stdout.strip()) == [""], out.stdout
    # the same program run by the worker (its process group) is answered: an unknown
    # invocation id gets the Runtime API's 400
    err, body = invoke(lam, "big", {"probe": INTRUDER})
    assert err is None and eval(body)[0].startswith("HTTP/1.1 400"), body
    err, body = invoke(lam, "big", {})
    assert err is None and body["pid"] == pid, body
    print("ok: another uid and another process group are refused by the Runtime API, "
          "worker %d still serves" % pid)


SLOW = '''
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return len(event.get("pad", ""))
'''


def check_event_queue():
    """100 Event invokes of 900 KB while the only worker is busy: the queue stops at its
    byte bound (429 TooManyRequestsException, as AWS throttles) instead of holding 90 MB."""
    import botocore.exceptions
    with Emulator(args=["--max-concurrency", "1"]) as emu:
        lam = emu.client("lambda", retries=False, read_timeout=120)
        lam.create_function(FunctionName="slow", Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Timeout=60,
                            Code={"ZipFile": zip_bytes({"app.py": SLOW})})
        assert invoke(lam, "slow", {}) == (None, 0)
        base = emu.rss_kb()
        lam.invoke(FunctionName="slow", InvocationType="Event", Payload=b'{"sleep": 30}')
        pad = json.dumps({"pad": "p" * (900 * 1024)}).encode()
        peak, accepted, throttled = base, 0, 0
        for _ in range(100):
            try:
                r = lam.invoke(FunctionName="slow", InvocationType="Event", Payload=pad)
                assert r["StatusCode"] == 202, r
                accepted += 1
            except botocore.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "TooManyRequestsException", e.response
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
                throttled += 1
            peak = max(peak, emu.rss_kb())
        grew = (peak - base) / 1024
        print("event queue: %d accepted, %d throttled, RSS +%.1f MB" % (accepted, throttled, grew))
        assert throttled > 0 and 20 <= accepted <= 40, (accepted, throttled)
        assert grew < 64, "the Event queue held %.1f MB" % grew


def main():
    small_asan_quarantine()
    with Emulator() as emu:
        lam = emu.client("lambda", read_timeout=120)
        lam.create_function(FunctionName="big", Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Timeout=60, MemorySize=512,
                            Code={"ZipFile": zip_bytes({"app.py": BIG})})
        check_oversize(lam, "big", [{"mb": 10}, {"mb": 20}, {"mb": 40}])
        check_other_uid(emu, lam)
        lam.create_function(FunctionName="curlbig", Runtime="provided.al2023",
                            Handler="none", Role=ROLE, Timeout=60,
                            Code={"ZipFile": zip_bytes({"bootstrap": (BOOTSTRAP, 0o755)})})
        check_oversize(lam, "curlbig", [{"big": 1}])
    check_event_queue()


if __name__ == "__main__":
    main()
