"""emu.py - start a private lambdeck emulator for a python test.

    import sys, os; sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
    from emu import Emulator
    with Emulator() as emu:                 # Emulator(args=["--any-credentials"]) etc.
        emu.aws("lambda", "list-functions")  # /usr/bin/aws --endpoint-url ..., parsed JSON
        lam = emu.client("lambda")           # botocore client signed with the emulator's keys
        emu.restart()                        # same state dir (persistence tests)

Attributes after start: endpoint, region, credentials_file, state_dir, log_path, env (a
copy of os.environ with AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE=lambdeck-local, AWS_REGION,
AWS_EC2_METADATA_DISABLED=true, AWS_CONFIG_FILE=/dev/null and ENDPOINT set). On exit the
emulator gets SIGTERM; a non-zero exit status (crash, sanitizer report) raises. Needs
$LAMBDECK. Ephemeral port, temp dirs. The emulator runs with --exit-with-parent: if the
test process is killed, the emulator stops too (start it from the thread that lives longest).
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

AWS = "/usr/bin/aws"


class EmulatorError(Exception):
    pass


def small_asan_quarantine():
    """For memory-bound tests: a sanitizer build keeps freed memory in a quarantine (256 MB
    by default), so emulators started after this call keep only a few MB there and the RSS
    measured is what the emulator holds. No effect on a build without sanitizers."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    os.environ["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
        "quarantine_size_mb=8:thread_local_quarantine_size_kb=64"


def zip_bytes(files):
    """A deployment zip from {name: str|bytes|(content, mode)}; mode 0o755 for executables.
    A value ("->", target) makes a symbolic link entry."""
    import io
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, val in files.items():
            mode = 0o644
            if isinstance(val, tuple) and val[0] == "->":
                info = zipfile.ZipInfo(name)
                info.create_system = 3
                info.external_attr = (0o120777 << 16)
                z.writestr(info, val[1])
                continue
            if isinstance(val, tuple):
                val, mode = val
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = ((0o100000 | mode) << 16)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, val)
    return out.getvalue()


def http_request(url, method, body=b"", headers=None, timeout=60):
    """One HTTP request sent with exactly these headers (a body only for POST/PUT); returns
    (status, headers, body parsed as JSON when it is JSON, else the raw bytes or None)."""
    import urllib.error
    import urllib.request
    r = urllib.request.Request(url, data=body if method in ("POST", "PUT") else None,
                               headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            status, hdrs, data = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, hdrs, data = e.code, e.headers, e.read()
    try:
        data = json.loads(data) if data else None
    except ValueError:
        pass
    return status, hdrs, data


def zip_dir(path, replace=None):
    """A deployment zip of a directory (modes kept); replace maps names to new contents."""
    files = {}
    for root, _dirs, names in os.walk(path):
        for n in sorted(names):
            full = os.path.join(root, n)
            rel = os.path.relpath(full, path)
            with open(full, "rb") as f:
                files[rel] = (f.read(), os.stat(full).st_mode & 0o777)
    for k, v in (replace or {}).items():
        files[k] = v
    return zip_bytes(files)


class Emulator:
    def __init__(self, args=None, state_dir=None, keep=False):
        self.args = list(args or [])
        self.tmp = tempfile.mkdtemp(prefix="lkemu.")
        self.state_dir = state_dir or os.path.join(self.tmp, "state")
        self.log_path = os.path.join(self.tmp, "emulator.log")
        self.keep = keep or bool(os.environ.get("EMU_KEEP"))
        self.proc = None
        self.endpoint = self.region = self.credentials_file = None
        self.env = None

    def start(self):
        exe = os.environ.get("LAMBDECK")
        if not exe:
            raise EmulatorError("LAMBDECK is not set (path of the lambdeck binary)")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [exe, "emulate", "--port", "0", "--state-dir", self.state_dir, "--exit-with-parent"] + self.args,
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            msg = "emulator exited before it was ready (status %s):\n%s" % (
                self.proc.returncode, self.read_log())
            if not self.keep:
                shutil.rmtree(self.tmp, ignore_errors=True)
            raise EmulatorError(msg)
        info = json.loads(line)
        self.info = info
        self.endpoint = info["endpoint"]
        self.region = info["region"]
        self.credentials_file = info["credentials_file"]
        env = dict(os.environ)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                  "AWS_ENDPOINT_URL"):
            env.pop(k, None)
        env.update({
            "AWS_SHARED_CREDENTIALS_FILE": self.credentials_file,
            "AWS_PROFILE": "lambdeck-local",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_PAGER": "",
            "ENDPOINT": self.endpoint,
        })
        self.env = env
        return self

    def read_log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM and wait; returns the exit status, raises if it is not 0."""
        if not self.proc:
            return 0
        p, self.proc = self.proc, None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise EmulatorError("emulator did not stop within 20 s of SIGTERM")
        p.stdout.close()
        if rc != 0:
            raise EmulatorError("emulator exited with status %d:\n%s" % (rc, self.read_log()[-4000:]))
        return rc

    def restart(self):
        self.stop()
        return self.start()

    def rss_kb(self):
        """The emulator process's resident memory (VmRSS) in KiB, from /proc."""
        with open("/proc/%d/status" % self.info["pid"]) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def credentials(self):
        """(access_key, secret_key) from the generated credentials file."""
        import configparser
        cp = configparser.ConfigParser()
        cp.read(self.credentials_file)
        s = cp["lambdeck-local"]
        return s["aws_access_key_id"], s["aws_secret_access_key"]

    def aws(self, *args, check=True, raw=False, input=None):
        """Runs /usr/bin/aws --endpoint-url ENDPOINT --output json ARGS. Returns parsed JSON
        (or the CompletedProcess when raw or check is False)."""
        cp = subprocess.run([AWS, "--endpoint-url", self.endpoint, "--output", "json"] + list(args),
                            env=self.env, capture_output=True, input=input, timeout=60)
        if raw or not check:
            return cp
        if cp.returncode != 0:
            raise EmulatorError("aws %s failed (%d): %s" % (" ".join(args), cp.returncode,
                                                           cp.stderr.decode(errors="replace")))
        out = cp.stdout.decode()
        return json.loads(out) if out.strip() else None

    def client(self, service, retries=True, read_timeout=60):
        """botocore client for the emulator; retries=False turns botocore's automatic retries
        (e.g. of 429 TooManyRequestsException) off."""
        import botocore.config
        import botocore.session
        s = botocore.session.Session()
        ak, sk = self.credentials()
        cfg = botocore.config.Config(read_timeout=read_timeout,
                                     retries=None if retries else {"max_attempts": 0})
        return s.create_client(service, region_name=self.region, endpoint_url=self.endpoint,
                               aws_access_key_id=ak, aws_secret_access_key=sk, config=cfg)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            if not self.keep:
                shutil.rmtree(self.tmp, ignore_errors=True)
        return False
