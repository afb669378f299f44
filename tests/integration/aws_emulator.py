"""The AWS client against the real peer in LOCAL mode, lambdeck's emulator: CreateFunction,
wait until updated, Invoke with Tail logs and a function error, UpdateFunctionCode, ListFunctions
paging, GetFunction, CloudWatch Logs DescribeLogGroups / FilterLogEvents / StartLiveTail, and
DeleteFunction, all signed with the emulator's generated credentials."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests", "lib"))
import awsfake  # noqa: E402
from emu import Emulator, zip_dir  # noqa: E402
from scale import scaled  # noqa: E402

FIX = os.path.join(os.environ["LAMBDECK_SRC"], "tests", "fixtures", "emulator", "python")
ROLE = "arn:aws:iam::000000000000:role/lambdeck-test"
FAILS = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else " " + str(detail)[:3000]))
    if not cond:
        FAILS.append(what)


def main():
    tmp = tempfile.mkdtemp(prefix="lk-aws-emu-")
    zpath = os.path.join(tmp, "fn.zip")
    with open(zpath, "wb") as f:
        f.write(zip_dir(FIX))
    with Emulator() as emu:
        env = dict(emu.env)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(k, None)
        env["LK_ENDPOINT"] = emu.endpoint
        env["PATH"] = "/usr/bin:/bin"

        def call(*args, **extra):
            r, rc, out, err = awsfake.call(dict(env, **extra), *args)
            return r or {}, rc, out + err

        r, rc, out = call("create-function", json.dumps({
            "FunctionName": "lk-py", "Runtime": "python3.12", "Role": ROLE,
            "Handler": "app.handler", "Timeout": 5}), zpath)
        check(rc == 0 and r.get("status") == 201 and r["json"]["FunctionName"] == "lk-py",
              "CreateFunction", out)
        r, rc, out = call("wait-updated", "lk-py", "20000")
        check(rc == 0 and r["json"].get("State") == "Active", "wait until active", out)
        r, rc, out = call("invoke", "lk-py", '{"hello": 1}', LK_LOG_TAIL="1")
        check(rc == 0 and r["json"]["event"] == {"hello": 1} and "function_error" not in r and
              "START RequestId:" in r.get("log_tail", "") and "python handler" in r["log_tail"],
              "Invoke RequestResponse with Tail log", out)
        r, rc, out = call("invoke", "lk-py", '{"action": "fail"}')
        check(rc == 0 and r.get("function_error") == "Unhandled" and
              "boom from python" in json.dumps(r.get("json")), "Invoke reports a function error", out)
        r, rc, out = call("update-code", "lk-py", zpath)
        check(rc == 0 and r["json"]["FunctionName"] == "lk-py", "UpdateFunctionCode", out)
        r, rc, out = call("wait-updated", "lk-py", "20000")
        check(rc == 0 and r["json"].get("LastUpdateStatus") in ("Successful", None),
              "wait until updated", out)
        r, rc, out = call("get-function", "lk-py")
        check(rc == 0 and r["json"]["Configuration"]["FunctionName"] == "lk-py", "GetFunction", out)
        r, rc, out = call("get-function", "does-not-exist")
        check(rc == 1 and r.get("code") == "ResourceNotFoundException" and r.get("status") == 404,
              "GetFunction of a missing function: AWS error code", out)
        r, rc, out = call("list-functions", "", "1", LK_ALL_PAGES="1")
        check(rc == 0 and "lk-py" in [f["FunctionName"] for f in r["json"]["Functions"]],
              "ListFunctions (all pages, 1 per page)", out)

        # Logs: the invocations above were recorded.
        group = "/aws/lambda/lk-py"
        r, rc, out = call("describe-log-groups", "/aws/lambda/")
        check(rc == 0 and group in [g["logGroupName"] for g in r["json"]["logGroups"]],
              "DescribeLogGroups", out)
        # a quoted phrase: the terms python and handler alone also match the traceback, one
        # event ("boom from python ... in handler") as on AWS
        r, rc, out = call("filter-log-events", group, '"python handler"', LK_ALL_PAGES="1")
        check(rc == 0 and len(r["json"]["events"]) >= 2 and
              all("python handler" in e["message"] for e in r["json"]["events"]),
              "FilterLogEvents with a pattern", out)

        # StartLiveTail: a new invocation shows up while tailing.
        tail = subprocess.Popen([awsfake.TOOL, "call", "live-tail", group],
                                env=dict(env, LK_CANCEL_AFTER_MS="8000"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = tail.stdout.readline().decode()
        check('"sessionStart"' in first, "live tail session starts", first)
        inv, _, _ = call("invoke", "lk-py", '{"marker": "tail-me"}')
        marker = (inv.get("json") or {}).get("request_id") or "no request id"
        seen = False
        deadline = time.time() + scaled(8)
        lines = []
        while time.time() < deadline:
            line = tail.stdout.readline().decode()
            if not line:
                break
            lines.append(line)
            if marker in line and "python handler" in line:
                seen = True
                break
        tail.kill()
        tail.wait()
        check(seen, "live tail delivers the new invocation's log lines", "".join(lines))

        r, rc, out = call("delete-function", "lk-py")
        check(rc == 0 and r.get("status") in (200, 204), "DeleteFunction", out)
    # lambdeck doctor in LOCAL mode (the default) starts the project's emulator, checks it,
    # and stops it again.
    proj = os.path.join(tmp, "project")
    os.makedirs(proj)
    denv = {"PATH": "/usr/bin:/bin", "HOME": tmp, "LC_ALL": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": "AKIAUSERKEYNOTUSED01", "AWS_SECRET_ACCESS_KEY": "user-secret"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            denv[k] = os.environ[k]
    p = subprocess.run([os.environ["LAMBDECK"], "--project", proj, "doctor"], env=denv,
                       capture_output=True, timeout=120)
    out = p.stdout.decode() + p.stderr.decode()
    check(p.returncode == 0 and "mode:         LOCAL emulator 127.0.0.1:" in out and
          "profile:      lambdeck-local (LOCAL emulator)" in out and
          "from shared credentials file " + proj in out and
          "check:        lambda ListFunctions ok" in out and "user-secret" not in out,
          "doctor in LOCAL mode uses the emulator and its own credentials", out)
    if FAILS:
        sys.exit(f"{len(FAILS)} checks failed: {FAILS}")


if __name__ == "__main__":
    main()
