"""The AWS client against the real peer in LOCAL mode, lambdeck's emulator: CreateFunction,
wait until updated, Invoke with Tail logs and a function error, UpdateFunctionCode, ListFunctions
paging, GetFunction and DeleteFunction, all signed with the emulator's generated credentials."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests", "lib"))
import awsfake  # noqa: E402
from emu import Emulator, zip_dir  # noqa: E402

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

        r, rc, out = call("delete-function", "lk-py")
        check(rc == 0 and r.get("status") in (200, 204), "DeleteFunction", out)
    if FAILS:
        sys.exit(f"{len(FAILS)} checks failed: {FAILS}")


if __name__ == "__main__":
    main()
