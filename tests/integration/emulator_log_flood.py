"""Memory bound of the emulator under a log flood (issue 21, items 3 and 11): a function logs
far more than the log store's bound (3 x 100 MB, in 1 KB lines and 200 KB lines), while the
emulator's resident memory is sampled from /proc. The journal on disk is the store, so the
emulator's RSS must stay within a few tens of MB of where it started (before: +100 MB per
invoke, never released), the events must still be readable through the Logs API (botocore
and /usr/bin/aws), and the store keeps at most its byte bound on disk too."""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, small_asan_quarantine, zip_bytes  # noqa: E402

FLOOD = '''
import sys
def handler(event, context):
    n = event["n"]
    small = "s" * 1000
    big = "b" * (200 * 1024)
    w = sys.stdout.write
    # 50 MB of 1 KB lines, then 50 MB of 200 KB lines
    for i in range(50 * 1024):
        w("%d-%d %s\\n" % (n, i, small))
    for i in range(256):
        w("%d-big-%d %s\\n" % (n, i, big))
    print("FLOOD-END-%d" % n)
    return {"done": n}
'''

LIMIT_MB = 48          # growth allowed over the warmed-up RSS
BOUND = 256 << 20      # the store's default per-group byte bound (logstore.h)


def dir_bytes(path):
    total = 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            try:
                total += os.stat(os.path.join(root, n)).st_size
            except OSError:
                pass
    return total


def main():
    small_asan_quarantine()
    with Emulator() as emu:
        lam = emu.client("lambda", read_timeout=600)
        logs = emu.client("logs")
        lam.create_function(FunctionName="flood", Runtime="python3.12", Handler="app.handler",
                            Role="arn:aws:iam::000000000000:role/lambda", Timeout=600,
                            MemorySize=256, Code={"ZipFile": zip_bytes({"app.py": FLOOD})})
        # Warm up: worker, Logs API, a first small flood through every path.
        r = lam.invoke(FunctionName="flood", Payload=json.dumps({"n": 0}).encode())
        assert "FunctionError" not in r, r["Payload"].read()
        logs.filter_log_events(logGroupName="/aws/lambda/flood", filterPattern="FLOOD-END")
        base = emu.rss_kb()

        peak = [base]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], emu.rss_kb())
                except OSError:
                    return
                stop.wait(0.05)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        try:
            for n in (1, 2, 3):
                r = lam.invoke(FunctionName="flood", Payload=json.dumps({"n": n}).encode())
                assert "FunctionError" not in r, r["Payload"].read()
                assert json.loads(r["Payload"].read()) == {"done": n}
        finally:
            stop.set()
            t.join()
        after = emu.rss_kb()
        grew = (peak[0] - base) / 1024
        print("rss: base %.1f MB, peak %.1f MB, after %.1f MB (+%.1f MB peak) for ~400 MB logged"
              % (base / 1024, peak[0] / 1024, after / 1024, grew))
        assert grew < LIMIT_MB, "emulator RSS grew by %.1f MB under a log flood (limit %d MB)" % (
            grew, LIMIT_MB)

        # Everything still readable: the newest flood is there, the oldest was evicted.
        g = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/flood")["logGroups"][0]
        assert 100 << 20 < g["storedBytes"] <= BOUND, g
        found = logs.filter_log_events(logGroupName="/aws/lambda/flood",
                                       filterPattern="FLOOD-END-3")["events"]
        assert [e["message"].strip() for e in found] == ["FLOOD-END-3"], found
        gone = logs.filter_log_events(logGroupName="/aws/lambda/flood",
                                      filterPattern="FLOOD-END-0")["events"]
        assert gone == [], "the oldest events should have been evicted: %r" % gone[:1]
        out = emu.aws("logs", "filter-log-events", "--log-group-name", "/aws/lambda/flood",
                      "--filter-pattern", "3-big-255")
        msgs = [e["message"] for e in out["events"]]
        assert len(msgs) == 1 and msgs[0].startswith("3-big-255 bbbb") and \
            len(msgs[0].rstrip("\n")) == len("3-big-255 ") + 200 * 1024, [m[:40] for m in msgs]
        streams = logs.describe_log_streams(logGroupName="/aws/lambda/flood")["logStreams"]
        ev = logs.get_log_events(logGroupName="/aws/lambda/flood",
                                 logStreamName=streams[-1]["logStreamName"], limit=5,
                                 startFromHead=False)["events"]
        assert any(e["message"].startswith("REPORT RequestId:") for e in ev), ev

        # The disk holds about the bound (plus a segment), not the 400 MB logged.
        disk = dir_bytes(os.path.join(emu.state_dir, "logs"))
        assert disk <= BOUND + BOUND // 8 + (4 << 20), "logs on disk: %d bytes" % disk
        print("ok: events readable, %.0f MB stored, %.0f MB on disk" % (
            g["storedBytes"] / 1e6, disk / 1e6))


if __name__ == "__main__":
    main()
