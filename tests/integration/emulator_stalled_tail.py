"""A StartLiveTail client that stops reading must not make the emulator buffer without bound:
while it reads nothing, a function prints ~40 MB; when the client then drains the connection
it gets at most the emulator's cap (16 MiB, plus framing) and then the end of the stream,
instead of an ever-growing backlog."""
import json
import os
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, zip_bytes  # noqa: E402

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

FLOOD = '''
def handler(event, context):
    line = "x" * 1000
    for i in range(event.get("lines", 0)):
        print(i, line)
    return {"printed": event.get("lines", 0)}
'''


def main():
    with Emulator() as emu:
        lam = emu.client("lambda", read_timeout=300)
        lam.create_function(FunctionName="flood", Runtime="python3.12", Handler="app.handler",
                            Role="arn:aws:iam::000000000000:role/lambda", Timeout=300,
                            Code={"ZipFile": zip_bytes({"app.py": FLOOD})})
        lam.invoke(FunctionName="flood", Payload=b'{"lines": 1}')  # creates the log group

        ak, sk = emu.credentials()
        body = json.dumps({"logGroupIdentifiers": ["/aws/lambda/flood"]})
        req = AWSRequest(method="POST", url=emu.endpoint + "/", data=body, headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Logs_20140328.StartLiveTail"})
        SigV4Auth(Credentials(ak, sk), "logs", emu.region).add_auth(req)
        u = urllib.parse.urlparse(emu.endpoint)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the kernel holds little
        sock.connect((u.hostname, u.port))
        head = "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (u.netloc, len(body))
        head += "".join("%s: %s\r\n" % kv for kv in req.headers.items() if kv[0] != "Host")
        sock.sendall((head + "\r\n" + body).encode())

        # The client reads nothing while the function prints 2 x 20 000 lines of 1 KB.
        for _ in range(2):
            r = lam.invoke(FunctionName="flood", Payload=b'{"lines": 20000}')
            assert r["StatusCode"] == 200 and "FunctionError" not in r, r
        time.sleep(1)

        # Now drain: the stream must end, having carried no more than the cap.
        sock.settimeout(20)
        total, start, tail = 0, time.monotonic(), b""
        while True:
            try:
                chunk = sock.recv(1 << 20)
            except socket.timeout:
                raise AssertionError("no data for 20 s after %d bytes: the stream did not end" % total)
            if not chunk:
                break
            total += len(chunk)
            tail = (tail + chunk)[-16:]
            if tail.endswith(b"\r\n0\r\n\r\n"):  # last chunk of a chunked response
                break
            if total > 24 << 20:
                raise AssertionError("more than 24 MB buffered for a stalled client")
            if time.monotonic() - start > 60:
                raise AssertionError("stream did not end after the cap (%d bytes)" % total)
        sock.close()
        assert total > 1 << 20, "expected the buffered events before the end, got %d" % total
        print("ok: stalled live-tail client got %.1f MB, then the end of the stream" % (total / 1e6))

        # The emulator is still fine: a new invocation works.
        r = lam.invoke(FunctionName="flood", Payload=b'{"lines": 1}')
        assert json.loads(r["Payload"].read())["printed"] == 1
        print("ok: emulator still serves after dropping the stalled stream")


if __name__ == "__main__":
    main()
