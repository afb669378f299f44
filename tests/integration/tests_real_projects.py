"""`lambdeck test` on real projects' own suites (tests/fixtures/real, copied from AWS's SAM
templates, and the bundled examples/hello-node):

  * sam-python-hello: pytest (named only in tests/requirements.txt) run by the project's
    virtualenv (made with --system-site-packages, pytest from Debian's python3-pytest);
  * sam-node-hello: mocha, from the test script of the function's own package.json
    (hello-world/), after `npm install` there;
  * sam-node-sqs-jest: jest at the project root, whose code directory is the root (so the
    emulator's copy of the code holds the tests too);
  * examples/hello-node: node --test (4 tests; 12 when the emulator's copies were seen).

For each: the rule --explain names; `lambdeck test --json` counts equal the counts of the
project's runner run directly (computed here from its own report: JUnit XML, mocha/jest
JSON, node's TAP); the same before and after a `lambdeck deploy` with the emulator running
(its code copies live in $XDG_CACHE_HOME, not the project); the project's .lambdeck/
ignores itself for git; a code copy an older lambdeck left in .lambdeck/emulator, and the
code cache of a project that is gone, are removed when an emulator starts; a failing
assertion injected into each test is named at its file:line. npm installs are cached in the build directory."""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from cli import LAMBDECK, SRC, fail  # noqa: E402

BUILD = os.environ.get("LAMBDECK_BUILD", tempfile.gettempdir())
NPM_CACHE = os.path.join(BUILD, "npm-cache")
MODULES_CACHE = os.path.join(BUILD, "real-projects-node-modules")


def sh(argv, cwd, env, timeout=300, check=True):
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        fail(f"{' '.join(argv)} in {cwd}: exit {p.returncode}", p.stdout + p.stderr)
    return p


def lk(args, proj, env, timeout=300):
    return subprocess.run([LAMBDECK, "--project", proj] + args, cwd=proj, env=env,
                          capture_output=True, text=True, timeout=timeout)


def npm_install(pkg_dir, env):
    """node_modules for pkg_dir: `npm install` once per package.json, then copied."""
    with open(os.path.join(pkg_dir, "package.json"), "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()[:16]
    cached = os.path.join(MODULES_CACHE, key)
    if not os.path.isdir(cached):
        sh(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline"], pkg_dir, env,
           timeout=600)
        os.makedirs(MODULES_CACHE, exist_ok=True)
        staged = os.path.join(MODULES_CACHE, key + ".tmp-" + str(os.getpid()))
        shutil.copytree(os.path.join(pkg_dir, "node_modules"), staged, symlinks=True)
        try:
            os.rename(staged, cached)
        except OSError:  # another run cached it first
            shutil.rmtree(staged, ignore_errors=True)
        return
    shutil.copytree(cached, os.path.join(pkg_dir, "node_modules"), symlinks=True)


# --- the projects' own runners, run directly -------------------------------------------------

def direct_pytest(proj, env, tmp):
    report = os.path.join(tmp, "direct-junit.xml")
    sh([os.path.join(proj, ".venv/bin/python"), "-m", "pytest", "--junitxml=" + report],
       proj, env, check=False)
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    c = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for s in suites:
        for k in c:
            c[k] += int(s.get(k, 0))
    return {"passed": c["tests"] - c["failures"] - c["errors"] - c["skipped"],
            "failed": c["failures"], "errors": c["errors"], "skipped": c["skipped"]}


def direct_mocha(proj, env, tmp):
    d = os.path.join(proj, "hello-world")
    p = sh([os.path.join(d, "node_modules/.bin/mocha"), "--reporter", "json", "tests/unit/"],
           d, env, check=False)
    st = json.loads(p.stdout)["stats"]
    return {"passed": st["passes"], "failed": st["failures"], "errors": 0,
            "skipped": st["pending"]}


def direct_jest(proj, env, tmp):
    out = os.path.join(tmp, "direct-jest.json")
    sh(["node", "--experimental-vm-modules", "node_modules/jest/bin/jest.js", "--json",
        "--outputFile=" + out], proj, env, check=False)
    with open(out) as f:
        j = json.load(f)
    return {"passed": j["numPassedTests"], "failed": j["numFailedTests"],
            "errors": j["numRuntimeErrorTestSuites"],
            "skipped": j["numPendingTests"] + j["numTodoTests"]}


def direct_node_test(proj, env, tmp):
    p = sh(["node", "--test", "--test-reporter=tap"], proj, env, check=False)
    n = {}
    for k in ("pass", "fail", "skipped", "todo"):
        m = re.search(r"^# %s (\d+)$" % k, p.stdout, re.M)
        if not m:
            fail("node --test: no '# %s' line" % k, p.stdout)
        n[k] = int(m.group(1))
    return {"passed": n["pass"], "failed": n["fail"], "errors": 0,
            "skipped": n["skipped"] + n["todo"]}


PROJECTS = [
    {
        "name": "sam-python-hello", "src": "tests/fixtures/real/sam-python-hello",
        "venv": True, "npm": [], "direct": direct_pytest,
        "explain": ".: %(proj)s/.venv/bin/python -m pytest\n    chosen by: pytest: pytest in "
                   "tests/requirements.txt; the .venv interpreter has pytest",
        "inject": ("tests/unit/test_handler.py", 'assert data["message"] == "hello world"',
                   'assert data["message"] == "hello mars"',
                   "tests/unit/test_handler.py::test_lambda_handler"),
    },
    {
        "name": "sam-node-hello", "src": "tests/fixtures/real/sam-node-hello",
        "venv": False, "npm": ["hello-world"], "direct": direct_mocha,
        "explain": "hello-world: npm test\n    chosen by: package.json scripts.test "
                   "(mocha tests/unit/)",
        "inject": ("hello-world/tests/unit/test-handler.mjs",
                   'expect(response.message).to.be.equal("hello world");',
                   'expect(response.message).to.be.equal("hello mars");',
                   "Tests index verifies successful response"),
    },
    {
        "name": "sam-node-sqs-jest", "src": "tests/fixtures/real/sam-node-sqs-jest",
        "venv": False, "npm": ["."], "direct": direct_jest,
        "explain": ".: npm test\n    chosen by: package.json scripts.test (node "
                   "--experimental-vm-modules node_modules/jest/bin/jest.js)",
        "inject": ("__tests__/unit/handlers/sqs-payload-logger.test.mjs",
                   "expect(console.info).toHaveBeenCalledWith(JSON.stringify(payload))",
                   "expect(console.info).toHaveBeenCalledWith('nothing')",
                   "Test for sqs-payload-logger \u203a Verifies the payload is logged"),
    },
    {
        "name": "hello-node", "src": "examples/hello-node",
        "venv": False, "npm": [], "direct": direct_node_test,
        "explain": ".: node --test\n    chosen by: lambdeck.json \"test\"",
        "inject": ("test/counter.test.js", None, None, None),
    },
]


def counts_of(doc):
    return {k: doc[k] for k in ("passed", "failed", "errors", "skipped")}


def check_counts(label, proj, env, want):
    r = lk(["test", "--json"], proj, env)
    try:
        doc = json.loads(r.stdout.splitlines()[-1])
    except (ValueError, IndexError):
        fail(f"{label}: lambdeck test --json printed no JSON (exit {r.returncode})",
             r.stdout + r.stderr)
    if not doc["countsKnown"] or counts_of(doc) != want:
        fail(f"{label}: lambdeck counted {counts_of(doc)} (known: {doc['countsKnown']}), "
             f"the project's runner {want}", r.stdout + r.stderr)
    want_rc = 0 if want["failed"] + want["errors"] == 0 else 1
    if r.returncode != want_rc:
        fail(f"{label}: exit {r.returncode}, want {want_rc}", r.stdout + r.stderr)
    return doc


class Emulator:
    """`lambdeck emulate` on the project's state dir, where `lambdeck deploy` finds it."""

    def __init__(self, proj, env):
        self.p = subprocess.Popen([LAMBDECK, "emulate", "--port", "0", "--state-dir",
                                   os.path.join(proj, ".lambdeck/emulator"), "--quiet",
                                   "--exit-with-parent"], cwd=proj, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()  # its one JSON line, once it serves
        if not line.strip().endswith("}"):
            self.p.kill()
            fail("emulator did not start", line + self.p.stderr.read())

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            fail("emulator did not stop on SIGTERM")
        if rc != 0:
            fail(f"emulator exited {rc}", self.p.stderr.read())


def files_under(d):
    out = []
    for root, _, files in os.walk(d):
        out += [os.path.join(root, f) for f in files]
    return out


def one_project(spec, tmp, base_env):
    proj = os.path.join(tmp, "sam-app" if spec["name"] != "hello-node" else "hello-node")
    shutil.copytree(os.path.join(SRC, spec["src"]), proj,
                    ignore=shutil.ignore_patterns(".lambdeck", "node_modules", "__pycache__",
                                                  ".venv"))
    env = dict(base_env)
    cache = os.path.join(tmp, "xdg-cache")
    env["XDG_CACHE_HOME"] = cache
    if spec["venv"]:  # the way a user makes one, pytest from Debian's python3-pytest
        sh(["/usr/bin/python3", "-m", "venv", "--system-site-packages", "--without-pip",
            os.path.join(proj, ".venv")], proj, env)
    for d in spec["npm"]:
        npm_install(os.path.join(proj, d), env)
    label = spec["name"]

    r = lk(["test", "--explain"], proj, env)
    want_explain = spec["explain"] % {"proj": os.path.realpath(proj)}
    if r.returncode != 0 or want_explain not in r.stdout:
        fail(f"{label}: --explain, want:\n{want_explain}", r.stdout + r.stderr)

    before = spec["direct"](proj, env, tmp)
    if before["passed"] == 0:
        fail(f"{label}: the project's own runner ran nothing: {before}")
    check_counts(f"{label} before deploy", proj, env, before)
    print(f"ok: {label}: {before} like the project's own runner")

    emu = Emulator(proj, env)
    r = lk(["deploy"], proj, env, timeout=600)
    if r.returncode != 0:
        emu.stop()
        fail(f"{label}: deploy", r.stdout + r.stderr)
    copies = [f for f in files_under(cache) if "/emulator-" in f]
    if not copies:
        emu.stop()
        fail(f"{label}: no code copies under $XDG_CACHE_HOME/lambdeck", str(files_under(tmp)))
    after = spec["direct"](proj, env, tmp)
    if after != before:
        emu.stop()
        fail(f"{label}: after a deploy the project's own runner counts {after}, before {before}")
    in_project = [f for f in files_under(os.path.join(proj, ".lambdeck"))
                  if not f.endswith((".zip", ".json", ".log", ".jsonl", "lock", ".lock"))
                  and "/deps/" not in f and "/users/" not in f
                  and os.path.basename(f) not in ("credentials", "endpoint", "owner",
                                                  ".gitignore", "state")]
    if in_project:
        emu.stop()
        fail(f"{label}: lambdeck left files runners may see in .lambdeck", "\n".join(in_project))
    check_counts(f"{label} after deploy", proj, env, before)
    with open(os.path.join(proj, ".lambdeck/.gitignore")) as f:
        if f.read() != "*\n":
            fail(f"{label}: .lambdeck/.gitignore is not '*'")
    if shutil.which("git"):
        sh(["git", "init", "-q"], proj, env)
        st = sh(["git", "status", "--porcelain", "--untracked-files=all"], proj, env).stdout
        if ".lambdeck" in st:
            fail(f"{label}: git sees .lambdeck", st)
    emu.stop()
    print(f"ok: {label}: the same after a deploy; the emulator's copies live outside the "
          "project")
    return proj, env, before


def migration(proj, env, spec, before, tmp):
    """A copy an older lambdeck unpacked into .lambdeck/emulator is removed at start."""
    fns = os.path.join(proj, ".lambdeck/emulator/functions")
    names = sorted(os.listdir(fns))
    if not names:
        fail("no function in the emulator's state dir")
    fn_dir = os.path.join(fns, names[0])  # "hello-node-dev-greet": its deployed name
    old = os.path.join(fn_dir, "code/0123456789abcdef")
    shutil.copytree(os.path.join(proj, "test"), os.path.join(old, "test"))
    # and a code cache of a project that is gone (a temporary one): dropped at start
    stale = os.path.join(env["XDG_CACHE_HOME"], "lambdeck", "emulator-0123456789abcdef")
    os.makedirs(os.path.join(stale, "f", "0123"))
    with open(os.path.join(stale, "state"), "w") as f:
        f.write(os.path.join(tmp, "no-such-project/.lambdeck/emulator"))
    emu = Emulator(proj, env)
    gone = not os.path.exists(os.path.join(fn_dir, "code"))
    if os.path.exists(stale):
        emu.stop()
        fail("the code cache of a project that is gone was not dropped")
    after = spec["direct"](proj, env, tmp)
    emu.stop()
    if not gone:
        fail("an old .lambdeck/emulator/functions/*/code tree was not removed",
             "\n".join(files_under(fn_dir)))
    if after != before:
        fail(f"after the migration the runner counts {after}, before {before}")
    print("ok: an old code copy in .lambdeck/emulator is removed when the emulator starts")


def inject(proj, env, spec):
    rel, old, new, name = spec["inject"]
    path = os.path.join(proj, rel)
    with open(path) as f:
        text = f.read()
    if old is None:  # node --test: a new failing assertion at the end of the file
        text += "\ntest('injected', () => {\n  require('node:assert').strictEqual(1, 2);\n});\n"
        name = "injected"
        with open(path, "w") as f:
            f.write(text)
        line = text.splitlines().index("  require('node:assert').strictEqual(1, 2);") + 1
    else:
        if old not in text:
            fail(f"{rel}: {old!r} not found")
        line = text[:text.index(old)].count("\n") + 1
        with open(path, "w") as f:
            f.write(text.replace(old, new))
    r = lk(["test", "--json"], proj, env)
    doc = json.loads(r.stdout.splitlines()[-1])
    if r.returncode != 1 or doc["status"] != "failed" or doc["failed"] < 1:
        fail(f"{spec['name']}: injected failure: exit {r.returncode}", r.stdout)
    hits = [f for f in doc["failures"] if f["name"] == name]
    if not hits:
        fail(f"{spec['name']}: no failure named {name!r}", json.dumps(doc["failures"], indent=1))
    f = hits[0]
    if f.get("line") != line or not f.get("path", "").endswith("/" + rel):
        fail(f"{spec['name']}: failure at {f.get('path')}:{f.get('line')}, want {rel}:{line}",
             json.dumps(f, indent=1))
    print(f"ok: {spec['name']}: the injected failure is named at {rel}:{line}")


def main():
    base_env = dict(os.environ)
    base_env.update({"npm_config_cache": NPM_CACHE, "npm_config_update_notifier": "false",
                     "npm_config_audit": "false", "npm_config_fund": "false",
                     "NO_COLOR": "1"})
    base_env.pop("VIRTUAL_ENV", None)
    only = sys.argv[1:]
    for spec in PROJECTS:
        if only and spec["name"] not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="lk-real-")
        try:
            proj, env, before = one_project(spec, tmp, base_env)
            if spec["name"] == "hello-node":
                migration(proj, env, spec, before, tmp)
            inject(proj, env, spec)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
