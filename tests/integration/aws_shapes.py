"""Request shapes: for each operation the client implements, what /usr/bin/aws sends and what
our client sends to the same scripted loopback server must agree on method, raw path, query
parameters, X-Amz-Target, Content-Type (all but S3, where ours names the type) and body (JSON-equal or bytes).
Both sides' signatures are checked with botocore by the server."""
import json
import os
import subprocess
import sys
import tempfile
from urllib.parse import parse_qsl

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests", "lib"))
import awsfake  # noqa: E402

AWS = "/usr/bin/aws"
# Runs several AWS CLI command lines in one interpreter: exactly the code /usr/bin/aws runs
# (its driver), paying the CLI's multi-second start-up once instead of per command.
CLI_BATCH = """
import json, sys
sys.argv = ["aws"]
exec(compile(open("/usr/bin/aws").read().split("import awscli.clidriver")[0], "aws", "exec"))
import awscli.clidriver
rcs = []
for argv in json.load(sys.stdin):
    rcs.append(awscli.clidriver.create_clidriver().main(argv))
print(json.dumps(rcs))
"""
ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"


def main():
    srv = awsfake.Server()
    tmp = tempfile.mkdtemp(prefix="lk-aws-shapes-")
    zpath = os.path.join(tmp, "fn.zip")
    with open(zpath, "wb") as f:
        f.write(b"PK\x05\x06" + b"\x00" * 18)
    body_path = os.path.join(tmp, "artifact.bin")
    with open(body_path, "wb") as f:
        f.write(os.urandom(3000))
    env = awsfake.base_env(tmp, {"AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "",
                                 "LK_ENDPOINT": srv.url})
    create = {"FunctionName": "f", "Runtime": "python3.12", "Role": "arn:aws:iam::1:role/r",
              "Handler": "app.handler"}
    # (name, aws cli args, our tool args, extra env for our tool, reply)
    cases = [
        ("ListFunctions", ["lambda", "list-functions"], ["list-functions"], {}, {"Functions": []}),
        ("GetFunction ARN+qualifier", ["lambda", "get-function", "--function-name", ARN, "--qualifier", "7"],
         ["get-function", ARN, "7"], {}, {}),
        ("GetFunctionConfiguration", ["lambda", "get-function-configuration", "--function-name", "f",
                                      "--qualifier", "live"],
         ["get-function-configuration", "f", "live"], {}, {}),
        ("DeleteFunction", ["lambda", "delete-function", "--function-name", "f"],
         ["delete-function", "f"], {}, {}),
        ("Invoke", ["lambda", "invoke", "--function-name", ARN, "--qualifier", "live", "--log-type",
                    "Tail", "--cli-binary-format", "raw-in-base64-out", "--payload", '{"a": 1}',
                    os.path.join(tmp, "out.json")],
         ["invoke", ARN, '{"a": 1}'], {"LK_QUALIFIER": "live", "LK_LOG_TAIL": "1"}, {}),
        ("Invoke Event", ["lambda", "invoke", "--function-name", "f", "--invocation-type", "Event",
                          os.path.join(tmp, "out.json")],
         ["invoke", "f"], {"LK_INVOKE_TYPE": "Event"}, {}),
        ("UpdateFunctionCode zip", ["lambda", "update-function-code", "--function-name", "f",
                                    "--zip-file", "fileb://" + zpath],
         ["update-code", "f", zpath], {}, {}),
        ("UpdateFunctionCode S3", ["lambda", "update-function-code", "--function-name", "f",
                                   "--s3-bucket", "bkt", "--s3-key", "k/a.zip"],
         ["update-code-s3", "f", "bkt", "k/a.zip"], {}, {}),
        ("UpdateFunctionConfiguration", ["lambda", "update-function-configuration", "--function-name",
                                         "f", "--timeout", "10", "--memory-size", "256"],
         ["update-config", "f", '{"Timeout": 10, "MemorySize": 256}'], {}, {}),
        ("CreateFunction", ["lambda", "create-function", "--function-name", "f", "--runtime",
                            "python3.12", "--role", "arn:aws:iam::1:role/r", "--handler", "app.handler",
                            "--zip-file", "fileb://" + zpath],
         ["create-function", json.dumps(create), zpath], {}, {}),
        ("DescribeLogGroups", ["logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/"],
         ["describe-log-groups", "/aws/lambda/"], {}, {"logGroups": []}),
        ("DescribeLogStreams", ["logs", "describe-log-streams", "--log-group-name", "/aws/lambda/f",
                                "--order-by", "LastEventTime", "--descending"],
         ["describe-log-streams", "/aws/lambda/f"], {}, {"logStreams": []}),
        ("GetLogEvents", ["logs", "get-log-events", "--log-group-name", "/aws/lambda/f",
                          "--log-stream-name", "2026/11/24/[$LATEST]abc", "--start-from-head"],
         ["get-log-events", "/aws/lambda/f", "2026/11/24/[$LATEST]abc"], {}, {"events": []}),
        ("FilterLogEvents", ["logs", "filter-log-events", "--log-group-name", "/aws/lambda/f",
                             "--filter-pattern", "ERROR"],
         ["filter-log-events", "/aws/lambda/f", "ERROR"], {}, {"events": []}),
        ("GetResources", ["resourcegroupstaggingapi", "get-resources", "--tag-filters",
                          "Key=aws:cloudformation:stack-name,Values=stack",
                          "--resource-type-filters", "lambda:function"],
         ["tagging", "stack"], {}, {"ResourceTagMappingList": []}),
        ("PutObject", ["s3api", "put-object", "--bucket", "my-bucket", "--key", "builds/a b.zip",
                       "--body", body_path],
         ["s3-put", "my-bucket", "builds/a b.zip", body_path], {}, None),
    ]
    bad = []

    def reply_for(reply):
        if reply is not None:
            return dict(status=200, body=reply)
        return dict(status=200, headers={"ETag": '"x"', "Content-Type": "application/xml"}, body="")

    srv.expect(*[reply_for(c[4]) for c in cases])
    p = subprocess.run(["/usr/bin/python3", "-c", CLI_BATCH],
                       input=json.dumps([["--endpoint-url", srv.url] + c[1] for c in cases]).encode(),
                       env=env, capture_output=True, timeout=120)
    cli_requests = srv.requests[:]
    try:
        cli_rcs = json.loads(p.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        cli_rcs = []
    if p.returncode != 0 or cli_rcs != [0] * len(cases) or len(cli_requests) != len(cases):
        print(f"FAIL the AWS CLI run: rc={p.returncode} rcs={cli_rcs} "
              f"requests={len(cli_requests)} {p.stderr.decode()[-2000:]}")
        sys.exit(1)
    for i, (name, cli_args, our_args, our_env, reply) in enumerate(cases):
        theirs = [cli_requests[i]]
        srv.expect(reply_for(reply))
        res, rc, out, err = awsfake.call(dict(env, **our_env), *our_args)
        ours = srv.requests[:]
        if rc != 0 or len(ours) != 1:
            bad.append(name)
            print(f"FAIL {name}: ours rc={rc} {out[:300]} {err[:300]} requests {len(ours)}")
            continue
        t, o = theirs[0], ours[0]
        diffs = []
        if t["method"] != o["method"]:
            diffs.append(f"method {t['method']} vs {o['method']}")
        if t["path"] != o["path"]:
            diffs.append(f"path {t['raw_path']} vs {o['raw_path']}")
        if sorted(parse_qsl(t["query"], keep_blank_values=True)) != \
                sorted(parse_qsl(o["query"], keep_blank_values=True)):
            diffs.append(f"query {t['query']} vs {o['query']}")
        for h in ("X-Amz-Target", "X-Amz-Invocation-Type", "X-Amz-Log-Type"):
            if t["headers"].get(h) != o["headers"].get(h):
                diffs.append(f"{h} {t['headers'].get(h)} vs {o['headers'].get(h)}")
        if name != "PutObject" and \
                t["headers"].get("Content-Type") != o["headers"].get("Content-Type"):
            diffs.append(f"content-type {t['headers'].get('Content-Type')} vs "
                         f"{o['headers'].get('Content-Type')}")
        tb, ob = t["body"], o["body"]
        try:
            same = json.loads(tb or b"{}") == json.loads(ob or b"{}")
        except ValueError:
            same = tb == ob
        if not same:
            diffs.append(f"body {tb[:200]!r} vs {ob[:200]!r}")
        if diffs:
            bad.append(name)
            print(f"FAIL {name}: " + "; ".join(diffs))
        else:
            print(f"ok   {name}: {o['method']} {o['raw_path']}")
    if srv.errors:
        bad.append("signatures")
        print("FAIL signatures:\n" + "\n".join(srv.errors))
    srv.close()
    if bad:
        sys.exit(f"{len(bad)} shapes differ from the AWS CLI: {bad}")


if __name__ == "__main__":
    main()
