"""Real public Node.js projects, run untouched: the SAM CLI's nodejs22.x hello-world template
(ESM handler, its own package.json), Serverless Patterns' response-streaming functions
(`awslambda.streamifyResponse`, CommonJS, nodejs24.x). Each is copied to a temp dir,
`npm install`ed where it has a package.json, then discovered, built, deployed and invoked
through the lambdeck CLI against a private emulator. The only network use is the npm
registry. (The AWS SDK v3 project is real_projects_sdk.py.)"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from real import RealProject, check  # noqa: E402

NODE = int(subprocess.run(["node", "-p", "process.versions.node.split('.')[0]"],
                          capture_output=True, text=True, check=True).stdout)


def note_for(runtime):
    major = int(runtime[6:].split(".")[0])
    return None if major == NODE else "%s → running with node %d" % (runtime, NODE)


with RealProject("run-sam-nodejs-hello") as p:
    f = p.functions().get("HelloWorldFunction")
    check(f is not None and f["runtime"] == "nodejs22.x" and f["sourceFile"].endswith("app.mjs"),
          "SAM node: HelloWorldFunction found with its app.mjs", f)
    want = note_for("nodejs22.x")
    check((f["localRuntime"] or "").startswith(want) if want else f["localRuntime"] is None,
          "SAM node: the local version is said: %r" % want, f)
    p.ok("build")
    p.ok("deploy")
    r = p.invoke("HelloWorldFunction", "events/event.json")
    check(r["exit"] == 0 and r["payload"] == {"statusCode": 200,
                                               "body": json.dumps({"message": "hello world"},
                                                                  separators=(",", ":"))},
          "SAM node: the handler's own answer", r)
    if want:
        check(want in r["logTail"], "SAM node: the first invoke's log says %r" % want, r)

with RealProject("run-lambda-streaming-sdk-sam") as p:
    fns = p.functions()
    check(set(fns) == {"HappyPathFunction", "MidstreamErrorFunction", "TimeoutFunction"},
          "streaming: three functions", fns)
    p.ok("deploy")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as ev:
        ev.write("{}")
    r = p.invoke("HappyPathFunction", ev.name)
    check(r["exit"] == 0 and r["payload"] == "Thisfunctionisstreamingtheresponsebackandnowitisfinished!",
          "streaming: the streamed response comes back whole", r)
    r = p.invoke("MidstreamErrorFunction", ev.name)
    check(r["exit"] == 1 and r["functionError"] == "Unhandled"
          and r["payload"].get("errorMessage") == "This is a custom error mid-stream!",
          "streaming: an error mid-stream is the function's error", r)
    r = p.invoke("TimeoutFunction", ev.name)
    check(r["exit"] == 1 and "Task timed out after 1.00 seconds" in json.dumps(r["payload"]),
          "streaming: the 1 s timeout of a 6 s stream", r)
    os.unlink(ev.name)

print("all ok")
