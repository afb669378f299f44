#!/usr/bin/env python3
"""Benchmark: re-run on save (lambdeck test --watch) against baselines, in the same run.

Measures on a generated 5 000-file tree (250 directories x 20 files):
  * save -> test process started: the test command is `sh -c 'date +%s%N >> STAMP'`; the
    latency is the command's own start timestamp minus the time just before the save
    (so it includes the debounce, 200 ms by default, and sh + date start-up);
  * watcher setup: process start -> "watching N directories" (lambdeck) /
    "Watches established." (inotifywait -r), both including process start-up;
  * idle CPU: utime+stime of the watcher process over an idle window, after setup.
Baselines:
  * inotifywait -m -r (inotify-tools) piped into a shell loop that runs the same command on
    every event (no debounce, no ignore rules beyond an --exclude regex);
  * the polling loop of the portable-function article (`make watch` every 15 s): its latency
    is by construction uniform in 0..15 s (median 7.5 s); we measure what one poll costs
    (a `find -newer` scan of the tree).

Usage: bench/tests_watch.py [LAMBDECK_BINARY] [--saves N] [--idle SECONDS]
Writes a Markdown table to stdout.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CLK = os.sysconf("SC_CLK_TCK")


def gen_tree(root, dirs=250, files=20):
    for d in range(dirs):
        sub = os.path.join(root, "src", f"pkg{d // 25:02d}", f"mod{d:03d}")
        os.makedirs(sub, exist_ok=True)
        for f in range(files):
            with open(os.path.join(sub, f"f{f:02d}.py"), "w") as fh:
                fh.write(f"# file {d}/{f}\nx = {f}\n")
    return dirs * files


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])


def tree_cpu(pid):
    """CPU ticks of pid and its descendants (children in the same session)."""
    total = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            fields = s.rsplit(")", 1)[1].split()
            ppid, sid = int(fields[1]), int(fields[3])
            if int(p) == pid or ppid == pid:
                total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total


def wait_stderr(proc, needle, timeout=60):
    t0 = time.monotonic()
    buf = b""
    os.set_blocking(proc.stderr.fileno(), False)
    while time.monotonic() - t0 < timeout:
        try:
            chunk = proc.stderr.read()
        except BlockingIOError:
            chunk = None
        if chunk:
            buf += chunk
            if needle in buf:
                return
        time.sleep(0.002)
    raise RuntimeError(f"timeout waiting for {needle!r}; got {buf[-500:]!r}")


def read_stamps(path):
    try:
        with open(path) as f:
            return [int(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def measure_saves(root, stamp, saves, settle):
    """Saves a file `saves` times; returns latencies in ms (save -> command started)."""
    target = os.path.join(root, "src", "pkg05", "mod125", "f07.py")
    lat = []
    for i in range(saves):
        before = len(read_stamps(stamp))
        t = time.time_ns()
        with open(target, "w") as fh:
            fh.write(f"x = {i}\n")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            s = read_stamps(stamp)
            if len(s) > before:
                lat.append((s[before] - t) / 1e6)
                break
            time.sleep(0.001)
        else:
            raise RuntimeError("no run after a save")
        time.sleep(settle)
    return lat


def idle_cpu(pid, seconds):
    a = tree_cpu(pid)
    time.sleep(seconds)
    b = tree_cpu(pid)
    return (b - a) / CLK / seconds * 100.0


def bench_lambdeck(binary, root, stamp, saves, idle):
    cmd = [binary, "--project", root, "test", "--watch", "--quiet", "--",
           "sh", "-c", f"date +%s%N >> {stamp}"]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_stderr(p, b"watching ")
        setup = (time.monotonic() - t0) * 1000
        # the first run at start
        deadline = time.monotonic() + 10
        while not read_stamps(stamp) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)
        cpu = idle_cpu(p.pid, idle)
        lat = measure_saves(root, stamp, saves, 0.6)
    finally:
        p.terminate()
        p.wait(10)
    return setup, cpu, lat


def bench_inotifywait(root, stamp, saves, idle):
    script = (f"inotifywait -m -r -e close_write,moved_to,create,delete "
              f"--exclude '/(\\.git|node_modules|__pycache__)/' {root} | "
              f"while read -r line; do sh -c 'date +%s%N >> {stamp}'; done")
    t0 = time.monotonic()
    p = subprocess.Popen(["bash", "-c", script], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_stderr(p, b"Watches established")
        setup = (time.monotonic() - t0) * 1000
        time.sleep(0.5)
        cpu = idle_cpu(p.pid, idle)
        # close_write fires once per save: one command per save (no debounce)
        lat = measure_saves(root, stamp, saves, 0.6)
    finally:
        os.killpg(p.pid, 15)
        p.wait(10)
    return setup, cpu, lat


def bench_poll(root):
    stampf = os.path.join(root, ".poll-stamp")
    open(stampf, "w").close()
    times = []
    for _ in range(5):
        t = time.monotonic()
        subprocess.run(["find", root, "-newer", stampf, "-type", "f"], stdout=subprocess.DEVNULL,
                       check=True)
        times.append((time.monotonic() - t) * 1000)
    return statistics.median(times)


def main():
    args = sys.argv[1:]
    binary = os.path.abspath("build-rel/lambdeck")
    saves, idle = 15, 10
    while args:
        a = args.pop(0)
        if a == "--saves":
            saves = int(args.pop(0))
        elif a == "--idle":
            idle = float(args.pop(0))
        else:
            binary = os.path.abspath(a)
    if not shutil.which("inotifywait"):
        sys.exit("inotifywait not found: apt-get install inotify-tools (the baseline)")
    tmp = tempfile.mkdtemp(prefix="lk-bench-watch-")
    try:
        root = os.path.join(tmp, "proj")
        n = gen_tree(root)
        ndirs = sum(1 for _ in os.walk(root))
        st1, st2 = os.path.join(tmp, "lk.stamps"), os.path.join(tmp, "iw.stamps")
        lk = bench_lambdeck(binary, root, st1, saves, idle)
        iw = bench_inotifywait(root, st2, saves, idle)
        poll_ms = bench_poll(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def med(x):
        return statistics.median(x)

    def p90(x):
        return sorted(x)[int(0.9 * (len(x) - 1))]

    print(f"Tree: {n} files in {ndirs} directories; {saves} saves; idle window {idle:.0f} s; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}.\n")
    print("| | save -> test started, median | p90 | min | watcher setup | idle CPU |")
    print("|---|---|---|---|---|---|")
    print(f"| lambdeck test --watch (debounce 200 ms) | {med(lk[2]):.0f} ms | {p90(lk[2]):.0f} ms "
          f"| {min(lk[2]):.0f} ms | {lk[0]:.0f} ms | {lk[1]:.2f} % |")
    print(f"| inotifywait -m -r + shell loop (no debounce) | {med(iw[2]):.0f} ms | "
          f"{p90(iw[2]):.0f} ms | {min(iw[2]):.0f} ms | {iw[0]:.0f} ms | {iw[1]:.2f} % |")
    print(f"| polling loop every 15 s (`make watch`) | 7500 ms (uniform 0-15 s) | 13500 ms | 0 ms "
          f"| - | one scan: {poll_ms:.0f} ms per 15 s |")
    print()
    print(f"lambdeck minus debounce: median {med(lk[2]) - 200:.0f} ms of own latency; "
          f"ratio vs polling median: {7500 / med(lk[2]):.0f}x faster; vs inotifywait: "
          f"{med(lk[2]) / med(iw[2]):.1f}x (the debounce).")


if __name__ == "__main__":
    main()
