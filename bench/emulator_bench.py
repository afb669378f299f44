#!/usr/bin/python3
"""Benchmarks of the local emulator (results: bench/results/emulator.md).

  1. Warm invoke latency of a trivial Python and a trivial Node handler through the Lambda
     HTTP API: lambdeck emulate vs serverless-offline (same client, same run). The client is
     pre-signed (SigV4 computed once with botocore; the emulator verifies every request)
     and opens one connection per request, like the issue's reference measurements. A
     constant-response HTTP server (node) gives the client's floor.
  2. Cold start of a Python worker: first invoke of a new function; the REPORT line's
     Init Duration and the client-side latency of that invoke.
  3. UpdateFunctionCode of a 30 MB zip until the next invoke runs the new code.

usage: LAMBDECK=build-rel/lambdeck bench/emulator_bench.py [--sls DIR] [-n 1000]
  --sls DIR: a directory with node_modules/serverless and serverless-offline installed
  (npm i serverless@3 serverless-offline@13); omitted -> only lambdeck is measured.
"""
import argparse
import base64
import http.client
import io
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
from emu import Emulator, zip_bytes  # noqa: E402

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

PY = "def handler(event, context):\n    return {'ok': True}\n"
JS = "exports.handler = async (event) => ({ ok: true });\n"


def presign(url, body, creds, region, method="POST"):
    req = AWSRequest(method=method, url=url, data=body, headers={})
    SigV4Auth(Credentials(*creds), "lambda", region).add_auth(req)
    return dict(req.headers.items())


def measure(host, port, path, body, headers, n, warm=50):
    """n requests, one connection each; returns latencies in ms (after warm-up)."""
    out = []
    for i in range(warm + n):
        t0 = time.perf_counter()
        c = http.client.HTTPConnection(host, port)
        c.request("POST", path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        dt = (time.perf_counter() - t0) * 1000
        if r.status != 200 or b"ok" not in data:
            raise RuntimeError("bad response %d %r from %s:%d%s" % (r.status, data[:200], host, port, path))
        if i >= warm:
            out.append(dt)
    return out


def pct(xs, p):
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def stats(xs):
    return {"p50": statistics.median(xs), "p99": pct(xs, 99), "mean": statistics.mean(xs)}


def wait_port(host, port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            c = http.client.HTTPConnection(host, port, timeout=1)
            c.request("GET", "/")
            c.getresponse().read()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def start_floor(tmp):
    """A constant-response HTTP server in node: the client's floor."""
    js = os.path.join(tmp, "floor.js")
    with open(js, "w") as f:
        f.write("require('http').createServer((q, s) => { q.resume(); q.on('end', () => "
                "{ s.writeHead(200, {'Content-Type': 'application/json'}); s.end('{\"ok\":true}'); }); })"
                ".listen(0, '127.0.0.1', function () { console.log(this.address().port); });\n")
    p = subprocess.Popen(["node", js], stdout=subprocess.PIPE)
    port = int(p.stdout.readline())
    return p, port


def start_sls(sls_dir, tmp):
    svc = os.path.join(tmp, "sls")
    os.makedirs(svc)
    with open(os.path.join(svc, "handler.py"), "w") as f:
        f.write(PY)
    with open(os.path.join(svc, "handler.js"), "w") as f:
        f.write(JS)
    with open(os.path.join(svc, "serverless.yml"), "w") as f:
        f.write("service: bench\nframeworkVersion: '3'\nprovider:\n  name: aws\n  region: us-east-1\n"
                "plugins:\n  - serverless-offline\nfunctions:\n"
                "  py:\n    handler: handler.handler\n    runtime: python3.11\n"
                "  js:\n    handler: handler.handler\n    runtime: nodejs20.x\n")
    os.symlink(os.path.join(sls_dir, "node_modules"), os.path.join(svc, "node_modules"))
    log = open(os.path.join(tmp, "sls.log"), "wb")
    env = dict(os.environ, SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off",
               AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    p = subprocess.Popen([os.path.join(svc, "node_modules", ".bin", "serverless"), "offline", "start",
                          "--lambdaPort", "3002", "--httpPort", "3003", "--websocketPort", "3004",
                          "--albPort", "3005"],
                         cwd=svc, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    if not wait_port("127.0.0.1", 3002, 120):
        os.killpg(p.pid, signal.SIGTERM)
        raise RuntimeError("serverless offline did not start; see %s" % log.name)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sls")
    ap.add_argument("-n", type=int, default=1000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lkbench.")
    results = {}
    floor_p, floor_port = start_floor(tmp)
    sls = start_sls(args.sls, tmp) if args.sls else None
    try:
        with Emulator(args=["--quiet"]) as emu:
            lam = emu.client("lambda")
            lam.create_function(FunctionName="bpy", Runtime="python3.11", Role="r", Handler="app.handler",
                                Code={"ZipFile": zip_bytes({"app.py": PY})})
            lam.create_function(FunctionName="bjs", Runtime="nodejs20.x", Role="r", Handler="index.handler",
                                Code={"ZipFile": zip_bytes({"index.js": JS})})
            host, port = emu.endpoint.split("//")[1].split(":")
            port = int(port)
            creds = emu.credentials()
            body = b"{}"
            rounds = []
            for name, fn in (("python", "bpy"), ("node", "bjs")):
                path = "/2015-03-31/functions/%s/invocations" % fn
                hdrs = presign(emu.endpoint + path, body, creds, emu.region)
                rounds.append(("lambdeck " + name, host, port, path, hdrs))
                if sls:
                    spath = "/2015-03-31/functions/bench-dev-%s/invocations" % ("py" if name == "python" else "js")
                    rounds.append(("serverless-offline " + name, "127.0.0.1", 3002, spath, {}))
            rounds.append(("floor (constant node server)", "127.0.0.1", floor_port, "/", {}))
            # interleave: each contender measured in 4 slices so load changes hit all alike
            lat = {r[0]: [] for r in rounds}
            for s in range(4):
                for (label, h, p, path, hdrs) in rounds:
                    lat[label] += measure(h, p, path, body, hdrs, args.n // 4, warm=50 if s == 0 else 5)
            results["warm"] = {k: stats(v) for k, v in lat.items()}

            # cold start of a python worker: a new function each time (an update of a warm
            # function pre-starts a worker, so it would not measure a cold start)
            cold = []
            init = []
            for i in range(10):
                lam.create_function(FunctionName="cold%d" % i, Runtime="python3.11", Role="r",
                                    Handler="app.handler", Code={"ZipFile": zip_bytes({"app.py": PY})})
                t0 = time.perf_counter()
                r = lam.invoke(FunctionName="cold%d" % i, Payload=b"{}", LogType="Tail")
                cold.append((time.perf_counter() - t0) * 1000)
                log = base64.b64decode(r["LogResult"]).decode()
                m = re.search(r"Init Duration: ([0-9.]+) ms", log)
                init.append(float(m.group(1)))
                lam.delete_function(FunctionName="cold%d" % i)
            results["cold_python"] = {"init_ms": stats(init), "invoke_ms": stats(cold)}

            # UpdateFunctionCode of a 30 MB zip until the next invoke runs the new code. The
            # request is built and signed before the clock starts (botocore spends seconds
            # base64-encoding, serialising and hashing 40 MB of JSON; that is client time).
            rnd = os.urandom(30 * 1024 * 1024)
            upd = []
            ipath = "/2015-03-31/functions/bpy/invocations"
            cpath = "/2015-03-31/functions/bpy/code"
            for v in range(3):
                src = "def handler(event, context):\n    return {'ok': True, 'v': %d}\n" % v
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
                    z.writestr("app.py", src)
                    z.writestr("blob.bin", rnd)
                data = buf.getvalue()
                ubody = json.dumps({"ZipFile": base64.b64encode(data).decode()}).encode()
                uh = presign(emu.endpoint + cpath, ubody, creds, emu.region, "PUT")
                ih = presign(emu.endpoint + ipath, b"{}", creds, emu.region)
                t0 = time.perf_counter()
                c = http.client.HTTPConnection(host, port)
                c.request("PUT", cpath, body=ubody, headers=uh)
                r = c.getresponse()
                r.read()
                c.close()
                assert r.status == 200, r.status
                t1 = time.perf_counter()
                c = http.client.HTTPConnection(host, port)
                c.request("POST", ipath, body=b"{}", headers=ih)
                out = json.loads(c.getresponse().read())
                c.close()
                t2 = time.perf_counter()
                assert out.get("v") == v, out
                t3 = time.perf_counter()
                lam.update_function_code(FunctionName="bpy", ZipFile=data)
                t4 = time.perf_counter()
                upd.append({"update_ms": (t1 - t0) * 1000, "total_ms": (t2 - t0) * 1000,
                            "botocore_update_ms": (t4 - t3) * 1000})
            results["update_30mb"] = {"zip_bytes": len(data),
                                      "update_ms": statistics.median(u["update_ms"] for u in upd),
                                      "until_new_code_ms": statistics.median(u["total_ms"] for u in upd),
                                      "botocore_update_call_ms": statistics.median(u["botocore_update_ms"] for u in upd)}
    finally:
        floor_p.terminate()
        if sls:
            os.killpg(sls.pid, signal.SIGTERM)
            sls.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
