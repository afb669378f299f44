"""`lambdeck logs -f` against the emulator, next to `aws logs tail --follow` in the same run:
(1) line latency: a function prints `BENCH <marker> <time.time()>`; time until the line is
printed by each follower (medians); (2) a flood: one invocation prints 20 000 lines as fast
as it can; time until `lambdeck logs -f` has printed all of them, and its peak RSS.

    LAMBDECK=build/lambdeck LAMBDECK_SRC=$PWD /usr/bin/python3 bench/logs_latency.py [N]
"""
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, AWS  # noqa: E402

LAMBDECK = os.environ["LAMBDECK"]
APP = '''
import time, sys
def handler(event, context):
    if event.get("flood"):
        w = sys.stdout.write
        for i in range(event["flood"]):
            w("FLOOD %d\\n" % i)
        sys.stdout.flush()
    else:
        print("BENCH %s %.6f" % (event["marker"], time.time()), flush=True)
    return {}
'''


def make_zip():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("app.py", APP)
    return b.getvalue()


def follower(argv, env, prefix):
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    got, flood = {}, {"n": 0, "last": None}

    def reader():
        for line in p.stdout:
            now = time.time()
            s = line.decode(errors="replace")
            i = s.find("BENCH ")
            if i >= 0:
                parts = s[i:].split()
                if parts[1].startswith(prefix):
                    got[parts[1]] = (now - float(parts[2])) * 1000
            elif "FLOOD " in s:
                flood["n"] += 1
                flood["last"] = now
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    return p, got, flood


def peak_rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    proj = tempfile.mkdtemp(prefix="lkbench.")
    with open(os.path.join(proj, "lambdeck.json"), "w") as f:
        json.dump({"functions": {"bench": {"runtime": "python3.12", "handler": "app.handler",
                                           "code": "."}}}, f)
    with Emulator(args=["--quiet"], state_dir=os.path.join(proj, ".lambdeck", "emulator")) as emu:
        lam = emu.client("lambda")
        lam.create_function(FunctionName="bench", Runtime="python3.12", Handler="app.handler",
                            Role="arn:aws:iam::000000000000:role/x", Code={"ZipFile": make_zip()})
        lam.invoke(FunctionName="bench", Payload=b'{"marker":"warm"}')
        lk, lk_got, lk_flood = follower([LAMBDECK, "--project", proj, "logs", "bench", "-f",
                                         "--since", "1s"], emu.env, "lk")
        time.sleep(3)
        for i in range(n):
            lam.invoke(FunctionName="bench", Payload=json.dumps({"marker": "lk%d" % i}).encode())
            time.sleep(0.2)
        time.sleep(1)
        t0 = time.time()
        lam.invoke(FunctionName="bench", Payload=b'{"flood": 20000}')
        deadline = time.time() + 60
        while lk_flood["n"] < 20000 and time.time() < deadline:
            time.sleep(0.05)
        flood_s = (lk_flood["last"] or time.time()) - t0
        rss = peak_rss_kb(lk.pid)
        lk.terminate()
        lk.wait()
        cli, cli_got, _ = follower([AWS, "--endpoint-url", emu.endpoint, "logs", "tail",
                                    "/aws/lambda/bench", "--follow", "--since", "1s"],
                                   emu.env, "cli")
        time.sleep(3)
        m = max(5, n // 4)
        for i in range(m):
            lam.invoke(FunctionName="bench", Payload=json.dumps({"marker": "cli%d" % i}).encode())
            time.sleep(2.3)
        deadline = time.time() + 15
        while len(cli_got) < m and time.time() < deadline:
            time.sleep(0.2)
        cli.terminate()
        cli.wait()

    def stats(v):
        v = sorted(v)
        return "n=%d p50=%.1f ms p90=%.1f ms max=%.1f ms" % (
            len(v), statistics.median(v), v[int(0.9 * (len(v) - 1))], v[-1])
    print("lambdeck logs -f:         " + stats(list(lk_got.values())))
    print("aws logs tail --follow:   " + stats(list(cli_got.values())))
    print("ratio of medians:         %.1fx" % (statistics.median(cli_got.values()) /
                                              statistics.median(lk_got.values())))
    print("flood: %d of 20000 lines printed by lambdeck logs -f in %.2f s (%.0f lines/s), "
          "peak RSS %d KB" % (lk_flood["n"], flood_s, lk_flood["n"] / flood_s if flood_s else 0,
                              rss))


if __name__ == "__main__":
    main()
