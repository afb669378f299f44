"""The AWS client over HTTP against a scripted loopback server: retries (throttling, 429, 500,
truncated bodies, network errors, timeouts), no retry for other 4xx, error parsing, Invoke
headers, paging, the wait-until-updated helper, StartLiveTail event streams (valid, corrupt,
truncated, exception) and S3/tagging request shapes. Every request's signature is checked
with botocore by the server."""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests", "lib"))
import awsfake  # noqa: E402
from awsfake import call, event, frame  # noqa: E402

FAILS = []


def check(cond, what, detail=""):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what} {detail}")
        FAILS.append(what)


def main():
    srv = awsfake.Server()
    tmp = tempfile.mkdtemp(prefix="lk-aws-http-")
    env = awsfake.base_env(tmp, {"LK_ENDPOINT": srv.url})

    # Throttling (Logs: 400 + __type) then success.
    srv.expect(dict(status=400, body={"__type": "ThrottlingException", "message": "Rate exceeded"}),
               dict(status=200, body={"logGroups": [{"logGroupName": "/aws/lambda/a"}]}))
    r, rc, out, err = call(env, "describe-log-groups", "/aws/lambda/")
    check(rc == 0 and r["ok"] and r["attempts"] == 2 and len(srv.requests) == 2,
          "throttling then success is retried", out + err)
    req = srv.requests[0]
    check(req["method"] == "POST" and req["path"] == "/" and
          req["headers"].get("X-Amz-Target") == "Logs_20140328.DescribeLogGroups" and
          req["headers"].get("Content-Type") == "application/x-amz-json-1.1" and
          json.loads(req["body"]) == {"logGroupNamePrefix": "/aws/lambda/"},
          "DescribeLogGroups request shape", str(req))

    # 429 TooManyRequests (Lambda) then success.
    srv.expect(dict(status=429, headers={"x-amzn-ErrorType": "TooManyRequestsException"},
                    body={"message": "Rate exceeded"}),
               dict(status=200, body={"Configuration": {"FunctionName": "f"}}))
    r, rc, out, err = call(env, "get-function", "f")
    check(rc == 0 and r["attempts"] == 2, "429 then success is retried", out + err)

    # 500 then success.
    srv.expect(dict(status=500, body={"message": "internal"}),
               dict(status=200, body={"Configuration": {"FunctionName": "f"}}))
    r, rc, out, err = call(env, "get-function", "f")
    check(rc == 0 and r["attempts"] == 2 and r["json"]["Configuration"]["FunctionName"] == "f",
          "500 then success is retried", out + err)

    # Three 503s: gives up after the default 3 attempts, error parsed.
    srv.expect(*[dict(status=503, headers={"x-amzn-RequestId": "rid-503"},
                      body={"message": "unavailable"})] * 3)
    r, rc, out, err = call(env, "get-function", "f")
    check(rc == 1 and r["attempts"] == 3 and len(srv.requests) == 3 and r["code"] == "ServiceError"
          and r["request_id"] == "rid-503", "5xx gives up after 3 attempts", out + err)

    # 400 without retry; x-amzn-ErrorType with a ':' suffix, request id.
    srv.expect(dict(status=404, headers={
        "x-amzn-ErrorType": "ResourceNotFoundException:http://internal.amazon.com/coral/",
        "x-amzn-RequestId": "req-123"},
        body={"Type": "User", "Message": "Function not found: arn:aws:lambda:us-east-1:1:function:nope"}),
        dict(status=200, body={}))
    r, rc, out, err = call(env, "get-function", "nope")
    check(rc == 1 and r["attempts"] == 1 and len(srv.requests) == 1 and
          r["code"] == "ResourceNotFoundException" and r["request_id"] == "req-123" and
          "Function not found" in r["message"], "4xx is not retried; error parsed", out + err)

    srv.expect(dict(status=409, body={"__type": "com.amazon#ResourceConflictException",
                                      "message": "The operation cannot be performed at this time."}))
    r, rc, out, err = call(env, "get-function", "busy")
    check(r["code"] == "ResourceConflictException" and r["attempts"] == 1,
          "__type with namespace prefix parsed, 409 not retried", out)

    # Timeout: the server does not answer in time; 2 attempts configured.
    srv.expect(dict(action="sleep", seconds=1.5), dict(action="sleep", seconds=1.5))
    t0 = time.time()
    r, rc, out, err = call(dict(env, LK_TIMEOUT_MS="300", LK_MAX_ATTEMPTS="2"), "get-function", "slow")
    check(rc == 1 and r["code"] == "Timeout" and r["attempts"] == 2 and time.time() - t0 < 20,
          "timeouts are retried then reported", out + err)

    # Truncated body (Content-Length promises more), then success.
    srv.expect(dict(action="truncate", body='{"Configuration":', length=200),
               dict(status=200, body={"Configuration": {"FunctionName": "t"}}))
    r, rc, out, err = call(env, "get-function", "t")
    check(rc == 0 and r["attempts"] == 2, "truncated body is retried", out + err)
    srv.expect(*[dict(action="truncate", body='{"Conf', length=100)] * 3)
    r, rc, out, err = call(env, "get-function", "t")
    check(rc == 1 and r["code"] == "NetworkError" and r["attempts"] == 3,
          "truncated bodies reported as NetworkError", out + err)

    # Connection refused.
    port = awsfake.free_port()
    r, rc, out, err = call(dict(env, LK_ENDPOINT=f"http://127.0.0.1:{port}"), "get-function", "f")
    check(rc == 1 and r["code"] == "ConnectionRefused" and r["attempts"] == 3 and
          "after 3 attempts" in r["message"], "connection refused retried then reported", out + err)

    # Invoke: headers out, function error and log tail in; 500 is not retried for Invoke.
    log = "START RequestId: 1\nboom\nEND RequestId: 1\n"
    srv.expect(dict(status=200, headers={"X-Amz-Function-Error": "Unhandled",
                                         "X-Amz-Log-Result": base64.b64encode(log.encode()).decode(),
                                         "X-Amz-Executed-Version": "$LATEST"},
                    body={"errorMessage": "boom", "errorType": "Exception", "stackTrace": []}))
    r, rc, out, err = call(dict(env, LK_LOG_TAIL="1", LK_QUALIFIER="live",
                                LK_CLIENT_CONTEXT='{"custom":{"k":"v"}}'),
                           "invoke", "arn:aws:lambda:us-east-1:123456789012:function:my-fn", '{"a": 1}')
    req = srv.requests[0]
    check(rc == 0 and r["function_error"] == "Unhandled" and r["log_tail"] == log and
          r["json"]["errorMessage"] == "boom" and r["executed_version"] == "$LATEST",
          "invoke result: function error, decoded log tail", out + err)
    check(req["raw_path"] == "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012"
          "%3Afunction%3Amy-fn/invocations?Qualifier=live" and
          "X-Amz-Invocation-Type" not in req["headers"] and
          req["headers"].get("X-Amz-Log-Type") == "Tail" and
          base64.b64decode(req["headers"]["X-Amz-Client-Context"]) == b'{"custom":{"k":"v"}}' and
          "Content-Type" not in req["headers"] and req["body"] == b'{"a": 1}',
          "invoke request shape (ARN path, qualifier, headers, no content type)", str(req))
    srv.expect(dict(status=500, body={"message": "x"}), dict(status=200, body={}))
    r, rc, out, err = call(env, "invoke", "f", "{}")
    check(rc == 1 and r["attempts"] == 1, "invoke is not retried on 5xx (could run twice)", out)
    srv.expect(dict(status=202, body=""))
    r, rc, out, err = call(dict(env, LK_INVOKE_TYPE="Event"), "invoke", "f", "{}")
    check(rc == 0 and r["status"] == 202 and
          srv.requests[0]["headers"]["X-Amz-Invocation-Type"] == "Event", "Event invoke -> 202", out)

    # Paging: ListFunctions follows NextMarker.
    srv.expect(dict(status=200, body={"Functions": [{"FunctionName": "a"}], "NextMarker": "m/1=="}),
               dict(status=200, body={"Functions": [{"FunctionName": "b"}], "NextMarker": "m2"}),
               dict(status=200, body={"Functions": [{"FunctionName": "c"}]}))
    r, rc, out, err = call(dict(env, LK_ALL_PAGES="1"), "list-functions")
    names = [f["FunctionName"] for f in r["json"]["Functions"]] if r and r.get("json") else []
    check(rc == 0 and names == ["a", "b", "c"] and srv.requests[0]["query"] == "" and
          srv.requests[1]["query"] == "Marker=m%2F1%3D%3D" and srv.requests[2]["query"] == "Marker=m2",
          "ListFunctions pages merged", out + str([q["query"] for q in srv.requests]))
    srv.expect(dict(status=200, body={"events": [{"eventId": "1"}], "nextToken": "t1",
                                      "searchedLogStreams": [{"logStreamName": "s"}]}),
               dict(status=200, body={"events": [{"eventId": "2"}], "nextToken": "t1"}))
    r, rc, out, err = call(dict(env, LK_ALL_PAGES="1"), "filter-log-events", "/aws/lambda/f", "ERROR")
    check(rc == 0 and [e["eventId"] for e in r["json"]["events"]] == ["1", "2"] and
          json.loads(srv.requests[1]["body"]).get("nextToken") == "t1" and len(srv.requests) == 2,
          "FilterLogEvents pages merged; a repeated token stops", out)

    # Wait until updated.
    srv.expect(dict(status=200, body={"State": "Active", "LastUpdateStatus": "InProgress"}),
               dict(status=200, body={"State": "Active", "LastUpdateStatus": "Successful",
                                      "CodeSha256": "abc"}))
    r, rc, out, err = call(env, "wait-updated", "f")
    check(rc == 0 and r["json"]["CodeSha256"] == "abc" and len(srv.requests) == 2 and
          srv.requests[0]["path"] == "/2015-03-31/functions/f/configuration",
          "wait-updated polls until Successful", out + err)
    srv.expect(dict(status=200, body={"State": "Active", "LastUpdateStatus": "Failed",
                                      "LastUpdateStatusReason": "Unzipped size must be smaller"}))
    r, rc, out, err = call(env, "wait-updated", "f")
    check(rc == 1 and r["code"] == "UpdateFailed" and "Unzipped size" in r["message"],
          "wait-updated reports LastUpdateStatusReason", out)
    srv.expect(*[dict(status=200, body={"State": "Pending"})] * 5)
    r, rc, out, err = call(env, "wait-updated", "f", "800")
    check(rc == 1 and r["code"] == "WaitTimeout", "wait-updated times out", out)

    # StartLiveTail: frames decoded as they arrive.
    start = event("sessionStart", {"requestId": "r", "sessionId": "s",
                                   "logGroupIdentifiers": ["/aws/lambda/f"]})
    upd = event("sessionUpdate", {"sessionMetadata": {"sampled": False}, "sessionResults": [
        {"logGroupIdentifier": "/aws/lambda/f", "logStreamName": "s1", "timestamp": 1,
         "message": "hello\n", "ingestionTime": 2}]})
    srv.expect(dict(action="stream", frames=[start, upd[:7], upd[7:], upd]))
    r, rc, out, err = call(env, "live-tail", "/aws/lambda/f", "hello")
    ev = r.get("events") or []
    body = json.loads(srv.requests[0]["body"])
    check(rc == 0 and [e["event_type"] for e in ev] == ["sessionStart", "sessionUpdate", "sessionUpdate"]
          and ev[1]["payload"]["sessionResults"][0]["message"] == "hello\n" and
          srv.requests[0]["headers"]["X-Amz-Target"] == "Logs_20140328.StartLiveTail" and
          body == {"logGroupIdentifiers": ["/aws/lambda/f"], "logEventFilterPattern": "hello"},
          "StartLiveTail frames decoded (split across chunks)", out + err)
    bad = bytearray(upd)
    bad[-1] ^= 0xFF
    srv.expect(dict(action="stream", frames=[start, bytes(bad), upd]))
    r, rc, out, err = call(env, "live-tail", "/aws/lambda/f")
    check(rc == 1 and r["code"] == "EventStreamError" and len(r["events"]) == 1 and
          r["attempts"] == 1, "corrupt CRC is an error, not retried after delivery", out + err)
    srv.expect(dict(action="stream", frames=[start, upd[:30]]))
    r, rc, out, err = call(env, "live-tail", "/aws/lambda/f")
    check(rc == 1 and r["code"] == "EventStreamError" and "truncated" in r["message"],
          "truncated stream is an error", out + err)
    exc = frame([(":message-type", "exception"), (":exception-type", "SessionTimeoutException"),
                 (":content-type", "application/json")], b'{"message":"Session timed out"}')
    srv.expect(dict(action="stream", frames=[start, exc]))
    r, rc, out, err = call(env, "live-tail", "/aws/lambda/f")
    check(rc == 1 and r["code"] == "SessionTimeoutException" and "timed out" in r["message"],
          "exception frame ends the stream with its code", out + err)
    srv.expect(dict(status=400, body={"__type": "ResourceNotFoundException",
                                      "message": "log group not found"}))
    r, rc, out, err = call(env, "live-tail", "/aws/lambda/none")
    check(rc == 1 and r["code"] == "ResourceNotFoundException", "StartLiveTail HTTP error parsed", out)

    # S3 PutObject from a file (path style on a custom endpoint), tagging.
    art = os.path.join(tmp, "a b.zip")
    with open(art, "wb") as f:
        f.write(os.urandom(70000))
    srv.expect(dict(status=200, headers={"ETag": '"e"'}, body=""))
    r, rc, out, err = call(env, "s3-put", "my-bucket", "builds/a b+1.zip", art)
    req = srv.requests[0] if srv.requests else {}
    check(rc == 0 and req.get("method") == "PUT" and
          req.get("raw_path") == "/my-bucket/builds/a%20b%2B1.zip" and
          req["headers"].get("X-Amz-Content-Sha256") == "UNSIGNED-PAYLOAD" and
          req["body"] == open(art, "rb").read(), "S3 PutObject streams a file", out + err)
    srv.expect(dict(status=200, body={"ResourceTagMappingList": [{"ResourceARN": "arn:1"}],
                                      "PaginationToken": "p"}),
               dict(status=200, body={"ResourceTagMappingList": [{"ResourceARN": "arn:2"}],
                                      "PaginationToken": ""}))
    r, rc, out, err = call(dict(env, LK_ALL_PAGES="1"), "tagging", "stack")
    b0 = json.loads(srv.requests[0]["body"])
    check(rc == 0 and len(r["json"]["ResourceTagMappingList"]) == 2 and
          srv.requests[0]["headers"]["X-Amz-Target"] == "ResourceGroupsTaggingAPI_20170126.GetResources"
          and b0["TagFilters"] == [{"Key": "aws:cloudformation:stack-name", "Values": ["stack"]}]
          and b0["ResourceTypeFilters"] == ["lambda:function"], "GetResources paged", out)

    # Connection reuse: sequential calls on one client share one keep-alive connection.
    srv.expect(*[dict(status=200, body={})] * 5)
    srv.clients = set()
    r, rc, out, err = call(dict(env, LK_REPEAT="5"), "get-function", "f")
    check(rc == 0 and len(srv.requests) == 5 and len(srv.clients) == 1,
          "five calls reuse one connection", f"{len(srv.clients)} connections")

    # Cancellation: no callback, nothing leaks, the loop closes cleanly (checked by the tool).
    srv.expect(dict(action="sleep", seconds=30))
    t0 = time.time()
    r, rc, out, err = call(dict(env, LK_CANCEL_AFTER_MS="300"), "get-function", "slow")
    check(rc == 0 and '"cancelled":true' in out and '"callback_called":false' in out and
          time.time() - t0 < 25, "cancel an in-flight request", out + err)
    srv.expect(dict(status=500, body={}), dict(status=500, body={}), dict(status=200, body={}))
    r, rc, out, err = call(dict(env, LK_CANCEL_AFTER_MS="1"), "wait-updated", "f")
    check(rc == 0 and '"callback_called":false' in out, "cancel during retries/backoff", out + err)
    srv.expect(dict(action="sleep", seconds=2))
    r, rc, out, err = call(dict(env, LK_CANCEL_AFTER_MS="300", LK_FREE_CLIENT="1"), "get-function", "x")
    check(rc == 0 and '"callback_called":false' in out, "free the client with a request in flight",
          out + err)
    srv.expect(dict(action="stream", frames=[start, upd, upd, upd], delay=0.05))
    r, rc, out, err = call(dict(env, LK_CANCEL_ON_EVENT="2"), "live-tail", "/aws/lambda/f")
    check(rc == 0 and '"cancelled_in_callback":true,"events":2' in out,
          "cancel a live tail from inside its event callback", out + err)
    srv.expect(dict(action="stream", frames=[start], no_end=True, delay=3))
    r, rc, out, err = call(dict(env, LK_CANCEL_AFTER_MS="500"), "live-tail", "/aws/lambda/f")
    check(rc == 0 and '"callback_called":false' in out, "cancel an idle live tail", out + err)

    # No credentials at all: a clear error, no request.
    srv.expect()
    noenv = dict(env)
    del noenv["AWS_ACCESS_KEY_ID"], noenv["AWS_SECRET_ACCESS_KEY"]
    r, rc, out, err = call(noenv, "get-function", "f")
    check(rc == 1 and r["code"] == "MissingCredentials" and not srv.requests,
          "missing credentials reported", out)

    check(not srv.errors, "every request's signature verified by botocore", "\n".join(srv.errors))
    srv.close()

    # TLS is verified: a self-signed server fails, and works once AWS_CA_BUNDLE names its cert.
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    tls = awsfake.Server(tls=(cert, key))
    tenv = dict(env, LK_ENDPOINT=tls.url)
    tls.expect(dict(status=200, body={}))
    r, rc, out, err = call(tenv, "get-function", "f")
    check(rc == 1 and r["code"] == "TLSError" and r["attempts"] == 1,
          "untrusted certificate: TLSError, not retried", out + err)
    tls.expect(dict(status=200, body={"Configuration": {"FunctionName": "tls"}}))
    r, rc, out, err = call(dict(tenv, AWS_CA_BUNDLE=cert), "get-function", "f")
    check(rc == 0 and r["json"]["Configuration"]["FunctionName"] == "tls",
          "AWS_CA_BUNDLE trusts the endpoint's certificate", out + err)
    tls.close()
    if FAILS:
        sys.exit(f"{len(FAILS)} checks failed: {FAILS}")


if __name__ == "__main__":
    main()
