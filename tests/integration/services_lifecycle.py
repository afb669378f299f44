"""Declared services (issue 19 items 1, 3, 6): generic services from lambdeck.json start with
the emulator in dependency order, a missing command and one that keeps dying are reported
with their output while the functions still run, a killed service restarts, stop/start/
reset work from the CLI, the functions get the exported variables and ${services.NAME.KEY}
mappings, and no service outlives the emulator: not after SIGTERM, not after SIGKILL of the
process that started it (--exit-with-parent), not after SIGKILL of the emulator itself (the
child guard)."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, zip_bytes  # noqa: E402

LK = os.environ["LAMBDECK"]
SLOW = 3 if os.environ.get("ASAN_OPTIONS") is not None or "asan" in LK else 1
ROLE = "arn:aws:iam::000000000000:role/lambda"

TCPD = r'''
import os, socket, sys
open(os.path.join(sys.argv[1], "started"), "a").write("x")
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"]))); s.listen(8)
print("tcpd listening", os.environ["PORT"], "web at", os.environ["WEB"], flush=True)
while True:
    c, _ = s.accept(); c.close()
'''

HANDLER = '''
import os
def handler(event, context):
    return {k: os.environ.get(k) for k in ("WEB_URL", "MAPPED", "UNKNOWN_REF")}
'''


def run(proj, *args, check=True):
    cp = subprocess.run([LK, "--project", proj, "services"] + list(args), capture_output=True,
                        text=True, timeout=200)
    if check and cp.returncode != 0:
        raise AssertionError("services %s: %d %s %s" % (args, cp.returncode, cp.stdout, cp.stderr))
    return cp


def states(proj):
    return {s["name"]: s for s in json.loads(run(proj, "list", "--json").stdout)}


def wait_for(proj, pred, what, timeout=60):
    end = time.monotonic() + timeout * SLOW
    while time.monotonic() < end:
        st = states(proj)
        if pred(st):
            return st
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s: %s" % (what, json.dumps(states(proj), indent=1)))


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def group_members(pgid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                out.append(int(d))
    return out


def wait_gone(pgids, what):
    end = time.monotonic() + 20 * SLOW
    while any(group_alive(p) for p in pgids):
        if time.monotonic() > end:
            raise AssertionError("%s: service groups still alive: %s" % (
                what, [p for p in pgids if group_alive(p)]))
        time.sleep(0.05)


def main():
    proj = tempfile.mkdtemp(prefix="lksvc.")
    with open(os.path.join(proj, "tcpd.py"), "w") as f:
        f.write(TCPD)
    cfg = {"services": {
        "tcpd": {"command": [sys.executable, "tcpd.py", "${data_dir}"], "depends_on": ["web"],
                 "env": {"WEB": "${name}"}},
        "web": {"command": [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "${port}"],
                "ready": {"http": "/"}, "export": {"WEB_URL": "http://${host}:${port}"}},
        "missing": {"command": ["/nonexistent/lk-service"]},
        "flaky": {"command": ["sh", "-c", "echo boom-$$; exit 3"]},
    }}
    with open(os.path.join(proj, "lambdeck.json"), "w") as f:
        json.dump(cfg, f)
    state = os.path.join(proj, ".lambdeck", "emulator")

    # not running: declared services are listed as stopped; start asks for the emulator
    st = states(proj)
    assert st["web"]["state"] == "stopped", st
    cp = run(proj, "start", "web", check=False)
    assert cp.returncode == 1 and "the emulator is not running" in cp.stderr, cp
    cp = run(proj, "stat", "web", "--json", check=False)
    assert cp.returncode == 2 and json.loads(cp.stdout)["error"]["code"] == "UsageError", cp
    assert "did you mean 'start'" in cp.stdout, cp

    emu = Emulator(state_dir=state).start()
    try:
        st = wait_for(proj, lambda s: s["web"]["state"] == "ready" and s["tcpd"]["state"] == "ready"
                      and s["missing"]["state"] == "failed" and s["flaky"]["state"] == "failed",
                      "services up", timeout=90)
        assert "cannot start /nonexistent/lk-service" in st["missing"]["message"], st["missing"]
        assert "exited with status 3" in st["flaky"]["message"], st["flaky"]
        assert "boom-" in st["flaky"]["message"], st["flaky"]  # its last output
        assert st["flaky"]["restarts"] >= 4, st["flaky"]
        # dependency order: tcpd started once web was ready, and got its env
        log = run(proj, "logs", "tcpd").stdout
        assert "tcpd listening %d web at tcpd" % st["tcpd"]["port"] in log, log
        web = st["web"]
        body = urllib.request.urlopen("http://127.0.0.1:%d/" % web["port"], timeout=10).read()
        assert b"Directory listing" in body
        socket.create_connection(("127.0.0.1", st["tcpd"]["port"]), timeout=5).close()

        # `services env` for scripts
        env = run(proj, "env").stdout
        assert "export WEB_URL='http://127.0.0.1:%d'\n" % web["port"] in env, env
        assert json.loads(run(proj, "env", "--json").stdout) == {
            "WEB_URL": "http://127.0.0.1:%d" % web["port"]}

        # the functions run and see the services
        lam = emu.client("lambda")
        lam.create_function(FunctionName="svc", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": zip_bytes({"app.py": HANDLER})},
                            Environment={"Variables": {"MAPPED": "${services.tcpd.port}/${services.web.host}",
                                                       "UNKNOWN_REF": "${services.nope.port}"}})
        for _ in range(200):
            if lam.get_function(FunctionName="svc")["Configuration"]["State"] == "Active":
                break
            time.sleep(0.05)
        out = json.loads(lam.invoke(FunctionName="svc")["Payload"].read())
        assert out == {"WEB_URL": "http://127.0.0.1:%d" % web["port"],
                       "MAPPED": "%d/127.0.0.1" % st["tcpd"]["port"],
                       "UNKNOWN_REF": "${services.nope.port}"}, out

        # a service that dies restarts, on the same port (pid is its group: the child guard
        # and the server under it)
        server = [p for p in group_members(web["pid"]) if p != web["pid"]]
        assert len(server) == 1, server
        os.kill(server[0], signal.SIGKILL)
        st = wait_for(proj, lambda s: s["web"]["state"] == "ready" and s["web"]["restarts"] == 1,
                      "web restarted")
        assert st["web"]["pid"] != web["pid"] and st["web"]["port"] == web["port"], st["web"]
        assert not alive(web["pid"])

        # stop / start / restart / reset from the CLI
        cp = run(proj, "stop", "web")
        assert cp.stdout == "web stopped\n", cp.stdout
        assert not group_alive(st["web"]["pid"])
        assert states(proj)["web"]["state"] == "stopped"
        cp = run(proj, "start", "web")
        assert cp.stdout.startswith("web ready on 127.0.0.1:"), cp.stdout
        tcpd = states(proj)["tcpd"]
        started = os.path.join(tcpd["dataDir"], "started")
        assert os.path.exists(started)
        run(proj, "reset", "tcpd")
        st = states(proj)
        assert st["tcpd"]["state"] == "ready" and st["tcpd"]["pid"] != tcpd["pid"], st["tcpd"]
        with open(started) as f:
            assert f.read() == "x"  # emptied, then written once by the new run
        cp = run(proj, "restart", "missing", check=False)
        assert cp.returncode == 1 and "cannot start /nonexistent/lk-service" in cp.stderr, cp
        cp = run(proj, "stop", "nope", check=False)
        assert cp.returncode == 2 and "no service 'nope'" in cp.stderr, cp

        # SIGTERM of the emulator stops every group
        groups = [s["pid"] for s in states(proj).values() if s["pid"]]
        assert len(groups) == 2, groups
    finally:
        emu.stop()
    wait_gone(groups, "after the emulator stopped")
    assert states(proj)["web"]["state"] == "stopped"

    # SIGKILL of the process that started the emulator (a console, a CLI): --exit-with-parent
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys; p = subprocess.Popen([sys.argv[1], 'emulate', '--state-dir',"
         " sys.argv[2], '--exit-with-parent', '--quiet'], stdout=subprocess.PIPE);"
         " print(p.stdout.readline().decode(), flush=True); p.wait()", LK, state],
        stdout=subprocess.PIPE)
    json.loads(parent.stdout.readline())
    st = wait_for(proj, lambda s: s["web"]["state"] == "ready" and s["tcpd"]["state"] == "ready",
                  "services up again")
    groups = [st["web"]["pid"], st["tcpd"]["pid"]]
    parent.kill()
    parent.wait()
    wait_gone(groups, "after SIGKILL of the emulator's parent")

    # SIGKILL of the emulator itself: the child guard ends each group
    p = subprocess.Popen([LK, "emulate", "--state-dir", state, "--quiet", "--exit-with-parent"],
                         stdout=subprocess.PIPE)
    info = json.loads(p.stdout.readline())
    st = wait_for(proj, lambda s: s["web"]["state"] == "ready" and s["tcpd"]["state"] == "ready",
                  "services up a third time")
    groups = [st["web"]["pid"], st["tcpd"]["pid"]]
    os.kill(info["pid"], signal.SIGKILL)
    p.wait()
    wait_gone(groups, "after SIGKILL of the emulator")
    print("ok")


if __name__ == "__main__":
    main()
