"""benchlib.py - what the pty benchmarks share (bench/bandwidth.py, bench/logs_flood.py):
a log-flood Python function for a project, a child on a 120x40 pty whose output is recorded
with timestamps (and optionally fed to a pyte screen so a benchmark can wait for what a
person would see), the pinned environment, and percentiles.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import threading
import time

RATE = 20000
COLS, ROWS = 120, 40


def flood_source(rate=RATE, stamped=False):
    """A python3.12 handler that prints `rate` lines/s (68 bytes each) for event["seconds"];
    stamped: each line carries its planned print time (Unix s), so a follower's lag can be
    measured per line; the line length stays 68 bytes."""
    if stamped:
        line = '"flood %d %.3f %s" % (n, t0 + n / rate, pad[:45])'
    else:
        line = '"flood %d %s" % (n, pad)'
    return '''import time
def handler(event, context):
    d = float(event.get("seconds", 4)); rate = %d
    t0 = time.time(); n = 0; pad = "x" * 60
    while time.time() - t0 < d:
        for _ in range(200):
            print(%s); n += 1
        ahead = t0 + n / rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
    return {"lines": n}
''' % (rate, line)


def write_flood_project(proj, rate=RATE, stamped=False):
    """A project directory with one function `flood` (flood_source)."""
    os.makedirs(os.path.join(proj, "flood"), exist_ok=True)
    with open(os.path.join(proj, "lambdeck.json"), "w") as f:
        f.write('{"functions": {"flood": {"runtime": "python3.12", "handler": "app.handler",'
                ' "code": "flood", "timeout": 60}}}\n')
    with open(os.path.join(proj, "flood", "app.py"), "w") as f:
        f.write(flood_source(rate, stamped))


def env_for(home):
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TERM": "xterm-256color",
            "LC_ALL": "C.UTF-8", "ASAN_OPTIONS": "detect_leaks=0"}


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


class Pty:
    """A child on a 120x40 pty; a thread records what it writes, with timestamps.
    screen=True also feeds the bytes to a pyte screen (Debian python3-pyte); wait_screen()
    then waits for a predicate on it and returns the time of the chunk that satisfied it."""

    def __init__(self, argv, cwd, env, screen=False):
        self.screen = None
        if screen:
            import pyte
            self.screen = pyte.Screen(COLS, ROWS)
            self.stream = pyte.ByteStream(self.screen)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.chunks = []  # (time, bytes)
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.probe = None  # (predicate, result list) checked after each chunk
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        while True:
            try:
                r, _, _ = select.select([self.fd], [], [], 0.5)
                if not r:
                    continue
                b = os.read(self.fd, 65536)
            except OSError:
                return
            if not b:
                return
            now = time.monotonic()
            with self.lock:
                self.chunks.append((now, b))
                if self.screen is not None:
                    self.stream.feed(b)
                    if self.probe and not self.probe[1] and self.probe[0](self):
                        self.probe[1].append(now)
                self.cond.notify_all()

    def lines(self):
        """The pyte screen's rows as text (call with screen=True)."""
        return self.screen.display

    def text(self):
        with self.lock:
            return b"".join(c for _, c in self.chunks)

    def bytes_between(self, a, b):
        with self.lock:
            return sum(len(c) for t, c in self.chunks if a <= t <= b)

    def first_time(self, needle):
        with self.lock:
            acc = b""
            for t, c in self.chunks:
                acc = (acc + c)[-4096:]
                if needle in acc:
                    return t
        return None

    def wait_for(self, needle, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.text():
                return True
            time.sleep(0.05)
        return False

    def key_latency(self, keys, predicate, timeout):
        """Writes keys and returns the seconds from the write until the output chunk after
        which predicate(self) holds on the screen, or None on timeout."""
        with self.lock:
            got = []
            self.probe = (predicate, got)
            t0 = time.monotonic()
            os.write(self.fd, keys)
            end = t0 + timeout
            while not got and time.monotonic() < end:
                self.cond.wait(end - time.monotonic())
            self.probe = None
        return got[0] - t0 if got else None

    def wait_screen(self, predicate, timeout):
        end = time.monotonic() + timeout
        with self.lock:
            while not predicate(self):
                if time.monotonic() >= end:
                    return False
                self.cond.wait(min(0.5, end - time.monotonic()))
        return True

    def send(self, s):
        os.write(self.fd, s)

    def wait(self, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return st
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return None
