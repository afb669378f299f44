"""The emulator's Lambda API and workers through botocore (the AWS SDK the AWS CLI is built
on): python, node (CommonJS, ES module, callback) and provided (bash) functions; context and
environment; function errors, timeouts, crashes, concurrency + 429, code and configuration
updates taking effect on the next invoke, Event/DryRun, Tail logs, ListFunctions paging."""
import base64
import hashlib
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, zip_bytes, zip_dir  # noqa: E402

FIX = os.path.join(os.environ["LAMBDECK_SRC"], "tests/fixtures/emulator")
ROLE = "arn:aws:iam::000000000000:role/lambdeck-test"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    else:
        print("ok:", what, flush=True)


def invoke(lam, name, event=None, **kw):
    r = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kw)
    body = r["Payload"].read()
    r["Body"] = json.loads(body) if body else None
    if "LogResult" in r:
        r["Log"] = base64.b64decode(r["LogResult"]).decode()
    return r


def error_code(fn):
    try:
        fn()
    except Exception as e:  # botocore ClientError
        resp = getattr(e, "response", {})
        return resp.get("Error", {}).get("Code"), resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return None, None


def test_python(lam, emu):
    z = zip_dir(os.path.join(FIX, "python"))
    cfg = lam.create_function(FunctionName="py", Runtime="python3.12", Role=ROLE,
                              Handler="app.handler", Code={"ZipFile": z}, Timeout=2,
                              MemorySize=256, Environment={"Variables": {"GREETING": "hi"}})
    check(cfg["CodeSha256"] == base64.b64encode(hashlib.sha256(z).digest()).decode(),
          "CreateFunction CodeSha256 is base64 SHA-256 of the zip")
    check(cfg["ResponseMetadata"]["HTTPStatusCode"] == 201 and cfg["State"] == "Active",
          "CreateFunction 201 Active")
    r1 = invoke(lam, "py", {"hello": 1}, LogType="Tail")
    b = r1["Body"]
    check(r1["StatusCode"] == 200 and "FunctionError" not in r1 and b["event"] == {"hello": 1},
          "python invoke returns the handler's result")
    check(r1.get("ExecutedVersion") == "$LATEST", "X-Amz-Executed-Version $LATEST")
    env = b["env"]
    check(env.get("AWS_LAMBDA_FUNCTION_NAME") == "py" and env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") == "256"
          and env.get("AWS_LAMBDA_FUNCTION_VERSION") == "$LATEST"
          and env.get("AWS_LAMBDA_LOG_GROUP_NAME") == "/aws/lambda/py"
          and "[$LATEST]" in env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
          and env.get("AWS_REGION") == emu.region and env.get("_HANDLER") == "app.handler"
          and env.get("GREETING") == "hi" and env.get("TZ") == ":UTC"
          and env.get("AWS_ENDPOINT_URL_LAMBDA") == emu.endpoint
          and env.get("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS") == emu.endpoint
          and env.get("AWS_ACCESS_KEY_ID") == emu.credentials()[0]
          and os.path.isdir(env.get("LAMBDA_TASK_ROOT", "/nonexistent")), "Lambda environment variables: %r" % env)
    check(b["function_name"] == "py" and b["memory"] == "256" and b["arn"].endswith(":function:py")
          and b["request_id"] == r1["ResponseMetadata"]["RequestId"]
          and 0 < b["remaining_ms"] <= 2000 and b["log_stream"] == env["AWS_LAMBDA_LOG_STREAM_NAME"],
          "python context object")
    log = r1["Log"]
    # init output (lambdeck's "python3.12 → running with …" line) may precede START, as on AWS
    check(("\n" + log).count("\nSTART RequestId: %s Version: $LATEST" % b["request_id"]) == 1
          and "python handler v1" in log and "END RequestId: %s" % b["request_id"] in log
          and "REPORT RequestId: %s\tDuration: " % b["request_id"] in log and "Init Duration" in log
          and "Memory Size: 256 MB" in log, "Tail log of a cold invoke: %r" % log)
    import re
    check(re.search(r"^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\tvia logging v1$" % b["request_id"], log, re.M),
          "python logging formatted like AWS")
    r2 = invoke(lam, "py", {"n": 2}, LogType="Tail")
    check(r2["Body"]["pid"] == b["pid"], "second invoke reuses the warm worker")
    check("Init Duration" not in r2["Log"] and "REPORT" in r2["Log"], "warm REPORT has no Init Duration")
    # function error
    r = invoke(lam, "py", {"action": "fail"})
    check(r.get("FunctionError") == "Unhandled" and r["StatusCode"] == 200
          and r["Body"]["errorType"] == "ValueError" and r["Body"]["errorMessage"] == "boom from python"
          and isinstance(r["Body"]["stackTrace"], list) and "app.py" in "".join(r["Body"]["stackTrace"]),
          "python function error: Unhandled + errorType/errorMessage/stackTrace: %r" % r["Body"])
    check(invoke(lam, "py", {})["Body"]["pid"] == b["pid"], "worker survives a function error")
    # timeout
    t0 = time.time()
    r = invoke(lam, "py", {"action": "sleep", "seconds": 5}, LogType="Tail")
    el = time.time() - t0
    check(r.get("FunctionError") == "Unhandled" and "Task timed out after 2.00 seconds" in r["Body"]["errorMessage"]
          and el < 4.5, "timeout enforced (%.2f s): %r" % (el, r["Body"]))
    check("Task timed out after 2.00 seconds" in r["Log"], "timeout line in the log")
    r = invoke(lam, "py", {})
    check(r["StatusCode"] == 200 and "FunctionError" not in r and r["Body"]["pid"] != b["pid"],
          "a new worker replaces the timed-out one")
    # crash
    r = invoke(lam, "py", {"action": "crash"})
    check(r.get("FunctionError") == "Unhandled" and r["Body"]["errorType"] == "Runtime.ExitError"
          and "exit status 3" in r["Body"]["errorMessage"], "crash reported as Runtime.ExitError: %r" % r["Body"])
    check("FunctionError" not in invoke(lam, "py", {}), "worker replaced after a crash")
    # memory limit (256 MB): allocating 600 MB fails
    r = invoke(lam, "py", {"action": "memory", "mb": 600})
    check(r.get("FunctionError") == "Unhandled", "memory limit applied: %r" % r["Body"])
    r = invoke(lam, "py", {"action": "memory", "mb": 20})
    check("FunctionError" not in r and r["Body"]["allocated"] == 20 * 1024 * 1024, "allocation under the limit works")
    # code update takes effect on the very next invoke
    z2 = zip_dir(os.path.join(FIX, "python"), {"app.py": open(os.path.join(FIX, "python/app.py")).read().replace('VERSION = "v1"', 'VERSION = "v2"')})
    u = lam.update_function_code(FunctionName="py", ZipFile=z2)
    check(u["CodeSha256"] == base64.b64encode(hashlib.sha256(z2).digest()).decode()
          and u["LastUpdateStatus"] == "Successful", "UpdateFunctionCode returns the new CodeSha256")
    r = invoke(lam, "py", {}, LogType="Tail")
    check(r["Body"]["version"] == "v2", "next invoke after UpdateFunctionCode runs the new code")
    check("Init Duration" not in r["Log"], "a warm function gets a pre-started worker of the new code")
    lam.update_function_configuration(FunctionName="py", Handler="nosuchmodule.handler")
    r = invoke(lam, "py", {})
    check(r.get("FunctionError") == "Unhandled" and r["Body"]["errorType"] == "Runtime.ImportModuleError"
          and "nosuchmodule" in r["Body"]["errorMessage"], "python import error -> Runtime.ImportModuleError: %r" % r["Body"])
    lam.update_function_configuration(FunctionName="py", Handler="app.nosuchfunction")
    r = invoke(lam, "py", {})
    check(r.get("FunctionError") == "Unhandled" and r["Body"]["errorType"] == "Runtime.HandlerNotFound",
          "python missing handler -> Runtime.HandlerNotFound")
    lam.update_function_configuration(FunctionName="py", Handler="app.handler",
                                      Environment={"Variables": {"GREETING": "hello"}})
    check(invoke(lam, "py", {})["Body"]["env"].get("GREETING") == "hello",
          "next invoke after UpdateFunctionConfiguration sees the new environment")
    # Event and DryRun
    r = lam.invoke(FunctionName="py", InvocationType="Event", Payload=b'{"async":1}')
    check(r["StatusCode"] == 202, "Event invoke -> 202")
    eid = r["ResponseMetadata"]["RequestId"]
    logs = emu.client("logs")
    seen = False
    for _ in range(50):
        evs = logs.filter_log_events(logGroupName="/aws/lambda/py", filterPattern='"END RequestId: %s"' % eid)["events"]
        if evs:
            seen = True
            break
        time.sleep(0.1)
    check(seen, "Event invocation ran in the background (END line for %s)" % eid)
    r = lam.invoke(FunctionName="py", InvocationType="DryRun")
    check(r["StatusCode"] == 204, "DryRun -> 204")
    # names and ARNs
    arn = "arn:aws:lambda:%s:000000000000:function:py" % emu.region
    check(lam.get_function(FunctionName=arn)["Configuration"]["FunctionName"] == "py", "GetFunction by ARN")
    check(lam.get_function_configuration(FunctionName="py")["Environment"]["Variables"] == {"GREETING": "hello"},
          "GetFunctionConfiguration")
    check(invoke(lam, arn, {"x": 1})["Body"]["event"] == {"x": 1}, "Invoke by ARN")
    check(invoke(lam, "py:$LATEST", {"x": 2})["Body"]["event"] == {"x": 2}, "Invoke name:$LATEST")
    check(error_code(lambda: lam.invoke(FunctionName="py", Qualifier="7")) == ("ResourceNotFoundException", 404),
          "unknown qualifier -> 404")
    check(error_code(lambda: lam.create_function(FunctionName="py", Runtime="python3.12", Role=ROLE,
                                                 Handler="app.handler", Code={"ZipFile": z}))
          == ("ResourceConflictException", 409), "duplicate CreateFunction -> 409")
    return b["request_id"]


def test_logs(emu, req_id):
    logs = emu.client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/py")["logStreams"]
    import re
    check(streams and all(re.match(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$", s["logStreamName"]) for s in streams),
          "worker log streams named YYYY/MM/DD/[$LATEST]<id>: %r" % [s["logStreamName"] for s in streams])
    msgs = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName="/aws/lambda/py"):
        msgs += [e["message"] for e in page["events"]]
    check(any(m.startswith("START RequestId: %s Version: $LATEST" % req_id) for m in msgs)
          and any(m == "END RequestId: %s" % req_id for m in msgs)
          and any(m.startswith("REPORT RequestId: %s\tDuration: " % req_id) and "Init Duration" in m for m in msgs)
          and any(m.startswith("python handler v1 %s" % req_id) for m in msgs),
          "worker output and platform lines recorded in /aws/lambda/py: %r" % msgs[:12])


def test_concurrency(lam, emu, limit):
    z = zip_dir(os.path.join(FIX, "python"))
    lam.create_function(FunctionName="conc", Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": z}, Timeout=10)
    results = [None] * limit
    clients = [emu.client("lambda") for _ in range(limit)]

    def run(i):
        results[i] = invoke(clients[i], "conc", {"action": "sleep", "seconds": 3})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(limit)]
    for t in threads:
        t.start()
    # wait until all of them run (their START lines are logged at delivery)
    logs = emu.client("logs")
    for _ in range(200):
        evs = logs.filter_log_events(logGroupName="/aws/lambda/conc", filterPattern='"START RequestId"')["events"] \
            if any(g["logGroupName"] == "/aws/lambda/conc" for g in logs.describe_log_groups()["logGroups"]) else []
        if len(evs) >= limit:
            break
        time.sleep(0.05)
    noretry = emu.client("lambda", retries=False)
    code = error_code(lambda: noretry.invoke(FunctionName="conc", Payload=b"{}"))
    check(code == ("TooManyRequestsException", 429), "invoke beyond the concurrency limit -> 429 (%r)" % (code,))
    for t in threads:
        t.join()
    pids = {r["Body"]["pid"] for r in results if r and r.get("Body") and "pid" in r["Body"]}
    check(len(pids) == limit, "%d concurrent invokes ran in %d workers" % (limit, len(pids)))
    check("FunctionError" not in invoke(lam, "conc", {}), "invoke works again after the burst")


def test_node(lam, emu):
    z = zip_dir(os.path.join(FIX, "node_cjs"))
    lam.create_function(FunctionName="nodecjs", Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": z}, Timeout=2)
    r = invoke(lam, "nodecjs", {"a": 1}, LogType="Tail")
    b = r["Body"]
    check("FunctionError" not in r and b["event"] == {"a": 1} and b["functionName"] == "nodecjs"
          and b["memory"] == "128" and 0 < b["remaining"] <= 2000, "node CommonJS async handler: %r" % b)
    check("\tINFO\tnode cjs handler v1" in r["Log"] and b["requestId"] in r["Log"], "node console.log formatted like AWS")
    r = invoke(lam, "nodecjs", {"action": "fail"})
    check(r.get("FunctionError") == "Unhandled" and r["Body"]["errorType"] == "TypeError"
          and r["Body"]["errorMessage"] == "boom from node" and r["Body"]["stackTrace"],
          "node error reported with type, message, stack: %r" % r["Body"])
    r = invoke(lam, "nodecjs", {"action": "sleep", "seconds": 4})
    check(r.get("FunctionError") == "Unhandled" and "timed out" in r["Body"]["errorMessage"], "node timeout")
    r = invoke(lam, "nodecjs", {"action": "crash"})
    check(r.get("FunctionError") == "Unhandled" and "exit status 4" in r["Body"]["errorMessage"], "node crash")
    lam.update_function_configuration(FunctionName="nodecjs", Handler="index.callback")
    r = invoke(lam, "nodecjs", {"c": 1})
    check(r["Body"] == {"style": "callback", "event": {"c": 1}}, "node callback handler: %r" % r["Body"])
    lam.update_function_configuration(FunctionName="nodecjs", Handler="index.callbackError")
    r = invoke(lam, "nodecjs", {})
    check(r.get("FunctionError") == "Unhandled" and r["Body"]["errorType"] == "RangeError", "node callback error")
    lam.update_function_configuration(FunctionName="nodecjs", Handler="index.missing")
    r = invoke(lam, "nodecjs", {})
    check(r.get("FunctionError") == "Unhandled" and r["Body"]["errorType"] == "Runtime.HandlerNotFound",
          "missing node handler -> Runtime.HandlerNotFound: %r" % r["Body"])
    z = zip_dir(os.path.join(FIX, "node_esm"))
    lam.create_function(FunctionName="nodeesm", Runtime="nodejs22.x", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": z})
    r = invoke(lam, "nodeesm", {"e": 1})
    check(r["Body"] == {"style": "esm", "event": {"e": 1}, "functionName": "nodeesm"}, "node ES module handler: %r" % r["Body"])


def test_provided(lam, emu):
    z = zip_dir(os.path.join(FIX, "provided"))
    lam.create_function(FunctionName="bash", Runtime="provided.al2023", Role=ROLE, Handler="ignored.handler",
                        Code={"ZipFile": z})
    r = invoke(lam, "bash", {"k": "v"}, LogType="Tail")
    check(r["Body"] == {"runtime": "bash", "handler": "ignored.handler", "echo": {"k": "v"}},
          "provided bootstrap in bash answers: %r" % r["Body"])
    check("bash handler got" in r["Log"], "provided bootstrap output in the log")
    r = invoke(lam, "bash", {"action": "fail"})
    check(r.get("FunctionError") == "Unhandled" and r["Body"]["errorType"] == "BashError", "provided error")
    z = zip_dir(os.path.join(FIX, "provided_initerror"))
    lam.create_function(FunctionName="bashinit", Runtime="provided.al2", Role=ROLE, Code={"ZipFile": z})
    r = invoke(lam, "bashinit", {}, LogType="Tail")
    check(r.get("FunctionError") == "Unhandled" and r["Body"]["errorType"] == "Runtime.ConfigError"
          and r["Body"]["errorMessage"] == "missing configuration" and "init failing on purpose" in r["Log"],
          "init/error from a bootstrap is the invoke's error: %r" % r["Body"])
    lam.delete_function(FunctionName="bashinit")
    z = zip_bytes({"other.py": "x = 1\n"})
    lam.create_function(FunctionName="bashnoboot", Runtime="provided.al2023", Role=ROLE, Code={"ZipFile": z})
    r = invoke(lam, "bashnoboot", {})
    check(r.get("FunctionError") == "Unhandled" and "bootstrap" in r["Body"]["errorMessage"],
          "provided zip without bootstrap -> clear error: %r" % r["Body"])
    lam.delete_function(FunctionName="bashnoboot")


def test_list_delete(lam, emu):
    names = []
    kw = {"MaxItems": 2}
    pages = 0
    while True:
        page = lam.list_functions(**kw)
        pages += 1
        names += [f["FunctionName"] for f in page["Functions"]]
        if not page.get("NextMarker"):
            break
        kw["Marker"] = page["NextMarker"]
    check(names == sorted(["py", "conc", "nodecjs", "nodeesm", "bash"]) and pages == 3,
          "ListFunctions pages with Marker/MaxItems: %r in %d pages" % (names, pages))
    lam.delete_function(FunctionName="conc")
    check(error_code(lambda: lam.get_function(FunctionName="conc")) == ("ResourceNotFoundException", 404),
          "deleted function -> 404")
    check(error_code(lambda: lam.invoke(FunctionName="conc")) == ("ResourceNotFoundException", 404),
          "invoke of a deleted function -> 404")


def main():
    limit = 3
    with Emulator(args=["--max-concurrency", str(limit)]) as emu:
        lam = emu.client("lambda")
        try:
            first_id = test_python(lam, emu)
            test_logs(emu, first_id)
            test_concurrency(lam, emu, limit)
            test_node(lam, emu)
            test_provided(lam, emu)
            test_list_delete(lam, emu)
        finally:
            if failures:
                print(emu.read_log()[-3000:])
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
