"""A real public Node.js project that relies on the AWS SDK v3 of AWS's nodejs18.x+ runtimes:
Serverless Patterns' lambda-transcribe-sam-js, an ES module handler (nodejs24.x) importing
@aws-sdk/client-s3 and @aws-sdk/client-transcribe without shipping them. Copied to a temp dir,
discovered, deployed and invoked with an S3 event through the lambdeck CLI against a private
emulator; the SDK comes from a fresh lambdeck cache (XDG_CACHE_HOME in a temp dir), installed
with npm on first import: the only network use is the npm registry."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from real import RealProject, check  # noqa: E402

cache = tempfile.mkdtemp(prefix="lk-sdkcache.")
with RealProject("run-lambda-transcribe-sam-js", cache_dir=cache) as p:
    f = next(iter(p.functions().values()))
    check(f["runtime"] == "nodejs24.x" and not f["problem"], "SDK: the ESM handler is found", f)
    p.ok("deploy")
    r = p.invoke(f["name"], "events/s3-put-unsupported.json", timeout=300)
    check(r["exit"] == 0 and r["payload"].get("statusCode") == 500
          and json.loads(r["payload"]["body"]) == {"message": "Error starting transcription job",
                                                   "error": "Unsupported file format: txt"},
          "SDK: @aws-sdk/client-s3 and client-transcribe imported, the handler's own 500 answer", r)
    sdk = os.path.join(cache, "lambdeck/aws-sdk-v3/node_modules/@aws-sdk")
    check(os.path.isfile(os.path.join(sdk, "client-s3/package.json"))
          and os.path.isfile(os.path.join(sdk, "client-transcribe/package.json")),
          "SDK: installed once into lambdeck's cache, not into the project", os.listdir(cache))
    check(not os.path.exists(os.path.join(p.dir, "src/node_modules")), "SDK: the project is untouched")
    check("installing @aws-sdk/client-s3" in r["logTail"], "SDK: the first invoke says what it installs", r)
    r = p.invoke(f["name"], "events/s3-put-unsupported.json")
    check(r["exit"] == 0 and "installing" not in r["logTail"], "SDK: the next invoke installs nothing", r)
subprocess.run(["rm", "-rf", cache])
print("all ok")
