#!/usr/bin/python3
"""bandwidth.py - bytes per second written to the terminal (120x40) while a function floods
its log at ~20 000 lines/s, for the console (default and --low-bandwidth) and, in the same
run, for `tail -f` of the same rate of lines in a tmux pane of the same size (bytes the tmux
client writes to its terminal). Also: bytes of one full redraw (C-l) of an idle console.

usage: bench/bandwidth.py [--lambdeck PATH] [--seconds N] [--runs N]
"""
import argparse, os, shutil, subprocess, sys, tempfile, time, statistics

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import RATE, COLS, ROWS, Pty, env_for, write_flood_project  # noqa: E402


def console_run(lk, proj, home, extra, seconds):
    c = Pty([lk] + extra, proj, env_for(home))
    if not c.wait_for(b"127.0.0.1:", 60):
        raise SystemExit("console did not get its emulator: %r" % c.text()[-400:])
    time.sleep(1.0)
    # one full redraw of the idle console
    t0 = time.monotonic()
    c.send(b"\x0c")
    time.sleep(1.0)
    redraw = c.bytes_between(t0, time.monotonic())
    # deploy once before measuring so the measured invoke is the flood only
    subprocess.run([lk, "invoke", "flood", "--event", '{"seconds": 0}'], cwd=proj,
                   env=env_for(home), capture_output=True)
    time.sleep(1.5)
    idle0 = time.monotonic()
    time.sleep(2.0)
    idle = c.bytes_between(idle0, time.monotonic())
    mark = time.monotonic()
    r = subprocess.run([lk, "invoke", "flood", "--event", '{"seconds": %s}' % seconds],
                       cwd=proj, env=env_for(home), capture_output=True, text=True)
    end = time.monotonic()
    if r.returncode != 0:
        raise SystemExit("invoke failed: " + r.stderr[-800:])
    time.sleep(3.0)  # the tail catches up
    first = c.first_time(b"flood ")
    if first is None:
        raise SystemExit("the flood never reached the console's Logs pane; invoke said: "
                         + (r.stdout + r.stderr)[-400:])
    end2 = time.monotonic()
    # everything the flood cost the terminal (from the invoke until the tail settled),
    # per second of the invocation (deploy included: a few ms, the function is prebuilt)
    total = c.bytes_between(mark, end2)
    start = end2 - (end - mark)
    c.send(b"q")
    c.wait(15)
    return total / (end2 - start), redraw, idle / 2.0


def tmux_tail_run(tmp, seconds):
    log = os.path.join(tmp, "flood.log")
    open(log, "w").close()
    sock = "lkbw%d" % os.getpid()
    env = env_for(tmp)
    c = Pty(["tmux", "-L", sock, "-f", "/dev/null", "new-session", "-x", str(COLS), "-y", str(ROWS),
             "tail", "-f", log], tmp, env)
    time.sleep(1.5)
    start = time.monotonic()
    n = 0
    pad = "x" * 60
    with open(log, "a") as f:
        while time.monotonic() - start < seconds:
            f.write("".join("flood %d %s\n" % (n + i, pad) for i in range(200)))
            f.flush()
            n += 200
            ahead = start + n / RATE - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    time.sleep(1.0)
    end = time.monotonic()
    total = c.bytes_between(start, end)
    subprocess.run(["tmux", "-L", sock, "kill-server"], env=env, capture_output=True)
    c.wait(10)
    return total / (end - start), n / seconds


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--lambdeck", default=os.environ.get("LAMBDECK",
                    os.path.join(here, "..", "build", "lambdeck")))
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    lk = os.path.abspath(a.lambdeck)
    tmp = tempfile.mkdtemp(prefix="lk-bw.")
    try:
        proj = os.path.join(tmp, "proj")
        write_flood_project(proj)
        res = {"default": [], "low": [], "tmux": []}
        redraws = {"default": [], "low": []}
        idles = {"default": [], "low": []}
        rate = []
        for _ in range(a.runs):
            for name, extra in (("default", []), ("low", ["--low-bandwidth"])):
                bps, rd, idle = console_run(lk, proj, tmp, extra, a.seconds)
                res[name].append(bps)
                redraws[name].append(rd)
                idles[name].append(idle)
            bps, lps = tmux_tail_run(tmp, a.seconds)
            res["tmux"].append(bps)
            rate.append(lps)
        med = {k: statistics.median(v) for k, v in res.items()}
        print("flood: %d lines/s requested, %.0f lines/s written to the tail -f file; %dx%d, %d runs, %s s each"
              % (RATE, statistics.median(rate), COLS, ROWS, a.runs, a.seconds))
        print("| terminal output | median bytes/s | vs tmux+tail -f |")
        print("|---|---|---|")
        for k, label in (("default", "lambdeck (default)"), ("low", "lambdeck --low-bandwidth"),
                         ("tmux", "tail -f in a tmux pane")):
            print("| %s | %.0f (%.1f KB/s) | %.2fx |" % (label, med[k], med[k] / 1000, med[k] / med["tmux"]))
        for k in ("default", "low"):
            print("full redraw (C-l) %s: %d bytes; idle: %.0f bytes/s"
                  % (k, statistics.median(redraws[k]), statistics.median(idles[k])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
