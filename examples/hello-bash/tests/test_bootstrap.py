"""Runs the real bootstrap against a minimal Lambda Runtime API on loopback."""
import json
import os
import queue
import signal
import subprocess
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "/2018-06-01/runtime"


class RuntimeAPI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, events):
        super().__init__(("127.0.0.1", 0), Handler)
        self.events = queue.Queue()
        for e in events:
            self.events.put(e)
        self.results = queue.Queue()
        self.done = threading.Event()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != PREFIX + "/invocation/next":
            self.send_error(404)
            return
        try:
            req_id, event = self.server.events.get(timeout=10)
        except queue.Empty:
            self.send_error(500)
            return
        body = json.dumps(event).encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", req_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", "9999999999999")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = self.path[len(PREFIX):].split("/")  # ['', 'invocation', id, kind]
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        kind = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if len(parts) == 4 and parts[1] == "invocation":
            self.server.results.put((parts[2], parts[3], body, kind))
        elif parts[1:] == ["init", "error"]:
            self.server.results.put((None, "init-error", body, kind))


class BootstrapTest(unittest.TestCase):
    def run_bootstrap(self, events, handler="function.handler"):
        api = RuntimeAPI(events)
        thread = threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        env = dict(os.environ, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % api.server_address[1],
                   LAMBDA_TASK_ROOT=ROOT, _HANDLER=handler)
        proc = subprocess.Popen([os.path.join(ROOT, "bootstrap")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        results = []
        try:
            for _ in events or [None]:
                results.append(api.results.get(timeout=10))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # bash and its curl
            _, stderr = proc.communicate(timeout=10)
            api.shutdown()
            api.server_close()
        return results, stderr.decode()

    def test_response_echoes_event(self):
        results, logs = self.run_bootstrap([("req-1", {"name": "Ada"})])
        req_id, kind, body, _ = results[0]
        self.assertEqual((req_id, kind), ("req-1", "response"))
        self.assertEqual(json.loads(body), {"message": "hello from bash", "event": {"name": "Ada"}})
        self.assertIn("received", logs)

    def test_loop_serves_several_events_and_errors(self):
        results, _ = self.run_bootstrap([("a", {"n": 1}), ("b", {"fail": True}), ("c", {"n": 3})])
        self.assertEqual([(r[0], r[1]) for r in results],
                         [("a", "response"), ("b", "error"), ("c", "response")])
        err = json.loads(results[1][2])
        self.assertEqual(err["errorType"], "HandlerError")
        self.assertIn("asked to fail", err["errorMessage"])
        self.assertEqual(results[1][3], "Unhandled")

    def test_missing_handler_is_an_init_error(self):
        results, _ = self.run_bootstrap([], handler="nope.handler")
        _, kind, body, _ = results[0]
        self.assertEqual(kind, "init-error")
        self.assertIn("not found", json.loads(body)["errorMessage"])


if __name__ == "__main__":
    unittest.main()
