"""real.py - run a real public project (a fixture under tests/fixtures/real/) the way its
user would: copy it to a temp dir, `npm install` where it has a package.json, a `.venv`
made with `/usr/bin/python3 -m venv --system-site-packages` for Python projects, then a
private emulator on the project's state dir and the lambdeck CLI for discover, build,
deploy and invoke.

    sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
    from real import RealProject
    with RealProject("run-sam-python-hello", venv=True) as p:
        fns = p.functions()                       # `lambdeck functions --json`, by name
        p.ok("build"); p.ok("deploy")
        r = p.invoke("HelloWorldFunction", "events/event.json")   # `invoke --json`, parsed
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli import LAMBDECK, SRC, copy_fixture, fail  # noqa: E402
from emu import Emulator  # noqa: E402

SLOW = 2  # sanitizer builds and a loaded machine


class RealProject:
    def __init__(self, fixture, venv=False, cache_dir=None):
        self.tmp = tempfile.mkdtemp(prefix="lk-real.")
        self.dir = os.path.join(self.tmp, fixture)
        copy_fixture(os.path.join("tests/fixtures/real", fixture), self.dir)
        self.venv = venv
        self.cache_dir = cache_dir
        self.emu = None

    def __enter__(self):
        for root, dirs, files in os.walk(self.dir):
            dirs[:] = [d for d in dirs if d not in ("node_modules", ".venv", ".lambdeck")]
            if "package.json" in files:
                self.sh(["npm", "install", "--no-audit", "--no-fund"], cwd=root, timeout=240)
        if self.venv:
            self.sh(["/usr/bin/python3", "-m", "venv", "--system-site-packages", ".venv"])
        if self.cache_dir:
            os.environ["XDG_CACHE_HOME"] = self.cache_dir  # the emulator inherits it
        self.emu = Emulator(state_dir=os.path.join(self.dir, ".lambdeck/emulator")).start()
        return self

    def __exit__(self, *exc):
        if self.emu:
            self.emu.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sh(self, argv, cwd=None, timeout=120):
        p = subprocess.run(argv, cwd=cwd or self.dir, capture_output=True, text=True,
                           timeout=timeout * SLOW)
        if p.returncode != 0:
            fail("%s failed (%d)" % (" ".join(argv), p.returncode), p.stdout + p.stderr)
        return p.stdout

    def run(self, args, timeout=120):
        env = dict(self.emu.env) if self.emu else dict(os.environ)
        p = subprocess.run([LAMBDECK] + args, cwd=self.dir, capture_output=True, text=True,
                           timeout=timeout * SLOW, env=env)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args, timeout=240):
        rc, out, err = self.run(list(args), timeout=timeout)
        if rc != 0:
            fail("lambdeck %s: exit %d" % (" ".join(args), rc), out + err + self.emu.read_log())
        return out

    def functions(self):
        return {f["name"]: f for f in json.loads(self.ok("functions", "--json"))["functions"]}

    def invoke(self, function, event, timeout=120):
        rc, out, err = self.run(["invoke", function, "--event", event, "--json"], timeout)
        try:
            r = json.loads(out)
        except ValueError:
            fail("invoke %s: no JSON (exit %d)" % (function, rc), out + err + self.emu.read_log())
        r["exit"] = rc
        return r


def check(cond, what, detail=""):
    """Prints ok/FAIL for one observable fact; fails the test at the first wrong one."""
    if not cond:
        fail(what, detail if isinstance(detail, str) else json.dumps(detail, indent=1))
    print("ok  ", what)
