"""`lambdeck logs` against the emulator (LOCAL mode attaching to it through the project's
.lambdeck/emulator state dir): history with --since, --filter, --json, -f through
StartLiveTail (lambdeck's own client and event-stream decoder), -f --poll (FilterLogEvents
fallback, dedupe across polls), a group that does not exist yet when the tail starts
(StartLiveTail would refuse it: polled until it exists, then served live), bad arguments."""
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator  # noqa: E402
from scale import scaled  # noqa: E402

LAMBDECK = os.environ["LAMBDECK"]
APP = '''
import sys
def handler(event, context):
    for line in event.get("lines", []):
        print(line)
    if event.get("hostile"):
        sys.stdout.flush()
        sys.stdout.buffer.write(b"esc \\x1b[2J\\x1b]0;pwned\\x07 nul \\x00 bad \\xff\\xfe end\\n")
        sys.stdout.buffer.write(b"big " + b"x" * (1024 * 1024) + b" tail\\n")
        sys.stdout.buffer.flush()
    return {"ok": True}
'''


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def make_zip():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("app.py", APP)
    return b.getvalue()


class Follower:
    """Runs `lambdeck logs ... -f` and collects stdout / stderr lines."""

    def __init__(self, proj, env, args):
        self.p = subprocess.Popen([LAMBDECK, "--project", proj, "logs"] + args,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.out, self.err = [], []
        self.t1 = threading.Thread(target=self._read, args=(self.p.stdout, self.out))
        self.t2 = threading.Thread(target=self._read, args=(self.p.stderr, self.err))
        self.t1.start()
        self.t2.start()

    @staticmethod
    def _read(f, dest):
        for line in f:
            dest.append(line.decode(errors="replace").rstrip("\n"))

    def wait_for(self, pred, what, timeout=20):
        deadline = time.time() + scaled(timeout)
        while time.time() < deadline:
            if pred():
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("%s; stdout %r; stderr %r" % (what, self.out[-20:], self.err[-20:]))

    def stop(self):
        self.p.terminate()
        rc = self.p.wait(timeout=20)
        self.t1.join()
        self.t2.join()
        check(rc == 0, "lambdeck logs -f exited %d: %r" % (rc, self.err[-20:]))


def main():
    proj = tempfile.mkdtemp(prefix="lklogs.")
    with open(os.path.join(proj, "lambdeck.json"), "w") as f:
        json.dump({"functions": {
            "orders": {"runtime": "python3.12", "handler": "app.handler", "code": "orders"},
            "cars": {"runtime": "python3.12", "handler": "app.handler", "code": "cars"},
            "later": {"runtime": "python3.12", "handler": "app.handler", "code": "later"}}}, f)
    for d in ("orders", "cars", "later"):
        os.makedirs(os.path.join(proj, d))
        with open(os.path.join(proj, d, "app.py"), "w") as f:
            f.write(APP)
    state = os.path.join(proj, ".lambdeck", "emulator")
    with Emulator(state_dir=state) as emu:
        env = dict(emu.env)
        lam = emu.client("lambda")
        for name in ("orders", "cars", "later"):
            lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                                Role="arn:aws:iam::000000000000:role/x",
                                Code={"ZipFile": make_zip()})

        def invoke(name, *lines):
            lam.invoke(FunctionName=name, Payload=json.dumps({"lines": list(lines)}).encode())

        invoke("orders", "order one", "ERROR order failed", '{"level": "info", "n": 1}')
        invoke("cars", "car one")

        def logs(*args):
            return subprocess.run([LAMBDECK, "--project", proj, "logs"] + list(args),
                                  capture_output=True, env=env, timeout=60)

        # history of every function, formatted like `aws logs tail` (+ the function name)
        r = logs()
        out = r.stdout.decode()
        check(r.returncode == 0, "logs: %d %s" % (r.returncode, r.stderr.decode()))
        check("order one" in out and "car one" in out, out)
        lines = out.splitlines()
        ol = next(l for l in lines if l.endswith("order one"))
        parts = ol.split(" ", 3)
        check(parts[0].endswith("+00:00") and parts[1] == "orders" and "[$LATEST]" in parts[2],
              "format: %r" % ol)
        check("\033[" not in out, "no colors when stdout is not a TTY")
        # one function: exactly the aws logs tail layout "timestamp stream message"
        r = logs("orders", "--filter", "ERROR")
        out = r.stdout.decode().splitlines()
        check(len(out) == 1 and out[0].endswith(" ERROR order failed") and
              len(out[0].split(" ")) == 5, "filter: %r" % out)
        # --json
        r = logs("orders", "--json", "--since", "1h")
        evs = [json.loads(l) for l in r.stdout.decode().splitlines()]
        check(any(e["message"] == "order one" and e["function"] == "orders" and
                  e["logGroup"] == "/aws/lambda/orders" and e["eventId"] for e in evs), evs)
        check(any(e["message"].startswith("REPORT RequestId:") for e in evs), "REPORT line")
        # bad arguments
        check(logs("nosuch").returncode == 2, "unknown function")
        check(logs("--since", "yesterday-ish").returncode == 2, "bad --since")
        r = logs("--filter", "[a, b]")
        check(r.returncode == 1 and "InvalidParameterException" in r.stderr.decode(),
              "unsupported pattern: %r" % r.stderr)

        # hostile bytes: escapes made visible, NUL shown, invalid UTF-8 -> U+FFFD, a 1 MB
        # line (stored truncated to 256 KiB, as CloudWatch does) printed without trouble
        lam.invoke(FunctionName="cars", Payload=json.dumps({"hostile": 1}).encode())
        r = logs("cars")
        raw = r.stdout
        check(r.returncode == 0, "hostile: %r" % r.stderr)
        check(b"\x1b" not in raw and b"\x07" not in raw and b"\x00" not in raw, "raw control bytes")
        text = raw.decode("utf-8")  # valid UTF-8
        check("esc ^[[2J^[]0;pwned^G nul " in text, "escapes visible: %r" % text[:300])
        check("bad \ufffd\ufffd end" in text or "bad \ufffd end" in text, "U+FFFD")
        big = next(l for l in text.splitlines() if " big " in l)
        check(250 * 1024 < len(big) < 300 * 1024, "big line %d bytes" % len(big))

        # follow: live tail; "later" has no log group yet (never invoked) -> polled until
        # it exists, then live
        fo = Follower(proj, env, ["-f", "--since", "1s"])
        fo.wait_for(lambda: any("live tail" in l for l in fo.err), "live tail status")
        check(any("not created yet" in l for l in fo.err), "missing group polled: %r" % fo.err)
        t0 = time.time()
        invoke("orders", "live line 1")
        fo.wait_for(lambda: any(l.endswith("live line 1") for l in fo.out), "live line")
        live_ms = (time.time() - t0) * 1000
        invoke("later", "first words of later")
        fo.wait_for(lambda: any(l.endswith("first words of later") for l in fo.out),
                    "line of a group created during the tail")
        fo.wait_for(lambda: any(l.endswith("live tail (3 groups)") for l in fo.err),
                    "all three groups live")
        invoke("later", "second words of later")
        invoke("cars", "car two")
        fo.wait_for(lambda: any(l.endswith("second words of later") for l in fo.out) and
                    any(l.endswith("car two") for l in fo.out), "lines after the switch")
        fo.stop()
        for text in ("live line 1", "first words of later", "second words of later"):
            n = sum(1 for l in fo.out if l.endswith(text))
            check(n == 1, "%r printed %d times (dedupe): %r" % (text, n, fo.out))
        print("live: line after %.0f ms (invoke included)" % live_ms)

        # follow by polling only (the fallback path): lines arrive once each
        fo = Follower(proj, env, ["orders", "-f", "--poll", "--since", "1s"])
        fo.wait_for(lambda: any("polling every 1 s" in l for l in fo.err), "polling status")
        for i in range(3):
            invoke("orders", "polled %d" % i)
            time.sleep(0.4)
        fo.wait_for(lambda: all(any(l.endswith("polled %d" % i) for l in fo.out)
                                for i in range(3)), "polled lines")
        time.sleep(2.5)  # more polls over the same window must not repeat them
        fo.stop()
        for i in range(3):
            n = sum(1 for l in fo.out if l.endswith("polled %d" % i))
            check(n == 1, "polled %d printed %d times" % (i, n))
    print("ok")


if __name__ == "__main__":
    main()
