"""What the emulator's managed runtimes report and provide, as AWS's do (through botocore):
error types (Runtime.ImportModuleError for a missing package in an ES module and in CommonJS,
Runtime.UserCodeSyntaxError for Node.js and Python, Runtime.HandlerNotFound), nodejs16.x gets
no AWS SDK v3, every runtime AWS accepts is accepted (python3.14, nodejs24.x, java21),
a Java function with no bootstrap fails saying it is not runnable locally, a Ruby function
that ships a bootstrap runs through it, and the first invoke says which local interpreter
runs a runtime whose version is not installed."""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, zip_bytes  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/lambdeck-test"
failures = []


def check(cond, what, detail=None):
    print("ok:" if cond else "FAIL:", what, "" if cond or detail is None else detail, flush=True)
    if not cond:
        failures.append(what)


def create(lam, name, runtime, handler, files):
    lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                        Code={"ZipFile": zip_bytes(files)}, Timeout=10)


def invoke(lam, name):
    r = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    body = r["Payload"].read()
    r["Body"] = json.loads(body) if body else None
    r["Log"] = base64.b64decode(r.get("LogResult", "")).decode()
    return r


def error_type(lam, name):
    r = invoke(lam, name)
    return r.get("FunctionError"), (r["Body"] or {}).get("errorType"), r


with Emulator() as emu:
    lam = emu.client("lambda")
    create(lam, "esm-missing", "nodejs22.x", "index.handler",
           {"index.mjs": "import x from 'left-pad-not-here';\nexport const handler = async () => x;\n"})
    fe, et, r = error_type(lam, "esm-missing")
    check(fe == "Unhandled" and et == "Runtime.ImportModuleError"
          and "left-pad-not-here" in r["Body"]["errorMessage"],
          "node ESM: a missing package -> Runtime.ImportModuleError", r["Body"])
    create(lam, "cjs-missing", "nodejs20.x", "index.handler",
           {"index.js": "const x = require('left-pad-not-here');\nexports.handler = async () => x;\n"})
    fe, et, r = error_type(lam, "cjs-missing")
    check(et == "Runtime.ImportModuleError", "node CommonJS: a missing package -> Runtime.ImportModuleError", r["Body"])
    create(lam, "node-syntax", "nodejs22.x", "index.handler",
           {"index.mjs": "export const handler = async () => {\n  return {;\n};\n"})
    fe, et, r = error_type(lam, "node-syntax")
    check(et == "Runtime.UserCodeSyntaxError", "node: a syntax error -> Runtime.UserCodeSyntaxError", r["Body"])
    create(lam, "node-nohandler", "nodejs22.x", "index.nothere",
           {"index.mjs": "export const handler = async () => 1;\n"})
    fe, et, r = error_type(lam, "node-nohandler")
    check(et == "Runtime.HandlerNotFound", "node: a missing export -> Runtime.HandlerNotFound", r["Body"])
    create(lam, "py-syntax", "python3.14", "app.handler", {"app.py": "def handler(e, c)\n    return 1\n"})
    fe, et, r = error_type(lam, "py-syntax")
    check(et == "Runtime.UserCodeSyntaxError", "python: a syntax error -> Runtime.UserCodeSyntaxError", r["Body"])
    check("python3.14 → running with" in r["Log"] or "python3.14" in os.listdir("/usr/bin"),
          "python3.14 (not installed here) says what runs it in the first invoke's log", r["Log"])
    create(lam, "node16-sdk", "nodejs16.x", "index.handler",
           {"index.mjs": "import { S3Client } from '@aws-sdk/client-s3';\nexport const handler = async () => typeof S3Client;\n"})
    fe, et, r = error_type(lam, "node16-sdk")
    check(et == "Runtime.ImportModuleError" and "installing" not in r["Log"],
          "nodejs16.x: no AWS SDK v3 (AWS's node16 runtime had v2), nothing installed", r["Log"])
    create(lam, "java", "java21", "example.Handler::handleRequest", {"README": "compiled code would be here"})
    fe, et, r = error_type(lam, "java")
    check(fe == "Unhandled" and "not runnable locally" in r["Body"]["errorMessage"]
          and "Java" in r["Body"]["errorMessage"], "java21: accepted, and the invoke says it is not runnable locally", r["Body"])
    create(lam, "ruby-bootstrap", "ruby3.3", "app.handler", {
        "bootstrap": ("#!/bin/sh\nset -e\nAPI=\"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\"\n"
                      "while true; do\n"
                      "  H=$(mktemp)\n"
                      "  curl -sS -D \"$H\" -o /dev/null \"$API/invocation/next\"\n"
                      "  ID=$(sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *//p' \"$H\" | tr -d '\\r')\n"
                      "  curl -sS -o /dev/null -X POST -d '\"ran through bootstrap\"' \"$API/invocation/$ID/response\"\n"
                      "  rm -f \"$H\"\n"
                      "done\n", 0o755)})
    r = invoke(lam, "ruby-bootstrap")
    check(r["Body"] == "ran through bootstrap", "ruby3.3 with a bootstrap runs through it", r)

sys.exit(1 if failures else 0)
