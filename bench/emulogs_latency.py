"""Line-to-reader latency of the emulator's CloudWatch Logs: a function prints a line that
carries its own wall-clock time; we measure when that line arrives (1) through one
StartLiveTail session (botocore.eventstream reading our frames) and (2) through
`aws logs tail --follow` (FilterLogEvents polling, the AWS CLI's own loop) against the same
emulator in the same run. Prints medians and the ratio.

    LAMBDECK=build/lambdeck LAMBDECK_SRC=$PWD /usr/bin/python3 bench/emulogs_latency.py [N]
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, AWS  # noqa: E402

APP = '''
import time
def handler(event, context):
    print("BENCH %s %.6f" % (event["marker"], time.time()), flush=True)
    return {}
'''


def make_zip():
    import io
    import zipfile
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("app.py", APP)
    return b.getvalue()


def parse(line):
    i = line.find("BENCH ")
    if i < 0:
        return None
    parts = line[i:].split()
    return parts[1], float(parts[2])


def live_tail_latencies(emu, lam, n):
    import http.client
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.eventstream import EventStreamBuffer
    ak, sk = emu.credentials()
    body = json.dumps({"logGroupIdentifiers": ["/aws/lambda/bench"]})
    req = AWSRequest(method="POST", url=emu.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Logs_20140328.StartLiveTail"})
    SigV4Auth(Credentials(ak, sk), "logs", emu.region).add_auth(req)
    u = urllib.parse.urlparse(emu.endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
    resp = conn.getresponse()
    buf = EventStreamBuffer()
    got = {}
    started = threading.Event()

    def reader():
        while len(got) < n:
            chunk = resp.read1(65536)
            if not chunk:
                return
            buf.add_data(chunk)
            now = time.time()
            for m in buf:
                if m.headers[":event-type"] == "sessionStart":
                    started.set()
                if m.headers[":event-type"] != "sessionUpdate":
                    continue
                for r in json.loads(m.payload)["sessionResults"]:
                    p = parse(r["message"])
                    if p and p[0].startswith("lt"):
                        got[p[0]] = (now - p[1]) * 1000
    t = threading.Thread(target=reader)
    t.start()
    started.wait(10)
    for i in range(n):
        lam.invoke(FunctionName="bench", Payload=json.dumps({"marker": "lt%d" % i}).encode())
        time.sleep(0.2)
    t.join(30)
    conn.close()
    return list(got.values())


def cli_tail_latencies(emu, lam, n):
    p = subprocess.Popen([AWS, "--endpoint-url", emu.endpoint, "logs", "tail",
                          "/aws/lambda/bench", "--follow", "--since", "1s"],
                         env=emu.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    got = {}

    def reader():
        for line in p.stdout:
            now = time.time()
            r = parse(line.decode(errors="replace"))
            if r and r[0].startswith("cli"):
                got[r[0]] = (now - r[1]) * 1000
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    time.sleep(3)  # the CLI's start-up
    for i in range(n):
        lam.invoke(FunctionName="bench", Payload=json.dumps({"marker": "cli%d" % i}).encode())
        time.sleep(2.3)  # spread over the CLI's 5 s poll period
    deadline = time.time() + 15
    while len(got) < n and time.time() < deadline:
        time.sleep(0.2)
    p.terminate()
    p.wait()
    return list(got.values())


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with Emulator(args=["--quiet"] if "--quiet" in sys.argv else []) as emu:
        lam = emu.client("lambda")
        lam.create_function(FunctionName="bench", Runtime="python3.12", Handler="app.handler",
                            Role="arn:aws:iam::000000000000:role/x",
                            Code={"ZipFile": make_zip()})
        lam.invoke(FunctionName="bench", Payload=b'{"marker":"warm"}')
        lt = live_tail_latencies(emu, lam, n)
        cli = cli_tail_latencies(emu, lam, max(5, n // 4))
    def stats(v):
        v = sorted(v)
        return "n=%d p50=%.1f ms p90=%.1f ms max=%.1f ms" % (
            len(v), statistics.median(v), v[int(0.9 * (len(v) - 1))], v[-1])
    print("StartLiveTail (lambdeck emulator):  " + stats(lt))
    print("aws logs tail --follow (same emu):  " + stats(cli))
    print("ratio of medians (cli / live tail): %.1fx" % (statistics.median(cli) /
                                                       statistics.median(lt)))


if __name__ == "__main__":
    main()
