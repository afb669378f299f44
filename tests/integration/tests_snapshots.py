"""`lambdeck test --snapshots` against the real local emulator: a snapshot saved with
`lambdeck invoke --snapshot` replays as passing together with the unittest suite (exit 0);
a changed expectation fails with the differing JSON path (exit 1, also in --json); no
emulator is left running afterwards."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from cli import LAMBDECK, SRC, copy_fixture, fail, run  # noqa: E402
from scale import scaled  # noqa: E402


def emulators_for(path):
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if "emulate" in l and path in l]


def main():
    tmp = tempfile.mkdtemp(prefix="lk-testsnap-")
    try:
        proj = os.path.join(tmp, "proj")
        copy_fixture("examples/hello-python", proj)
        rc, out, err = run(["invoke", "HelloFunction", "--event", "ada", "--snapshot", "ada"], proj, timeout=180)
        snap = os.path.join(proj, "events/HelloFunction/ada.snapshot.json")
        if rc != 0 or not os.path.exists(snap):
            fail(f"could not save a snapshot (rc={rc})", out + err)

        rc, out, err = run(["test", "--snapshots"], proj, timeout=180)
        if rc != 0 or "snapshots: " not in out or "1 passed" not in out.split("snapshots: ")[-1]:
            fail(f"passing snapshot: rc={rc}", out + err)
        print("ok: tests + snapshot pass -> exit 0")

        with open(snap) as f:
            doc = json.load(f)
        body = json.loads(doc["expected"]["response"]["body"])
        body["message"] = "Hello, Bob!"
        doc["expected"]["response"]["body"] = json.dumps(body)
        with open(snap, "w") as f:
            json.dump(doc, f, indent=2)

        rc, out, err = run(["test", "--snapshots"], proj, timeout=180)
        if rc != 1:
            fail(f"failing snapshot: rc={rc}", out + err)
        if "events/HelloFunction/ada.snapshot.json HelloFunction/ada" not in out or \
                'body.message: expected "Hello, Bob!", got "Hello, Ada!"' not in out:
            fail("failing snapshot not listed with its difference", out)
        print("ok: a differing snapshot fails with its JSON path -> exit 1")

        rc, out, err = run(["test", "--snapshots", "--json"], proj, timeout=180)
        d = json.loads(out)
        if rc != 1 or d["status"] != "passed" or d["allPassed"] is not False or \
                d["snapshots"]["failed"] != 1 or d["snapshots"]["failures"][0]["group"] != "snapshots":
            fail("json", out)
        print("ok: --json has the snapshot group")

        # The last user leaving makes the emulator stop; it may take a moment to exit.
        deadline = time.monotonic() + scaled(5)
        left = emulators_for(proj)
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = emulators_for(proj)
        if left:
            fail("emulator left running: " + "; ".join(left))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
