"""CloudWatch Logs API of the emulator, driven by the real AWS CLI (/usr/bin/aws) and by
botocore's event-stream parser as a second reader of our StartLiveTail frames:
describe-log-groups, describe-log-streams, get-log-events, filter-log-events (patterns,
errors), `aws logs tail --follow` showing a line printed during the tail, StartLiveTail."""
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
import zipfile

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, AWS  # noqa: E402
from scale import scaled  # noqa: E402

APP = '''
import json
def handler(event, context):
    print("hello from orders", event.get("marker", ""))
    if event.get("json"):
        print(json.dumps({"level": "error", "latency": event.get("latency", 0),
                          "marker": event.get("marker", "")}))
    if event.get("fail"):
        print("ERROR something broke", event.get("marker", ""))
    return {"ok": True}
'''


def make_zip():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("app.py", APP)
    return b.getvalue()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def invoke(emu, name, payload):
    # botocore rather than the CLI for the setup: the CLI costs seconds per call on a
    # loaded machine; the Logs checks below are the ones that go through the CLI
    lam = emu.client("lambda")
    r = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return json.loads(r["Payload"].read())


def live_tail_botocore(emu, groups, pattern, marker, fn_name, timeout=15):
    """Opens StartLiveTail with a botocore-signed raw request, invokes the function once the
    session started, and parses the stream with botocore.eventstream. Returns (messages,
    event types, ms from invoke to the marker line)."""
    import http.client
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.eventstream import EventStreamBuffer

    ak, sk = emu.credentials()
    body = json.dumps({"logGroupIdentifiers": groups, "logEventFilterPattern": pattern})
    url = emu.endpoint + "/"
    req = AWSRequest(method="POST", url=url, data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Logs_20140328.StartLiveTail"})
    SigV4Auth(Credentials(ak, sk), "logs", emu.region).add_auth(req)
    u = urllib.parse.urlparse(emu.endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
    resp = conn.getresponse()
    if resp.status != 200:
        raise AssertionError("StartLiveTail status %d: %s" % (resp.status, resp.read()[:300]))
    check(resp.getheader("Content-Type") == "application/vnd.amazon.eventstream",
          "content type %s" % resp.getheader("Content-Type"))
    buf = EventStreamBuffer()
    types, messages = [], []
    invoked_at = None
    latency = None
    deadline = time.time() + scaled(timeout)
    invoker = None
    while time.time() < deadline and latency is None:
        chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(1)
        if not chunk:
            break
        buf.add_data(chunk)
        for msg in buf:
            h = msg.headers
            check(h[":message-type"] == "event", "message type %r" % h)
            types.append(h[":event-type"])
            payload = json.loads(msg.payload)
            if h[":event-type"] == "sessionStart" and invoker is None:
                check(payload["logGroupIdentifiers"] == groups, "sessionStart %r" % payload)
                invoked_at = time.time()
                invoker = threading.Thread(target=invoke, args=(emu, fn_name,
                                                               {"marker": marker, "fail": 1}))
                invoker.start()
            if h[":event-type"] == "sessionUpdate":
                for r in payload["sessionResults"]:
                    messages.append(r["message"])
                    check(r["logGroupIdentifier"] in groups, "group id %r" % r)
                    if marker in r["message"] and latency is None:
                        latency = (time.time() - invoked_at) * 1000
    conn.close()
    if invoker:
        invoker.join()
    return messages, types, latency


def main():
    with Emulator() as emu:
        role = "arn:aws:iam::000000000000:role/lambda"
        zpath = os.path.join(emu.tmp, "fn.zip")
        with open(zpath, "wb") as f:
            f.write(make_zip())
        lam = emu.client("lambda")
        for name in ("orders", "cars"):
            lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                                Role=role, Code={"ZipFile": make_zip()})
        invoke(emu, "orders", {"marker": "m1"})
        invoke(emu, "orders", {"marker": "m2", "json": 1, "latency": 250})
        invoke(emu, "orders", {"marker": "m3", "fail": 1})
        invoke(emu, "cars", {"marker": "c1"})

        # describe-log-groups (prefix, paging through the CLI's paginator with page size 1)
        r = emu.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/",
                    "--page-size", "1")
        names = [g["logGroupName"] for g in r["logGroups"]]
        check(names == ["/aws/lambda/cars", "/aws/lambda/orders"], "groups %r" % names)
        check(r["logGroups"][1]["arn"].endswith(":log-group:/aws/lambda/orders:*"), "arn")

        # describe-log-streams, newest first
        r = emu.aws("logs", "describe-log-streams", "--log-group-name", "/aws/lambda/orders",
                    "--order-by", "LastEventTime", "--descending")
        streams = r["logStreams"]
        check(len(streams) >= 1, "streams %r" % streams)
        check("[$LATEST]" in streams[0]["logStreamName"], "stream name %r" % streams[0])
        check(streams[0]["lastEventTimestamp"] >= streams[-1]["lastEventTimestamp"], "order")

        # get-log-events: the platform lines and ours, in order
        r = emu.aws("logs", "get-log-events", "--log-group-name", "/aws/lambda/orders",
                    "--log-stream-name", streams[0]["logStreamName"], "--start-from-head")
        msgs = [e["message"] for e in r["events"]]
        text = "\n".join(msgs)
        check("hello from orders m1" in text and "hello from orders m3" in text, text)
        check(any(m.startswith("START RequestId:") for m in msgs), "no START in %r" % msgs)
        check(any(m.startswith("REPORT RequestId:") for m in msgs), "no REPORT in %r" % msgs)
        i1 = next(i for i, m in enumerate(msgs) if "m1" in m)
        i3 = next(i for i, m in enumerate(msgs) if "m3" in m)
        check(i1 < i3, "order of lines")
        check(r["nextForwardToken"].startswith("f/"), "token")

        # filter-log-events with term, OR, exclusion and JSON patterns
        logs = emu.client("logs")

        def fle(pattern):
            r = logs.filter_log_events(logGroupName="/aws/lambda/orders", filterPattern=pattern)
            return [e["message"] for e in r["events"]]
        r = emu.aws("logs", "filter-log-events", "--log-group-name", "/aws/lambda/orders",
                    "--filter-pattern", "ERROR")
        m = [e["message"] for e in r["events"]]
        check(len(m) == 1 and "ERROR something broke m3" in m[0], "ERROR: %r" % m)
        m = fle("?m1 ?m3")
        check(any("m1" in x for x in m) and any("m3" in x for x in m), "OR: %r" % m)
        m = fle("hello -m1")
        check(all("m1" not in x for x in m) and len(m) == 2, "exclusion: %r" % m)
        m = fle('{ $.latency > 200 }')
        check(len(m) == 1 and '"marker": "m2"' in m[0], "json: %r" % m)
        m = fle('{ $.level = "error" && $.marker = "m*" }')
        check(len(m) == 1, "json and: %r" % m)
        r = emu.aws("logs", "filter-log-events", "--log-group-name", "/aws/lambda/orders",
                    "--filter-pattern", "[ip, user]", check=False)
        err = r.stderr.decode()
        check(r.returncode != 0 and "InvalidParameterException" in err and
              "space-delimited" in err, "unsupported pattern: %s" % err)
        try:
            logs.filter_log_events(logGroupName="/nope")
            check(False, "missing group accepted")
        except logs.exceptions.ResourceNotFoundException:
            pass
        ids = [e["eventId"] for e in logs.filter_log_events(
            logGroupName="/aws/lambda/orders")["events"]]
        check(len(ids) == len(set(ids)) and len(ids) > 6, "eventIds unique")

        # aws logs tail --follow: a line printed during the tail shows up
        tail = subprocess.Popen([AWS, "--endpoint-url", emu.endpoint, "logs", "tail",
                                 "/aws/lambda/orders", "--follow", "--format", "short",
                                 "--since", "1h"],
                                env=emu.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = []
        reader = threading.Thread(target=lambda: [out.append(l.decode(errors="replace"))
                                                  for l in tail.stdout])
        reader.start()
        # wait until the CLI has made its first FilterLogEvents call (it prints the
        # earlier lines), then print a new line
        deadline = time.time() + scaled(30)
        while time.time() < deadline and not any("m1" in l for l in out):
            time.sleep(0.1)
        invoke(emu, "orders", {"marker": "during-tail-42"})
        deadline = time.time() + scaled(20)
        while time.time() < deadline and not any("during-tail-42" in l for l in out):
            time.sleep(0.2)
        tail.terminate()
        tail.wait()
        reader.join()
        check(any("hello from orders during-tail-42" in l for l in out),
              "aws logs tail --follow output: %r / %s" % (out[-10:], tail.stderr.read()[-500:]))
        check(any("m1" in l for l in out), "tail --since 1h shows earlier lines")

        # StartLiveTail read by botocore.eventstream
        groups = ["arn:aws:logs:%s:000000000000:log-group:/aws/lambda/orders" % emu.region,
                  "/aws/lambda/cars"]
        messages, types, latency = live_tail_botocore(emu, groups, "?live-77 ?ERROR",
                                                      "live-77", "orders")
        check(types[:2] == ["initial-response", "sessionStart"], "types %r" % types)
        check(latency is not None, "marker not received; got %r" % messages)
        check(all(("live-77" in x) or ("ERROR" in x) for x in messages), "filter %r" % messages)
        print("StartLiveTail: marker after %.0f ms (includes the invoke)" % latency)


        # persistence: events survive a restart, with the same eventIds
        emu.restart()
        ids2 = [e["eventId"] for e in emu.client("logs").filter_log_events(
            logGroupName="/aws/lambda/orders")["events"]]
        check(ids2[:len(ids)] == ids, "eventIds stable across restart")
    print("ok")


if __name__ == "__main__":
    main()
