"""Our SigV4 signer (via lk-awstool sign) against botocore's SigV4Auth / S3SigV4Auth over a
table of requests: ARN in path, unsorted and special-character queries, unicode, empty and
binary bodies, session token, S3 paths, dot segments, ports. Fails on any difference."""
import base64
import calendar
import json
import os
import subprocess
import sys
import time

from botocore.auth import S3SigV4Auth, SigV4Auth, _host_from_url
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence

TOOL = os.path.join(os.environ["LAMBDECK_BUILD"], "tests-tools", "lk-awstool")
AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"

CASES = [
    # name, service, method, url, params, headers, body, token, s3
    ("arn-in-path", "lambda", "GET",
     "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn",
     None, {}, b"", None, False),
    ("list-functions-unsorted", "lambda", "GET",
     "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/",
     [("MasterRegion", "us-east-1"), ("FunctionVersion", "ALL"), ("Marker", "a/b+c=d e&f"),
      ("MaxItems", "50")], {}, b"", None, False),
    ("special-query", "lambda", "GET", "http://127.0.0.1:4566/x",
     [("z", "~!*'()"), ("a", ""), ("a", "2"), ("A", "1"), ("k y", "v;w,x:y@z$")],
     {}, b"", None, False),
    ("logs-json", "logs", "POST", "https://logs.eu-west-1.amazonaws.com/", None,
     {"Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "Logs_20140328.FilterLogEvents"},
     json.dumps({"logGroupName": "/aws/lambda/f", "filterPattern": "ERROR"}).encode(), None,
     False),
    ("invoke-binary-token", "lambda", "POST",
     "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/" + ARN.replace(":", "%3A")
     + "/invocations",
     [("Qualifier", "$LATEST")],
     {"X-Amz-Invocation-Type": "RequestResponse", "X-Amz-Log-Type": "Tail",
      "X-Amz-Client-Context": base64.b64encode(b'{"custom":{"a":1}}').decode()},
     bytes(range(256)) * 3, "IQoJb3JpZ2luX2VjEPr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==", False),
    ("empty-post", "lambda", "POST", "http://127.0.0.1:4566/2015-03-31/functions/f/invocations",
     None, {}, b"", None, False),
    ("unicode", "lambda", "GET",
     "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/caf%C3%A9-%E6%97%A5%E6%9C%AC",
     [("q", "é日本"), ("ü", "x y")], {}, b"", None, False),
    ("header-spaces", "logs", "POST", "https://logs.us-east-1.amazonaws.com/", None,
     {"Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "  Logs_20140328.GetLogEvents  ",
      "X-Custom": "a   b \t c", "User-Agent": "ignored/1.0"},
     b"{}", "tok", False),
    ("dot-segments", "lambda", "GET", "http://localhost:9000/a/./b//c/../d/", None, {}, b"",
     None, False),
    ("s3-put", "s3", "PUT",
     "https://my-bucket.s3.us-east-1.amazonaws.com/artifacts/build%20%231/caf%C3%A9.zip",
     None, {"Content-Type": "application/zip"}, os.urandom(1000), None, True),
    ("s3-empty-token", "s3", "PUT", "http://127.0.0.1:4566/bucket/a//b/../c", None, {}, b"",
     "sessiontoken", True),
    ("tagging", "tagging", "POST", "https://tagging.us-west-2.amazonaws.com/", None,
     {"Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "ResourceGroupsTaggingAPI_20170126.GetResources"},
     json.dumps({"TagFilters": [{"Key": "aws:cloudformation:stack-name",
                                 "Values": ["stack"]}]}).encode(), None, False),
]


def region_of(url):
    for r in ("eu-west-1", "us-west-2"):
        if r in url:
            return r
    return "us-east-1"


def main():
    ours_in, theirs, signed_headers = [], [], []
    for name, service, method, url, params, headers, body, token, s3 in CASES:
        region = region_of(url)
        creds = Credentials(AK, SK, token)
        # As botocore's prepare_request_dict: the query is percent-encoded into the URL (in
        # the caller's order) and signed from there.
        if params:
            url = url + "?" + percent_encode_sequence(params)
        req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
        prepared_url = req.prepare().url
        parts = prepared_url.split("?", 1)
        path = parts[0].split("/", 3)
        path = "/" + (path[3] if len(path) > 3 else "")
        query = parts[1] if len(parts) > 1 else ""
        sent_headers = [[k, v] for k, v in headers.items()]
        sent_headers.append(["Host", _host_from_url(url)])
        signer = (S3SigV4Auth if s3 else SigV4Auth)(creds, service, region)
        signer.add_auth(req)
        amz_date = req.headers["X-Amz-Date"]
        when = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        signed_headers.append([[k, v] for k, v in req.headers.items()]
                              + [["Host", _host_from_url(url)]])
        theirs.append((name, req.headers["Authorization"], req.headers.get("X-Amz-Content-SHA256")))
        ours_in.append({
            "method": method, "path": path, "query": query, "headers": sent_headers,
            "body_b64": base64.b64encode(body).decode(), "access_key": AK, "secret_key": SK,
            "token": token, "region": region, "service": service, "when": when, "s3": s3,
        })
    out = subprocess.run([TOOL, "sign"], input=json.dumps(ours_in).encode(),
                         capture_output=True, check=True)
    ours = json.loads(out.stdout)
    assert len(ours) == len(theirs), (len(ours), len(theirs))
    bad = 0
    for (name, auth, sha), mine, inp in zip(theirs, ours, ours_in):
        if mine.get("authorization") != auth:
            bad += 1
            print(f"MISMATCH {name}\n  botocore: {auth}\n  ours:     {mine}\n  input: "
                  f"{inp['path']}?{inp['query']}", file=sys.stderr)
        elif sha is not None and mine["payload_hash"] != sha:
            bad += 1
            print(f"MISMATCH payload hash {name}: {sha} vs {mine['payload_hash']}",
                  file=sys.stderr)
        else:
            print(f"ok {name}")
        assert SK not in json.dumps(mine)
    # The verifier (the emulator's) accepts every botocore-signed request, and rejects it
    # once the body or the clock is off.
    checks = []
    for (name, auth, sha), inp, hdrs in zip(theirs, ours_in, signed_headers):
        good = dict(inp, headers=hdrs)
        checks.append((name, True, good))
        if inp["body_b64"]:
            tampered = base64.b64encode(base64.b64decode(inp["body_b64"]) + b"x").decode()
            checks.append((name + "+body", False, dict(good, body_b64=tampered)))
        checks.append((name + "+16min", False, dict(good, when=inp["when"] + 16 * 60)))
    out = subprocess.run([TOOL, "verify"], input=json.dumps([c for _, _, c in checks]).encode(),
                         capture_output=True, check=True)
    for (name, want, _), res in zip(checks, json.loads(out.stdout)):
        if res["ok"] != want:
            bad += 1
            print(f"VERIFY {name}: expected ok={want}, got {res}", file=sys.stderr)
    print(f"{len(checks)} verifier checks run")
    if bad:
        sys.exit(f"{bad} of {len(CASES)} signatures differ from botocore")
    print(f"all {len(CASES)} signatures match botocore")


if __name__ == "__main__":
    main()
