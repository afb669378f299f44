#!/usr/bin/python3
"""logs_flood.py - the Logs pane under a log flood (issue 9, benchmark 8), next to
`aws logs tail --follow` for the same log group in the same run.

A project with one Python function `flood` that prints RATE lines/s (68 bytes each, each
carrying its planned print time) for SECONDS, invoked once in LOCAL mode (the console's own
emulator). The console runs on a 120x40 pty (TERM=xterm-256color, C.UTF-8) with the Logs
pane focused and zoomed; its output is fed to a terminal emulator (pyte) so the benchmark
sees what a person would. During the flood it measures:

  1. key latency: p (pause: "PAUSED (" appears), p (resume: it goes), f (the filter prompt
     appears), Escape (it goes), t (times in UTC: "Z" after them; every held line is
     rendered again), t (local again) in turn; the time from writing the key to the pty until the
     output chunk after which the screen shows the effect. The same probes on the idle
     console before the flood are the baseline.
  2. memory: the console's RSS once a second (max, last) against its 50 000-line bound.
  3. terminal bytes/s (goal <= 300 KB/s), the newest flood line on screen and its lag.

In the same run `aws logs tail /aws/lambda/flood --follow` (/usr/bin/aws, the emulator's
endpoint and credentials) runs on its own 120x40 pty: its bytes/s, the flood lines it
printed and their lag (arrival minus planned print time).

usage: bench/logs_flood.py [--lambdeck PATH] [--seconds 10] [--rate 20000]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import COLS, ROWS, RATE, Pty, env_for, percentile, write_flood_project  # noqa: E402

FLOOD_RE = re.compile(rb"flood (\d+) (\d+\.\d+)")
FLOOD_RE_S = re.compile(r"flood (\d+) (\d+\.\d+)")
WALL = time.time() - time.monotonic()  # monotonic -> Unix time


def rss_kb(pid, field="VmRSS:"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def has(text):
    return lambda c: any(text in row for row in c.lines())


def lacks(text):
    return lambda c: not any(text in row for row in c.lines())


PROBES = [("p", b"p", has("PAUSED (")),
          ("p", b"p", lacks("PAUSED")),
          ("f", b"f", has("filter (text or /regex/):")),
          ("Esc", b"\x1b", lacks("filter (text or /regex/):")),
          ("t", b"t", has("Z flood")),  # UTC: re-renders every held line (up to 50 000)
          ("t", b"t", lacks("Z flood"))]


def probe_round(c, samples, timeouts, stop=None, gap=0.1, by_key=None):
    """Runs the probes in turn (until stop is set, or once) into samples (ms) and, per key,
    into by_key."""
    by_key = {} if by_key is None else by_key
    while True:
        for name, key, pred in PROBES:
            if pred(c):  # never time a key whose effect is already on screen
                raise SystemExit("probe %s: its effect is on screen before the key" % name)
            dt = c.key_latency(key, pred, 3.0)
            if dt is None:
                timeouts.append(name)
                c.wait_screen(pred, 10)
            else:
                samples.append(dt * 1000)
                by_key.setdefault(name, []).append(dt * 1000)
            time.sleep(gap)
        if stop is None or stop.is_set():
            return


def newest_on_screen(c):
    """(n, planned time) of the newest flood line on the console's screen, or None."""
    best = None
    for row in c.lines():
        m = FLOOD_RE_S.search(row)
        if m and (best is None or int(m.group(1)) > best[0]):
            best = (int(m.group(1)), float(m.group(2)))
    return best


def lat_stats(v):
    if not v:
        return "n=0"
    return "n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms" % (
        len(v), statistics.median(v), percentile(v, 99), max(v))


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--lambdeck", default=os.environ.get("LAMBDECK",
                    os.path.join(here, "..", "build-rel", "lambdeck")))
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rate", type=int, default=RATE)
    a = ap.parse_args()
    lk = os.path.abspath(a.lambdeck)
    tmp = tempfile.mkdtemp(prefix="lk-logsflood.")
    c = tail = None
    try:
        proj = os.path.join(tmp, "proj")
        write_flood_project(proj, a.rate, stamped=True)
        env = env_for(tmp)
        c = Pty([lk], proj, env, screen=True)
        if not c.wait_for(b"127.0.0.1:", 60):
            raise SystemExit("console did not get its emulator: %r" % c.text()[-400:])
        c.send(b"2")
        time.sleep(0.3)
        c.send(b"z")
        # deploy + a warm worker before measuring, so the measured invoke is the flood only
        r = subprocess.run([lk, "invoke", "flood", "--event", '{"seconds": 0}'], cwd=proj,
                           env=env, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit("warm-up invoke failed: " + r.stderr[-800:])
        if not c.wait_screen(has("live tail"), 30):
            raise SystemExit("the Logs pane is not on live tail:\n" + "\n".join(c.lines()))
        with open(os.path.join(proj, ".lambdeck", "emulator", "endpoint")) as f:
            ep = json.loads(f.readline())
        aenv = dict(env, AWS_SHARED_CREDENTIALS_FILE=ep["credentials_file"],
                    AWS_PROFILE="lambdeck-local", AWS_REGION=ep["region"],
                    AWS_CONFIG_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="")
        tail = Pty(["/usr/bin/aws", "--endpoint-url", ep["endpoint"], "logs", "tail",
                    "/aws/lambda/flood", "--follow", "--since", "1m"], proj, aenv)
        time.sleep(6)  # aws logs tail's first poll

        idle, idle_to = [], []
        for _ in range(5):
            probe_round(c, idle, idle_to)

        # the flood
        rss = []  # (t, kB)
        stop = threading.Event()
        lagc = []  # console: (t, lag s) each time the newest line on screen changes

        def sampler():
            last_n = -1
            next_rss = time.monotonic()
            while not stop.is_set():
                with c.lock:
                    nw = newest_on_screen(c)
                    t = c.chunks[-1][0]
                if nw and nw[0] != last_n:
                    last_n = nw[0]
                    lagc.append((t, t + WALL - nw[1], nw[0]))
                if time.monotonic() >= next_rss:
                    rss.append((time.monotonic(), rss_kb(c.pid)))
                    next_rss += 1.0
                time.sleep(0.05)

        smp = threading.Thread(target=sampler, daemon=True)
        smp.start()
        res = {}

        def invoke():
            res["t0"] = time.monotonic()
            res["r"] = subprocess.run(
                [lk, "invoke", "flood", "--event", '{"seconds": %s}' % a.seconds], cwd=proj,
                env=env, capture_output=True, text=True)
            res["t1"] = time.monotonic()
            inv_done.set()

        inv_done = threading.Event()
        cpu0 = (cpu_s(c.pid), cpu_s(tail.pid), os.times().elapsed)
        threading.Thread(target=invoke, daemon=True).start()
        time.sleep(0.5)
        busy, busy_to, busy_keys = [], [], {}
        probe_round(c, busy, busy_to, stop=inv_done, by_key=busy_keys)
        cpu_flood = (cpu_s(c.pid) - cpu0[0], os.getloadavg()[0])
        settle = 15.0  # aws logs tail polls every 5 s and lags the flood by several s
        time.sleep(settle)
        cpu_tail = cpu_s(tail.pid) - cpu0[1]
        stop.set()
        smp.join()
        t0, t1 = res["t0"], res["t1"]
        r = res["r"]
        if r.returncode:
            raise SystemExit("flood invoke failed: " + r.stderr[-800:])
        m = re.search(r'"lines":\s*(\d+)', r.stdout + r.stderr)
        printed = int(m.group(1)) if m else -1
        end = t1 + settle
        final_screen = "\n".join(c.lines())
        c_bytes = c.bytes_between(t0, end)

        # aws logs tail: lines, lag, bytes
        t_bytes = tail.bytes_between(t0, end)
        seen, lag_t = set(), []
        with tail.lock:
            chunks = list(tail.chunks)
        carry = b""
        for t, b in chunks:
            data = carry + b
            cut = data.rfind(b"\n") + 1
            for mm in FLOOD_RE.finditer(data[:cut]):
                n = int(mm.group(1))
                if n not in seen:
                    seen.add(n)
                    if t >= t0:
                        lag_t.append((t + WALL - float(mm.group(2))) * 1000)
            carry = data[cut:]

        dur = t1 - t0
        window = end - t0
        rmax = max(k for _, k in rss) if rss else 0
        rlast = rss[-1][1] if rss else 0
        per_s_c = [c.bytes_between(t0 + i, t0 + i + 1) for i in range(int(window))]
        per_s_t = [tail.bytes_between(t0 + i, t0 + i + 1) for i in range(int(window))]
        lag_c = [x[1] * 1000 for x in lagc if x[0] >= t0]
        last_c = max((x for x in lagc), key=lambda x: x[2], default=None)

        print("flood: %d lines/s requested for %.0f s; the function printed %d lines in %.2f s "
              "(%.0f lines/s); console %dx%d, Logs pane focused + zoomed" %
              (a.rate, a.seconds, printed, dur, printed / dur, COLS, ROWS))
        print()
        print("| | `lambdeck` Logs pane | `aws logs tail --follow` |")
        print("|---|---|---|")
        print("| terminal bytes/s over the flood (invoke start .. end + %.0f s, / invoke time) "
              "| %.0f (%.1f KB/s) | %.0f (%.1f KB/s) |" %
              (settle, c_bytes / dur, c_bytes / dur / 1000, t_bytes / dur, t_bytes / dur / 1000))
        print("| max bytes in any 1 s of it | %d | %d |" % (max(per_s_c), max(per_s_t)))
        print("| flood lines delivered | newest shown: #%s (of %d); the pane keeps the newest "
              "50 000 | %d of %d printed |" %
              (last_c[2] if last_c else "-", printed, len(seen), printed))
        print("| lag, planned print -> on the terminal | %s | %s |" %
              (lat_stats(lag_c), lat_stats(lag_t)))
        print("| key latency during the flood (write -> screen shows it) | %s%s | - |" %
              (lat_stats(busy), "; timeouts (> 3 s): %s" % busy_to if busy_to else ""))
        print("| key latency, idle console (same probes, before the flood) | %s%s | - |" %
              (lat_stats(idle), "; timeouts: %s" % idle_to if idle_to else ""))
        print("| CPU used (flood: console; flood + settle: aws) | %.2f s in %.1f s (%.0f%% of a "
              "core) | %.2f s in %.1f s (%.0f%% of a core) |" %
              (cpu_flood[0], dur, 100 * cpu_flood[0] / dur, cpu_tail, window,
               100 * cpu_tail / window))
        print("| console RSS, sampled each second | max %.1f MB, last %.1f MB (%d samples) "
              "| - |" % (rmax / 1024, rlast / 1024, len(rss)))
        print()
        print("machine: %d cores, 1-min load average at the end of the flood %.2f" %
              (os.cpu_count(), cpu_flood[1]))
        print("console RSS per second (MB): " +
              " ".join("%.1f" % (k / 1024) for _, k in rss))
        print("console bytes per second: " + " ".join(str(x) for x in per_s_c))
        print("aws logs tail bytes per second: " + " ".join(str(x) for x in per_s_t))
        for name in ("p", "f", "Esc", "t"):
            print("key latency during the flood, %s: %s" % (name, lat_stats(busy_keys.get(name, []))))
        print("Logs pane header after the flood:")
        for row in final_screen.splitlines()[:3]:
            print("    " + row.rstrip())
    finally:
        if c:
            c.send(b"q")
            if c.wait(15) is None:
                print("the console did not quit on q (killed)", file=sys.stderr)
        if tail:
            try:
                os.kill(tail.pid, 15)
            except OSError:
                pass
            tail.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
