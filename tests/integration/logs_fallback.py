"""`lambdeck logs -f` when StartLiveTail is refused (AccessDeniedException from a scripted
loopback endpoint — the emulator always offers live tail, so a scripted peer is the only way
to get a refusal): the tail says it falls back to polling, survives throttling, and prints
every event once although the polls return overlapping windows (dedupe by eventId)."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
import awsfake  # noqa: E402
from scale import scaled  # noqa: E402

LAMBDECK = os.environ["LAMBDECK"]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def ev(i, ts):
    return {"logStreamName": "s", "timestamp": ts, "ingestionTime": ts, "eventId": "id%d" % i,
            "message": "event %d" % i}


def main():
    tmp = tempfile.mkdtemp(prefix="lkfallback.")
    proj = os.path.join(tmp, "proj")
    os.makedirs(proj)
    with open(os.path.join(proj, "lambdeck.json"), "w") as f:
        json.dump({"functions": {"orders": {"runtime": "python3.12", "handler": "app.h"}}}, f)
    now = int(time.time() * 1000)
    srv = awsfake.Server(default_reply=dict(status=200, body={
        "events": [ev(1, now), ev(2, now + 1)], "searchedLogStreams": []}))
    try:
        groups = {"logGroups": [{"logGroupName": "/aws/lambda/orders"}]}
        throttle = dict(status=400, headers={"x-amzn-ErrorType": "ThrottlingException"},
                        body={"__type": "ThrottlingException", "message": "Rate exceeded"})
        srv.expect(
            # history and the existence probe, in either order: one body serves both
            dict(status=200, body=dict(groups, events=[ev(0, now - 1000)])),
            dict(status=200, body=dict(groups, events=[ev(0, now - 1000)])),
            dict(status=400, headers={"x-amzn-ErrorType": "AccessDeniedException"},
                 body={"__type": "AccessDeniedException", "message": "not allowed"}),
            throttle, throttle, throttle, throttle, throttle, throttle,
            dict(status=200, body={"events": [ev(0, now - 1000), ev(1, now)]}),
        )
        env = awsfake.base_env(tmp)
        # the tail's first back-off after a throttle (default 2 s, doubling): 6 throttles
        # would be about 15 s of real waiting otherwise
        env["LAMBDECK_LOGS_BACKOFF_MS"] = "100"
        p = subprocess.Popen([LAMBDECK, "--project", proj, "--endpoint-url", srv.url, "logs",
                              "-f"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = [], []
        ts = [threading.Thread(target=lambda f, d: [d.append(l.decode().rstrip("\n"))
                                                    for l in f], args=a)
              for a in ((p.stdout, out), (p.stderr, err))]
        for t in ts:
            t.start()
        deadline = time.time() + scaled(40)
        while time.time() < deadline and not (any(l.endswith("event 2") for l in out)
                                              and len(srv.requests) > 14):
            time.sleep(0.1)
        p.terminate()
        rc = p.wait(timeout=20)
        for t in ts:
            t.join()
        check(rc == 0, "exit %d: %r" % (rc, err))
        msgs = [l.split(" ", 2)[2] for l in out if " " in l]
        check(msgs == ["event 0", "event 1", "event 2"], "events once each, in order: %r" % out)
        check(any("polling every 1 s (live tail unavailable: AccessDeniedException: not allowed)"
                  in l for l in err), "fallback status: %r" % err)
        targets = [r.get("headers", {}).get("X-Amz-Target", "") for r in srv.requests]
        check(any(t.endswith("StartLiveTail") for t in targets), "live tail was tried")
        check(not srv.errors, "signature errors: %r" % srv.errors)
    finally:
        srv.close()
    print("ok")


if __name__ == "__main__":
    main()
