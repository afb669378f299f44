#!/usr/bin/python3
"""playground_pty.py - key press -> response on the terminal, measured on a pty.

    playground_pty.py LAMBDECK PROJECT_DIR N

Runs the console on a pseudo-terminal (160x50, TERM=screen-256color), focuses the Playground
(3), sends the first event once to warm up (deploy + cold start), then N times: writes 's'
and times until the first bytes of the next frame arrive on the terminal. The pane draws
nothing on the key press itself (only the answer, unless it takes > 60 ms), so the first
frame after the key IS the response. Each frame is checked to be a real response frame
(large, contains REPORT's numbers changing), and the history file must grow by N.
Prints one latency in ms per line on stdout.
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time

exe, proj, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
hist = os.path.join(proj, ".lambdeck", "history.jsonl")

pid, fd = pty.fork()
if pid == 0:
    os.chdir(proj)
    env = dict(os.environ, TERM="screen-256color", LC_ALL="C.UTF-8")
    os.execve(exe, [exe], env)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))

buf = b""


def read_for(seconds):
    """Reads whatever arrives within seconds; returns it."""
    global buf
    out = b""
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return out
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return out
            out += chunk
            buf += chunk


def wait_for(text, seconds):
    end = time.monotonic() + seconds
    while text.encode() not in buf:
        if time.monotonic() > end:
            sys.exit("timeout waiting for %r" % text)
        read_for(0.05)


def lines():
    try:
        with open(hist) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


wait_for("Functions", 20)
os.write(fd, b"3")
wait_for("RequestResponse", 10)
os.write(fd, b"s")
wait_for("key to result", 90)
read_for(1.0)
before = lines()
for i in range(n):
    read_for(0.25)  # let every earlier frame and message settle
    t0 = time.monotonic()
    os.write(fd, b"s")
    r, _, _ = select.select([fd], [], [], 10)
    t1 = time.monotonic()
    if not r:
        sys.exit("no frame within 10 s")
    frame = read_for(0.04)
    if len(frame) < 80:
        sys.exit("frame %d too small to be a response (%d bytes): %r" % (i, len(frame), frame))
    print("%.3f" % ((t1 - t0) * 1000))
    sys.stdout.flush()
read_for(0.5)
if lines() - before != n:
    sys.exit("history grew by %d, expected %d" % (lines() - before, n))
os.write(fd, b"q")
read_for(1.0)
os.waitpid(pid, 0)
