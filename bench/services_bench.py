"""services_bench.py - issue 19's numbers: time from `lambdeck emulate` to the s3 (s3rver)
and dynamodb (dynalite) services ready with a warm npm cache, next to starting the same two
servers by hand (node, polled until both answer); memory (RSS) of the set; invoke latency of
a Python function doing one GetItem against dynalite, p50/p99 over N invokes.

    python3 bench/services_bench.py build-rel/lambdeck [N]
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests/lib"))
os.environ.setdefault("LAMBDECK_SRC", SRC)
from emu import zip_bytes  # noqa: E402

LK = os.path.abspath(sys.argv[1])
N = int(sys.argv[2]) if len(sys.argv) > 2 else 300
NPM = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                   "lambdeck", "npm")

GETITEM = '''
import os, boto3
ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
def handler(event, context):
    return ddb.get_item(TableName="Bench", Key={"id": {"S": "k"}})["Item"]["v"]["S"]
'''


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def answers(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def rss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def group(pgid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[2]) == pgid:
                        out.append(int(d))
            except OSError:
                pass
    return out


def by_hand():
    tmp = tempfile.mkdtemp(prefix="lksvcb.")
    p3, pd = free_port(), free_port()
    env = dict(os.environ, LAMBDECK_S3RVER_MODULE=os.path.join(NPM, "s3rver/node_modules/s3rver"),
               S3RVER_ADDRESS="127.0.0.1", S3RVER_PORT=str(p3),
               S3RVER_DIRECTORY=os.path.join(tmp, "s3"))
    os.makedirs(env["S3RVER_DIRECTORY"])
    t0 = time.monotonic()
    a = subprocess.Popen(["node", os.path.join(SRC, "backend/emulator/runtimes/services/s3rver.js")],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b = subprocess.Popen(["node", os.path.join(NPM, "dynalite/node_modules/dynalite/cli.js"),
                          "--host", "127.0.0.1", "--port", str(pd), "--path", os.path.join(tmp, "d")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (answers(p3) and answers(pd)):
        time.sleep(0.005)
    t = time.monotonic() - t0
    time.sleep(1)
    rss = rss_kb([a.pid, b.pid])
    for p in (a, b):
        p.terminate()
        p.wait()
    return t, rss


def with_lambdeck():
    proj = tempfile.mkdtemp(prefix="lksvcb.")
    with open(os.path.join(proj, "lambdeck.json"), "w") as f:
        json.dump({"services": {"files": {"kind": "s3"}, "db": {"kind": "dynamodb"}}}, f)
    state = os.path.join(proj, ".lambdeck", "emulator")
    t0 = time.monotonic()
    emu = subprocess.Popen([LK, "emulate", "--state-dir", state, "--quiet", "--exit-with-parent"],
                           stdout=subprocess.PIPE)
    info = json.loads(emu.stdout.readline())
    st = {}
    while True:
        st = {}
        for n in ("files", "db"):
            try:
                with open(os.path.join(state, "services", n, "state.json")) as f:
                    st[n] = json.load(f)
            except (OSError, ValueError):
                pass
        if len(st) == 2 and all(s["state"] == "ready" for s in st.values()):
            break
        time.sleep(0.005)
    t = time.monotonic() - t0
    time.sleep(1)
    pids = [p for s in st.values() for p in group(s["pid"])]
    rss = rss_kb(pids)
    guards = rss_kb([s["pid"] for s in st.values()])
    return t, rss, guards, emu, info, st


def main():
    hand = [by_hand() for _ in range(3)]
    ours = []
    for i in range(3):
        t, rss, guards, emu, info, st = with_lambdeck()
        ours.append((t, rss, guards))
        if i < 2:
            emu.send_signal(signal.SIGTERM)
            emu.wait()
    # GetItem latency through the emulator, last run
    import botocore.session
    import configparser
    cp = configparser.ConfigParser()
    cp.read(info["credentials_file"])
    ak, sk = cp["lambdeck-local"]["aws_access_key_id"], cp["lambdeck-local"]["aws_secret_access_key"]
    s = botocore.session.Session()
    ddb = s.create_client("dynamodb", region_name="us-east-1", aws_access_key_id=ak,
                          aws_secret_access_key=sk,
                          endpoint_url="http://127.0.0.1:%d" % st["db"]["port"])
    ddb.create_table(TableName="Bench", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName="Bench", Item={"id": {"S": "k"}, "v": {"S": "hello"}})
    lam = s.create_client("lambda", region_name=info["region"], endpoint_url=info["endpoint"],
                          aws_access_key_id=ak, aws_secret_access_key=sk)
    lam.create_function(FunctionName="g", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/x",
                        Handler="app.handler", Code={"ZipFile": zip_bytes({"app.py": GETITEM})})
    while lam.get_function(FunctionName="g")["Configuration"]["State"] != "Active":
        time.sleep(0.05)
    for _ in range(20):
        lam.invoke(FunctionName="g")
    lat = []
    for _ in range(N):
        t0 = time.perf_counter()
        r = lam.invoke(FunctionName="g")
        body = r["Payload"].read()
        lat.append((time.perf_counter() - t0) * 1000)
        assert body == b'"hello"', body
    direct = []
    for _ in range(N):
        t0 = time.perf_counter()
        ddb.get_item(TableName="Bench", Key={"id": {"S": "k"}})
        direct.append((time.perf_counter() - t0) * 1000)
    emu.send_signal(signal.SIGTERM)
    emu.wait()
    q = lambda v, p: sorted(v)[min(len(v) - 1, int(len(v) * p))]  # noqa: E731
    print("by hand (node s3rver + node dynalite, polled): %s s; RSS %d MB" % (
        " / ".join("%.2f" % h[0] for h in hand), hand[-1][1] // 1024))
    print("lambdeck emulate -> both ready: %s s; RSS of the set %d MB (child guards %d MB)" % (
        " / ".join("%.2f" % o[0] for o in ours), ours[-1][1] // 1024, ours[-1][2] // 1024))
    print("invoke doing one GetItem (%d): p50 %.2f ms, p99 %.2f ms (mean %.2f)" % (
        N, q(lat, 0.5), q(lat, 0.99), statistics.mean(lat)))
    print("GetItem from the bench process directly: p50 %.2f ms, p99 %.2f ms" % (
        q(direct, 0.5), q(direct, 0.99)))


if __name__ == "__main__":
    main()
