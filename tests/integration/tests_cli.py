"""`lambdeck test` end to end on a copy of examples/hello-python (its real unittest suite):
pass -> exit 0, a failing test -> exit 1 with file:line, --json, --watch re-running on save
(JSON Lines, Ctrl-C ends it), command not found, --timeout, usage errors."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from cli import LAMBDECK, SRC, copy_fixture, fail, run  # noqa: E402


def main():
    tmp = tempfile.mkdtemp(prefix="lk-testcmd-")
    try:
        proj = os.path.join(tmp, "proj")
        copy_fixture("examples/hello-python", proj)

        rc, out, err = run(["test"], proj)
        if rc != 0 or " passed" not in out or "failed" in out:
            fail(f"passing suite: rc={rc}", out + err)
        if "python3 -m unittest discover" not in err:
            fail("the command is not shown", err)
        print("ok: passing suite exits 0")

        # a failing test, at a known line
        with open(os.path.join(proj, "tests/test_broken.py"), "w") as f:
            f.write("import unittest\n\n\nclass TestBroken(unittest.TestCase):\n"
                    "    def test_refund(self):\n"
                    "        self.assertEqual(200, 500)\n")
        rc, out, err = run(["test"], proj)
        if rc != 1:
            fail(f"failing suite: rc={rc}", out + err)
        if "tests/test_broken.py:6 tests.test_broken.TestBroken.test_refund" not in out:
            fail("failure with file:line not listed", out)
        if "AssertionError: 200 != 500" not in out or "1 failed" not in out:
            fail("message / counts missing", out)
        print("ok: failing suite exits 1 and lists file:line")

        rc, out, err = run(["test", "--json"], proj)
        doc = json.loads(out)
        if rc != 1 or doc["status"] != "failed" or doc["failed"] != 1 or doc["format"] != "unittest":
            fail("json", out)
        f0 = doc["failures"][0]
        if f0["line"] != 6 or not f0["path"].endswith("/tests/test_broken.py"):
            fail("json failure location", out)
        if not any("Ran " in l for l in doc["output"]):
            fail("json output lines", out)
        print("ok: --json")

        rc, out, err = run(["--project", proj, "test", "--", "lambdeck-no-such-runner"], tmp)
        if rc != 1 or "command not found: lambdeck-no-such-runner" not in out + err:
            fail("command not found", out + err)
        print("ok: command not found")

        t0 = time.monotonic()
        rc, out, err = run(["test", "--timeout", "0.5", "--", "sleep", "30"], proj)
        if rc != 1 or "timed out" not in out + err or time.monotonic() - t0 > 15:
            fail("timeout", out + err)
        print("ok: --timeout")

        rc, out, err = run(["test", "--bogus"], proj)
        if rc != 2 or "unknown option '--bogus'" not in err:
            fail("usage error", err)
        rc, out, err = run(["test", "--timeout", "soon"], proj)
        if rc != 2:
            fail("bad --timeout value accepted", err)
        print("ok: usage errors exit 2")

        # --watch: first run at start, one more per save; Ctrl-C ends it
        os.remove(os.path.join(proj, "tests/test_broken.py"))
        p = subprocess.Popen([LAMBDECK, "test", "--watch", "--json", "--debounce", "100"],
                             cwd=proj, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = json.loads(p.stdout.readline())
            if first["status"] != "passed" or first["trigger"] != "watch start":
                fail("watch: first run", json.dumps(first))
            time.sleep(0.3)
            with open(os.path.join(proj, "tests/test_broken.py"), "w") as f:
                f.write("import unittest\n\n\nclass T(unittest.TestCase):\n"
                        "    def test_x(self):\n        self.fail('saved')\n")
            second = json.loads(p.stdout.readline())
            if second["status"] != "failed" or not second["trigger"].startswith("on save: tests/"):
                fail("watch: run on save", json.dumps(second))
            p.send_signal(signal.SIGINT)
            rc = p.wait(timeout=20)
            if rc != 1:
                fail(f"watch: exit status after Ctrl-C with a failing last run: {rc}")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        print("ok: --watch re-runs on save, Ctrl-C stops")

        # pytest-style tests, nothing naming pytest, tests/ without __init__.py: unittest
        # (-s tests, or discovery would skip tests/) finds none. Not a pass: exit 5 and the
        # likely cause.
        bare = os.path.join(tmp, "bare")
        os.makedirs(os.path.join(bare, "tests"))
        with open(os.path.join(bare, "tests/test_cart.py"), "w") as f:
            f.write("def test_total():\n    assert 1 + 2 == 3\n")
        rc, out, err = run(["test", "--explain"], bare)
        if rc != 0 or "python3 -m unittest discover -s tests\n" not in out or \
                "tests/ has no __init__.py" not in out:
            fail("--explain: unittest -s tests", out + err)
        rc, out, err = run(["test"], bare)
        if rc != 5 or "no tests ran" not in out or \
                "tests/ has test_*.py files (tests/test_cart.py) but unittest discovered none" \
                not in out:
            fail(f"no tests ran: exit {rc} (want 5) and the cause", out + err)
        rc, out, err = run(["test", "--json"], bare)
        doc = json.loads(out)
        if rc != 5 or doc["status"] != "notests" or "unittest discovered none" not in doc["warning"]:
            fail("no tests ran: --json", out)
        print("ok: no tests ran -> exit 5 with the likely cause")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
