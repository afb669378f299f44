"""Emulator workers under abuse (issue 21): an oversize function response is refused as AWS
does while the warm worker lives on (item 6)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, zip_bytes  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/lambda"

BIG = '''
import os
def handler(event, context):
    if event.get("mb"):
        return "x" * (event["mb"] * 1024 * 1024)
    return {"pid": os.getpid()}
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


def main():
    with Emulator() as emu:
        lam = emu.client("lambda", read_timeout=120)
        lam.create_function(FunctionName="big", Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Timeout=60, MemorySize=512,
                            Code={"ZipFile": zip_bytes({"app.py": BIG})})
        check_oversize(lam, "big", [{"mb": 10}, {"mb": 20}, {"mb": 40}])
        lam.create_function(FunctionName="curlbig", Runtime="provided.al2023",
                            Handler="none", Role=ROLE, Timeout=60,
                            Code={"ZipFile": zip_bytes({"bootstrap": (BOOTSTRAP, 0o755)})})
        check_oversize(lam, "curlbig", [{"big": 1}])


if __name__ == "__main__":
    main()
