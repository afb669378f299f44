#!/usr/bin/python3
"""Benchmark: N sequential Lambda GetFunction calls through lambdeck's client (one process,
one client, one reused keep-alive connection) vs N `aws lambda get-function` invocations of the
AWS CLI, both against the same loopback server answering a realistic GetFunction response.

usage: bench/aws_getfunction.py [--build DIR] [--n 200] [--cli-n 200] [--rounds 5]
DIR must hold tests-tools/lk-awstool (default: build-rel, configure it with
cmake -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel --target lk-awstool)."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))

REPLY = {
    "Configuration": {
        "FunctionName": "bench-fn",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:bench-fn",
        "Runtime": "python3.12", "Role": "arn:aws:iam::123456789012:role/bench",
        "Handler": "app.handler", "CodeSize": 1234, "Description": "", "Timeout": 3,
        "MemorySize": 128, "LastModified": "2026-11-24T10:00:00.000+0000",
        "CodeSha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "Version": "$LATEST",
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": "a1b2c3d4-0000-1111-2222-333344445555", "State": "Active",
        "LastUpdateStatus": "Successful", "PackageType": "Zip", "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512}, "SnapStart": {"ApplyOn": "None",
                                                        "OptimizationStatus": "Off"}},
    "Code": {"RepositoryType": "S3",
             "Location": "https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/snapshots/"
                         "123456789012/bench-fn-0123456789abcdef?X-Amz-Security-Token=" + "x" * 600},
    "Tags": {"aws:cloudformation:stack-name": "bench"},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build-rel"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--cli-n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    os.environ["LAMBDECK_BUILD"] = a.build
    import awsfake
    tool = os.path.join(a.build, "tests-tools", "lk-awstool")
    srv = awsfake.Server(verify=False, default_reply=dict(status=200, body=REPLY))
    tmp = tempfile.mkdtemp(prefix="lk-bench-")
    env = awsfake.base_env(tmp, {"AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "",
                                 "LK_ENDPOINT": srv.url, "LK_REPEAT": str(a.n)})

    ours, conns = [], []
    for _ in range(a.rounds):
        srv.requests, srv.clients = [], set()
        t0 = time.perf_counter()
        p = subprocess.run([tool, "call", "get-function", "bench-fn"], env=env,
                           capture_output=True)
        ours.append(time.perf_counter() - t0)
        if p.returncode != 0 or len(srv.requests) != a.n:
            sys.exit(f"lk-awstool failed: {p.returncode} {p.stderr.decode()[-500:]}")
        conns.append(len(srv.clients))

    srv.requests, srv.clients = [], set()
    cli = []
    for _ in range(a.cli_n):
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", srv.url, "lambda", "get-function",
                            "--function-name", "bench-fn"], env=env, capture_output=True)
        cli.append(time.perf_counter() - t0)
        if p.returncode != 0:
            sys.exit(f"aws failed: {p.stderr.decode()[-500:]}")
    cli_conns = len(srv.clients)
    srv.close()

    ours_med = statistics.median(ours)
    cli_med = statistics.median(cli)
    cli_total = sum(cli) * a.n / a.cli_n
    print(f"| | calls | connections | wall time (median of runs) | per call |")
    print(f"|---|---|---|---|---|")
    print(f"| lambdeck client, one process | {a.n} | {max(conns)} | {ours_med:.3f} s "
          f"(rounds: {', '.join(f'{x:.3f}' for x in ours)}) | {ours_med / a.n * 1000:.2f} ms |")
    print(f"| `aws lambda get-function` x {a.cli_n} | {a.cli_n} | {cli_conns} | "
          f"{sum(cli):.1f} s total | {cli_med * 1000:.0f} ms (median per invocation) |")
    print(f"\nratio (AWS CLI time for {a.n} calls / lambdeck time for {a.n} calls): "
          f"{cli_total / ours_med:.0f}x")
    print(f"load average during the run: {os.getloadavg()}")


if __name__ == "__main__":
    main()
