"""Every --json output is valid, terminal-safe JSON whatever the input (issue 21.12): a
function whose response holds U+009B (the C1 CSI) and whose log holds invalid UTF-8, through
`lambdeck invoke --json` (auto-started emulator) and into history.jsonl; a test command writing a JUnit report with
raw invalid bytes and C1 controls, through `lambdeck test --json`. The output must decode as
strict UTF-8, hold no raw C1 control or DEL, parse as JSON, and keep what was valid."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from cli import LAMBDECK, fail  # noqa: E402


def check_bytes(what, raw):
    """Strict UTF-8, no raw C1 controls or DEL; returns the parsed document."""
    try:
        text = raw.decode("utf-8", "strict")
    except UnicodeDecodeError as e:
        fail("%s: invalid UTF-8 in the output: %s" % (what, e), repr(raw[:400]))
    bad = [c for c in text if 0x80 <= ord(c) <= 0x9F or ord(c) == 0x7F]
    if bad:
        fail("%s: raw control characters %r in the output" % (what, bad), text)
    try:
        return json.loads(text)
    except ValueError as e:
        fail("%s: not JSON: %s" % (what, e), text)


def main():
    tmp = tempfile.mkdtemp(prefix="lk-json-")
    proj = os.path.join(tmp, "proj")
    try:
        os.makedirs(os.path.join(proj, "src"))
        with open(os.path.join(proj, "src/app.py"), "w") as f:
            f.write("import sys\n\n"
                    "def handler(event, context):\n"
                    "    sys.stdout.buffer.write(b'log \\xff\\xfe \\xc2\\x9b[2J end\\n')\n"
                    "    sys.stdout.flush()\n"
                    "    return {'s': '\\u009b[31mred\\u007f', 'ok': 'caf\\u00e9'}\n")
        with open(os.path.join(proj, "lambdeck.json"), "w") as f:
            json.dump({"functions": {"Fn": {"runtime": "python3.12", "handler": "app.handler",
                                            "code": "src"}}}, f)
        event = os.path.join(tmp, "event.json")
        with open(event, "wb") as f:  # raw U+009B (valid UTF-8) inside a string
            f.write(b'{"name": "\xc2\x9b[1mAda"}')
        p = subprocess.run([LAMBDECK, "invoke", "Fn", "--event", event, "--json"], cwd=proj,
                           capture_output=True, timeout=120)
        if p.returncode != 0:
            fail("invoke --json: rc=%d" % p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace"))
        doc = check_bytes("invoke --json", p.stdout)
        if doc["payload"] != {"s": "\u009b[31mred\u007f", "ok": "caf\u00e9"}:
            fail("invoke --json: payload not kept (escaped, not dropped)", json.dumps(doc))
        if "log" not in (doc.get("logTail") or ""):
            fail("invoke --json: log tail missing", json.dumps(doc))
        print("ok: invoke --json escapes U+009B and DEL, replaces invalid UTF-8")
        with open(os.path.join(proj, ".lambdeck/history.jsonl"), "rb") as f:
            lines = f.read().splitlines()
        if len(lines) != 1:
            fail("history.jsonl: %d lines, want 1" % len(lines))
        check_bytes("history.jsonl", lines[0])
        print("ok: the history line is safe JSON too")

        report = os.path.join(tmp, "report.xml")
        writer = ("open(%r, 'wb').write(b'<testsuite name=\"s\\xff\" tests=\"1\">"
                  "<testcase classname=\"t\\xfe\\xc2\\x9b\" name=\"x\\xc2\\x9b[2J\\xff\" "
                  "file=\"a\\xe2\\x82.py\" line=\"3\"><failure message=\"boom \\xc0\\xaf\">"
                  "trace \\xfe</failure></testcase></testsuite>'); raise SystemExit(1)" % report)
        p = subprocess.run([LAMBDECK, "test", "--json", "--junit", report, "--",
                            "/usr/bin/python3", "-c", writer], cwd=proj,
                           capture_output=True, timeout=120)
        if p.returncode != 1:
            fail("test --json: rc=%d" % p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace"))
        doc = check_bytes("test --json", p.stdout)
        if doc["failed"] != 1 or len(doc["failures"]) != 1 or doc["format"] != "junit":
            fail("test --json: the report's failure is not there", json.dumps(doc))
        print("ok: test --json stays valid with raw bytes in a JUnit report")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
