#!/usr/bin/python3
"""tui_bench.py - console benchmarks, each against a baseline in the same run.

  1. time to first frame: spawn in a 120x40 pty until the status bar ("? help") is drawn,
     vs a minimal ncurses program (bench/ncurses_hello.c) and `tput clear`;
  2. CPU time used while idle for 30 s (utime+stime from /proc), vs the ncurses baseline;
  3. bytes written for a full redraw (Ctrl-L) at 120x40, default / --ascii / NO_COLOR,
     vs the 4800 cells of the screen.

Usage: bench/tui_bench.py [LAMBDECK_BINARY]   (default build/lambdeck; use a non-sanitizer
build). Prints a Markdown report on stdout."""
import fcntl, os, pty, select, shutil, signal, statistics, struct, subprocess, sys, tempfile
import termios, time

ROWS, COLS = 40, 120
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def spawn(argv, env_extra=None):
    """Starts argv on a new pty of ROWS x COLS; returns (pid, master fd, start time)."""
    env = dict(os.environ, TERM="xterm-256color", LC_ALL="C.UTF-8")
    env.pop("NO_COLOR", None)
    env.update(env_extra or {})
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid, fd, t0


def read_until(fd, needle, limit=10.0):
    """Reads until needle was seen; returns (bytes read, time it appeared)."""
    data = b""
    end = time.perf_counter() + limit
    while needle not in data:
        left = end - time.perf_counter()
        if left <= 0:
            raise RuntimeError("timeout waiting for %r; got %r" % (needle, data[-200:]))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                raise RuntimeError("pty closed before %r" % needle)
            if not chunk:
                raise RuntimeError("EOF before %r" % needle)
            data += chunk
    return data, time.perf_counter()


def drain(fd, quiet=0.3):
    """Reads until nothing arrives for `quiet` seconds; returns the bytes."""
    data = b""
    while True:
        r, _, _ = select.select([fd], [], [], quiet)
        if not r:
            return data
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk


def stop(pid, fd, keys=b"q"):
    try:
        os.write(fd, keys)
    except OSError:
        pass
    for _ in range(50):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        drain(fd, 0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_frame_ms(argv, needle, env=None, runs=15):
    times = []
    for _ in range(runs):
        pid, fd, t0 = spawn(argv, env)
        _, t1 = read_until(fd, needle)
        times.append((t1 - t0) * 1000)
        stop(pid, fd)
    return statistics.median(times), min(times), max(times)


def main():
    lambdeck = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build", "lambdeck"))
    tmp = tempfile.mkdtemp(prefix="lk-bench-")
    try:
        hello = os.path.join(tmp, "ncurses_hello")
        subprocess.run(["cc", "-O2", "-o", hello, os.path.join(HERE, "ncurses_hello.c"), "-lncursesw"], check=True)
        proj = os.path.join(tmp, "project")
        # Tracked files only: not what a console session left in examples/.
        subprocess.run(["bash", os.path.join(SRC, "tests/lib/fixture_copy.sh"),
                        "examples/hello-python", proj],
                       env=dict(os.environ, LAMBDECK_SRC=SRC), check=True)
        console = [lambdeck, "--project", proj]
        env = {"HOME": tmp, "XDG_CONFIG_HOME": os.path.join(tmp, "config")}

        print("## Console (tui) benchmarks\n")
        print("Machine: %s, %d CPUs (shared); pty %dx%d, TERM=xterm-256color, LC_ALL=C.UTF-8.\n"
              % (os.uname().machine, os.cpu_count(), COLS, ROWS))
        print("### 1. Time to first frame (median of 15 runs, ms)\n")
        print("| program | median | min | max | ratio to ncurses hello |")
        print("|---|---:|---:|---:|---:|")
        base = first_frame_ms([hello], b"? help")
        tput = first_frame_ms(["tput", "clear"], b"\x1b[", env)
        version = first_frame_ms([lambdeck, "--version"], b"lambdeck", env)
        mine = first_frame_ms(console, b"? help", env)
        for name, r in (("ncurses hello (baseline)", base), ("`tput clear`", tput),
                        ("`lambdeck --version` (exec + dynamic linking only)", version),
                        ("lambdeck console", mine)):
            print("| %s | %.1f | %.1f | %.1f | %.2f |" % (name, r[0], r[1], r[2], r[0] / base[0]))
        print("\nGoal: lambdeck <= 50 ms.\n")

        print("### 2. CPU time while idle for 30 s (after the first frame)\n")
        procs = []
        for name, argv in (("ncurses hello (baseline)", [hello]), ("lambdeck console", console)):
            pid, fd, _ = spawn(argv, env)
            read_until(fd, b"? help")
            drain(fd, 0.2)
            procs.append((name, pid, fd, cpu_seconds(pid)))
        time.sleep(30)
        print("| program | CPU seconds in 30 s idle |")
        print("|---|---:|")
        for name, pid, fd, c0 in procs:
            print("| %s | %.3f |" % (name, cpu_seconds(pid) - c0))
            stop(pid, fd)
        print("\nGoal: lambdeck <= 0.05 s. (Clock tick resolution: %.3f s.)\n" % (1 / os.sysconf("SC_CLK_TCK")))

        print("### 3. Bytes written to the terminal at 120x40\n")
        print("| variant | first frame | full redraw (Ctrl-L) | redraw bytes per cell |")
        print("|---|---:|---:|---:|")
        for name, args, extra in (("default (UTF-8, 256 colors)", [], {}),
                                  ("--ascii", ["--ascii"], {}),
                                  ("NO_COLOR=1", [], {"NO_COLOR": "1"})):
            pid, fd, _ = spawn(console + args, dict(env, **extra))
            first, _ = read_until(fd, b"? help")
            first += drain(fd, 0.3)
            os.write(fd, b"\x0c")
            redraw = drain(fd, 0.5)
            stop(pid, fd)
            print("| %s | %d | %d | %.2f |" % (name, len(first), len(redraw), len(redraw) / (ROWS * COLS)))
        print("\nBaseline: a 120x40 screen has %d cells; `tput clear` writes %d bytes." % (
            ROWS * COLS, len(subprocess.run(["tput", "clear"], capture_output=True,
                                            env=dict(os.environ, TERM="xterm-256color")).stdout)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
