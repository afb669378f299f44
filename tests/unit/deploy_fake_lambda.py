#!/usr/bin/python3
"""deploy_fake_lambda.py - a scripted Lambda + S3 peer for test_deploy.c, for what the local
emulator never does: ResourceConflictException while an update runs, LastUpdateStatus
InProgress for a few polls, and Failed with a reason. Loopback only, ephemeral port.

Usage: deploy_fake_lambda.py LOGFILE  (prints the port, then serves until killed)
Functions are created through the control path POST /_control/reset with a JSON body
{"functions": {"Name": {"sha": "...", "conflicts": 2, "polls": 2, "fail": "reason"}}}.
Every request is appended to LOGFILE as "METHOD PATH" (one per line)."""
import base64
import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1]
lock = threading.Lock()
functions = {}
objects = {}


def config(name, f):
    return {"FunctionName": name, "CodeSha256": f["sha"], "State": "Active",
            "LastUpdateStatus": f["status"],
            **({"LastUpdateStatusReason": f["reason"]} if f.get("reason") else {})}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body, err=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "fake-1")
        if err:
            self.send_header("x-amzn-ErrorType", err)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self, method):
        path = self.path.split("?")[0]
        data = self.body()
        with lock:
            with open(LOG, "a") as f:
                f.write(f"{method} {path}\n")
            if path == "/_control/reset":
                functions.clear()
                for name, spec in json.loads(data)["functions"].items():
                    functions[name] = {"sha": spec.get("sha", "none"), "status": "Successful",
                                       "conflicts": spec.get("conflicts", 0),
                                       "polls": spec.get("polls", 0), "fail": spec.get("fail"),
                                       "pending": None, "left": 0, "reason": None}
                return self.reply(200, {})
            parts = path.split("/")
            if method == "PUT" and len(parts) >= 3 and parts[1] == "bkt":
                objects["/".join(parts[2:])] = data
                return self.reply(200, {})
            if len(parts) >= 4 and parts[1] == "2015-03-31" and parts[2] == "functions":
                name = parts[3]
                f = functions.get(name)
                if f is None:
                    return self.reply(404, {"message": f"Function not found: {name}"},
                                      "ResourceNotFoundException")
                tail = parts[4] if len(parts) > 4 else ""
                if method == "GET" and tail == "":
                    return self.reply(200, {"Configuration": config(name, f), "Code": {}})
                if method == "GET" and tail == "configuration":
                    if f["status"] == "InProgress":
                        f["left"] -= 1
                        if f["left"] <= 0:
                            if f["fail"]:
                                f["status"], f["reason"] = "Failed", f["fail"]
                            else:
                                f["status"], f["sha"] = "Successful", f["pending"]
                    return self.reply(200, config(name, f))
                if method == "PUT" and tail == "code":
                    if f["status"] == "InProgress" or f["conflicts"] > 0:
                        f["conflicts"] = max(0, f["conflicts"] - 1)
                        return self.reply(409, {"message": "The operation cannot be performed at this time. An update is in progress for resource"},
                                          "ResourceConflictException")
                    req = json.loads(data)
                    if "ZipFile" in req:
                        z = base64.b64decode(req["ZipFile"])
                    else:
                        z = objects[req["S3Key"]] if req.get("S3Bucket") == "bkt" else b""
                    f["pending"] = base64.b64encode(hashlib.sha256(z).digest()).decode()
                    if f["polls"] > 0 or f["fail"]:
                        f["status"], f["left"] = "InProgress", max(1, f["polls"])
                    else:
                        f["sha"] = f["pending"]
                    return self.reply(200, config(name, f))
            return self.reply(400, {"message": f"unexpected {method} {path}"}, "InvalidRequest")

    def do_GET(self):
        self.handle_any("GET")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_POST(self):
        self.handle_any("POST")


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
