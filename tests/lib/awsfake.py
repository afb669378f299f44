"""A scripted loopback HTTP server for the aws module's tests: each request pops the next
scripted reply; every request is recorded (method, path, query, headers, body) and its SigV4
signature is checked with botocore. Not an AWS emulation: the test says what to answer.

Reply forms: dict(status=, headers={}, body=bytes|str|dict), or actions
dict(action="sleep", seconds=) (then no reply), dict(action="truncate", body=, length=),
dict(action="close"), dict(action="stream", frames=[bytes...], delay=)."""
import json
import os
import socket
import struct
import subprocess
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AK = "AKIDLAMBDECKTEST0001"
SK = "lambdeck/test/secret/key/0000000000000000"
TOOL = os.path.join(os.environ.get("LAMBDECK_BUILD", "build"), "tests-tools", "lk-awstool")


def check_signature(method, raw_path, headers, body, secret=SK):
    """Recomputes the request's SigV4 signature with botocore; returns None or a reason."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization header"
    parts = dict(p.strip().split("=", 1) for p in auth[17:].split(","))
    scope = parts["Credential"].split("/")
    signed = parts["SignedHeaders"].split(";")
    req = AWSRequest(method=method, url="http://" + headers["Host"] + raw_path,
                     headers={h: headers[h] for h in headers.keys()
                              if h.lower() in signed and h.lower() != "host"},
                     data=body)
    req.headers["Host"] = headers["Host"]
    cls = S3SigV4Auth if scope[3] == "s3" else SigV4Auth
    signer = cls(Credentials(scope[0], secret), scope[3], scope[2])
    req.context["timestamp"] = headers["X-Amz-Date"]
    cr = signer.canonical_request(req)
    sig = signer.signature(signer.string_to_sign(req, cr), req)
    if sig != parts["Signature"]:
        return "signature mismatch; botocore canonical request:\n" + cr
    return None


def frame(headers, payload):
    """One event-stream message (headers: list of (name, string value))."""
    hb = b""
    for name, value in headers:
        n, v = name.encode(), value.encode()
        hb += bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v
    total = 12 + len(hb) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hb))
    msg = prelude + struct.pack(">I", zlib.crc32(prelude)) + hb + payload
    return msg + struct.pack(">I", zlib.crc32(msg))


def event(event_type, obj):
    return frame([(":message-type", "event"), (":event-type", event_type),
                  (":content-type", "application/json")], json.dumps(obj).encode())


class Server:
    def __init__(self, verify=True, default_reply=None, tls=None):
        self.verify = verify
        self.default_reply = default_reply
        self.clients = set()
        self.script = []
        self.requests = []
        self.errors = []
        self.lock = threading.Lock()
        srv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                # Headers and body go out in separate writes: without this, Nagle + the
                # client's delayed ACK add 40 ms to every keep-alive request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                u = urlsplit(self.path)
                hdrs = {k: v for k, v in self.headers.items()}
                rec = dict(method=self.command, path=u.path, query=u.query, headers=hdrs,
                           body=body, raw_path=self.path)
                problem = check_signature(self.command, self.path, hdrs, body) if srv.verify else None
                with srv.lock:
                    srv.requests.append(rec)
                    srv.clients.add(self.client_address)
                    if problem:
                        srv.errors.append(f"{self.command} {self.path}: {problem}")
                    if srv.script:
                        reply = srv.script.pop(0)
                    else:
                        reply = srv.default_reply or dict(status=599, body="unscripted")
                srv.reply(self, reply)

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # clients that cancel or time out close mid-reply, on purpose

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        if tls:  # (certfile, keyfile)
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.url = f"https://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def reply(self, h, r):
        act = r.get("action")
        if act == "sleep":
            time.sleep(r["seconds"])
            h.close_connection = True
            return
        if act == "close":
            h.close_connection = True
            return
        body = r.get("body", b"")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        h.send_response(r.get("status", 200))
        for k, v in r.get("headers", {}).items():
            h.send_header(k, v)
        if act == "stream":
            h.send_header("Content-Type", "application/vnd.amazon.eventstream")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            for f in r["frames"]:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(f), f))
                h.wfile.flush()
                time.sleep(r.get("delay", 0))
            if not r.get("no_end"):
                h.wfile.write(b"0\r\n\r\n")
            h.close_connection = True
            return
        if act == "truncate":
            h.send_header("Content-Length", str(r["length"]))
            h.end_headers()
            h.wfile.write(body)
            h.wfile.flush()
            h.close_connection = True
            return
        h.send_header("Content-Length", str(len(body)))
        if "Content-Type" not in r.get("headers", {}):
            h.send_header("Content-Type", "application/json")
        h.end_headers()
        h.wfile.write(body)

    def expect(self, *replies):
        with self.lock:
            self.script = list(replies)
            self.requests = []

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def base_env(tmp, extra=None):
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "AWS_ACCESS_KEY_ID": AK,
           "AWS_SECRET_ACCESS_KEY": SK, "AWS_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "LC_ALL": "C.UTF-8",
           "AWS_CONFIG_FILE": os.path.join(tmp, "nonexistent-config"),
           "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "nonexistent-credentials")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(extra or {})
    return env


def call(env, *args, timeout=60):
    """Runs lk-awstool call ...; returns (parsed last JSON line, exit code, stdout, stderr)."""
    p = subprocess.run([TOOL, "call", *args], env=env, capture_output=True, timeout=timeout)
    out = p.stdout.decode()
    lines = [l for l in out.splitlines() if l.startswith("{")]
    res = json.loads(lines[-1]) if lines else None
    return res, p.returncode, out, p.stderr.decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
