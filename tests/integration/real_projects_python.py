"""Real public Python projects, run untouched: the SAM CLI's python3.13 hello-world template and
a Serverless Patterns function that creates boto3 clients at import time. Each is copied to a
temp dir with a `.venv` made as its user would (`python3 -m venv --system-site-packages`),
then discovered, built, deployed and invoked with its own event files through the lambdeck
CLI against a private emulator. Asserts: the project's virtualenv is the interpreter
(`functions --json`, the first invoke's log), the version difference is said, the handler's
own answer comes back, a handler exception is reported as AWS does."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from real import RealProject, check  # noqa: E402

VENV = tuple(int(x) for x in subprocess.run(
    ["/usr/bin/python3", "-c", "import sys; print(*sys.version_info[:2])"],
    capture_output=True, text=True, check=True).stdout.split())


def note_for(runtime):
    if runtime == "python%d.%d" % VENV:
        return None
    return "%s → running with .venv python%d.%d" % (runtime, *VENV)


with RealProject("run-sam-python-hello", venv=True) as p:
    fns = p.functions()
    f = fns.get("HelloWorldFunction")
    check(f is not None and f["runtime"] == "python3.13", "SAM python: HelloWorldFunction found", fns)
    check(f["interpreter"] == os.path.join(p.dir, ".venv/bin/python"),
          "SAM python: the project's .venv runs it", f)
    want = note_for("python3.13")
    check((f["localRuntime"] or "").startswith(want) if want else f["localRuntime"] is None,
          "SAM python: the local version is said: %r" % want, f)
    check(not f["problem"], "SAM python: no discovery problem", f)
    p.ok("build")
    p.ok("deploy")
    r = p.invoke("HelloWorldFunction", "events/event.json")
    check(r["exit"] == 0 and r["status"] == 200 and r["functionError"] is None,
          "SAM python: invoke with events/event.json succeeds", r)
    check(r["payload"] == {"statusCode": 200, "body": json.dumps({"message": "hello world"})},
          "SAM python: the handler's own answer", r)
    if want:
        check(want in r["logTail"], "SAM python: the first invoke's log says %r" % want, r)

with RealProject("run-rekognition-s3-detectlabels-python", venv=True) as p:
    fns = p.functions()
    f = next(iter(fns.values()))
    check(f["runtime"] == "python3.14" and f["interpreter"].endswith("/.venv/bin/python"),
          "patterns python: python3.14 runs with the project's .venv", f)
    p.ok("deploy")
    r = p.invoke(f["name"], "events/s3-notification.json")
    body = r["payload"]
    check(r["exit"] == 1 and r["functionError"] == "Unhandled", "patterns python: a function error", r)
    check(body.get("errorType") == "KeyError" and body.get("errorMessage") == "'detail'",
          "patterns python: boto3 imported (module-level clients), then KeyError('detail') as AWS reports it", r)
    check("Unable to import" not in r["logTail"], "patterns python: boto3 came from the venv", r)
print("all ok")
