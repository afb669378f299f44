"""Code installs off the emulator's loop (issue 21, item 11): unpacking a ~240 MB archive no
longer stalls every other request; meanwhile the function is State Pending (create) or
LastUpdateStatus InProgress (update, the old code keeps serving) as AWS reports, and other
operations on it get AWS's 409. A kill -9 in the middle of a create or an update leaves no
partial code dir behind once the emulator starts again. Deleting a large code copy happens
off the loop too."""
import glob
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, zip_bytes  # noqa: E402

import botocore.exceptions  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/lambda"
SLOW = 200  # generous bound for a loaded sanitizer build
fns = None  # the emulator's functions dir (state)


def big_zip(version):
    files = {"app.py": "def handler(event, context):\n    return %r\n" % version}
    blob = b"\0" * (40 << 20)
    for i in range(6):  # 240 MB unpacked, well under the 250 MB limit
        files["data/blob%d.bin" % i] = blob
    return zip_bytes(files)


def code_error(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


class Background:
    """Runs one call in a thread; result/exception kept."""

    def __init__(self, fn):
        self.result = self.error = None
        self.t = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.t.start()

    def _run(self, fn):
        try:
            self.result = fn()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def running(self):
        return self.t.is_alive()

    def join(self):
        self.t.join(SLOW)
        assert not self.t.is_alive(), "the call did not finish in %d s" % SLOW


def wait_for(what, pred, deadline=SLOW):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.005)
    raise AssertionError("timed out waiting for " + what)


def get_config(lam, name):
    try:
        return lam.get_function_configuration(FunctionName=name)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def invoke(lam, name):
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in r, r["Payload"].read()
    return json.loads(r["Payload"].read())


def kill9_and_restart(emu):
    emu.proc.send_signal(signal.SIGKILL)
    emu.proc.wait()
    emu.proc.stdout.close()
    emu.proc = None
    emu.start()


def main():
    v1, v2, v3 = big_zip("v1"), big_zip("v2"), big_zip("v3")
    # the unpacked code copies live in the user's cache, not the state dir: a private one
    cache = tempfile.mkdtemp(prefix="lkcache.")
    os.environ["XDG_CACHE_HOME"] = cache

    def codes(name):  # the function's code copies: <cache>/lambdeck/emulator-<key>/<name>
        found = glob.glob(os.path.join(cache, "lambdeck", "emulator-*", name))
        return found[0] if found else os.path.join(cache, "none", name)

    def trash():  # trees being deleted off the loop, beside the state and the code copies
        return glob.glob(os.path.join(fns, ".trash-*")) + \
            glob.glob(os.path.join(cache, "lambdeck", "emulator-*", ".trash-*"))

    try:
        run(v1, v2, v3, codes, trash)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def run(v1, v2, v3, codes, trash):
    global fns
    with Emulator() as emu:
        lam = emu.client("lambda", retries=False, read_timeout=SLOW)
        fns = os.path.join(emu.state_dir, "functions")

        # -- create: Pending while unpacking, the loop keeps answering
        create = Background(lambda: lam.create_function(
            FunctionName="huge", Runtime="python3.12", Handler="app.handler", Role=ROLE,
            Code={"ZipFile": v1}))
        worst = 0.0
        seen_pending = False
        while create.running():
            t0 = time.monotonic()
            cfg = get_config(lam, "huge")
            worst = max(worst, time.monotonic() - t0)
            if cfg and cfg["State"] == "Pending" and create.running():
                seen_pending = True
                assert cfg["LastUpdateStatus"] == "InProgress", cfg
                # AWS refuses to invoke a Pending function (unless it became Active since)
                r = code_error(lambda: lam.invoke(FunctionName="huge", Payload=b"{}"))
                assert r == ("ResourceConflictException", 409) or \
                    get_config(lam, "huge")["State"] == "Active", r
                assert "huge" in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
        create.join()
        assert create.error is None, create.error
        assert create.result["State"] == "Active", create.result
        assert seen_pending, "never saw State Pending: the create blocked the emulator"
        print("ok: create of a 240 MB archive: Pending meanwhile, worst other request %.0f ms"
              % (worst * 1000))
        assert invoke(lam, "huge") == "v1"

        # -- update: InProgress while unpacking, the old code serves, a 2nd update is a 409
        update = Background(lambda: lam.update_function_code(FunctionName="huge", ZipFile=v2))
        seen_progress = False
        while update.running():
            cfg = get_config(lam, "huge")
            if cfg["LastUpdateStatus"] == "InProgress" and update.running():
                seen_progress = True
                assert cfg["State"] == "Active"
                assert invoke(lam, "huge") == "v1"
                # not a zip: refused with 409 while busy (else 400, nothing changes)
                r = code_error(lambda: lam.update_function_code(FunctionName="huge",
                                                                ZipFile=b"not a zip"))
                assert r == ("ResourceConflictException", 409) or \
                    (r[1] == 400 and not update.running()), r
                break
        update.join()
        assert update.error is None, update.error
        assert update.result["LastUpdateStatus"] == "Successful", update.result
        assert seen_progress, "never saw LastUpdateStatus InProgress"
        assert get_config(lam, "huge")["LastUpdateStatus"] == "Successful"
        assert invoke(lam, "huge") == "v2"
        print("ok: update: InProgress meanwhile, old code served, 409 for a second update")

        # -- kill -9 during a create: the partial function is gone after the restart
        doomed = Background(lambda: lam.create_function(
            FunctionName="doomed", Runtime="python3.12", Handler="app.handler", Role=ROLE,
            Code={"ZipFile": v1}))
        wait_for("the create's temp unpack dir",
                 lambda: glob.glob(os.path.join(codes("doomed"), ".tmp-*")))
        kill9_and_restart(emu)
        doomed.join()
        assert doomed.error is not None, "the create cannot have succeeded"
        lam = emu.client("lambda", retries=False, read_timeout=SLOW)
        assert not os.path.exists(os.path.join(fns, "doomed")), os.listdir(fns)
        assert "doomed" not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]

        # -- kill -9 during an update: the temp dir is swept, the previous code still serves
        upd = Background(lambda: lam.update_function_code(FunctionName="huge", ZipFile=v3))
        wait_for("the update's temp unpack dir",
                 lambda: glob.glob(os.path.join(codes("huge"), ".tmp-*")))
        kill9_and_restart(emu)
        upd.join()
        lam = emu.client("lambda", retries=False, read_timeout=SLOW)
        left = os.listdir(codes("huge"))
        assert len(left) == 1 and not left[0].startswith("."), left
        assert invoke(lam, "huge") == "v2"
        print("ok: kill -9 mid-create and mid-update leave no partial code dir")

        # -- delete: a code copy of 10 000 files is removed off the loop; the name is free
        # at once (the tree is moved aside and deleted on the thread pool)
        many = {"app.py": "def handler(event, context):\n    return 'many'\n"}
        for i in range(10000):
            many["lib/d%d/f%d.py" % (i // 100, i)] = "x = %d\n" % i
        lam.create_function(FunctionName="many", Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Code={"ZipFile": zip_bytes(many)})
        assert invoke(lam, "many") == "many"
        lam.delete_function(FunctionName="many")
        assert trash(), "DeleteFunction returned after removing the whole tree on the loop"
        assert not os.path.exists(os.path.join(fns, "many"))
        lam.create_function(FunctionName="many", Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Code={"ZipFile": zip_bytes({"app.py": many["app.py"]})})
        assert invoke(lam, "many") == "many"
        wait_for("the deleted tree to go", lambda: not trash())
        print("ok: delete of a 10 000-file function is done off the loop")


if __name__ == "__main__":
    main()
