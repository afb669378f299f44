"""cli.py - run the lambdeck binary from a python test.

    sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
    from cli import LAMBDECK, SRC, copy_fixture, fail, run
"""
import os
import subprocess
import sys

LAMBDECK = os.environ["LAMBDECK"]
SRC = os.environ["LAMBDECK_SRC"]


def fail(msg, out=""):
    """Prints the failure (and the output that shows it) and ends the test with status 1."""
    print("FAIL:", msg)
    if out:
        print("----- output -----")
        print(out)
    sys.exit(1)


def run(args, cwd, timeout=60):
    """Runs lambdeck ARGS in cwd; returns (exit status, stdout, stderr)."""
    p = subprocess.run([LAMBDECK] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def copy_fixture(path, dest):
    """Copies the source tree's directory PATH (e.g. "examples/hello-python") into dest: only
    the files git tracks, never what a session left there (tests/lib/fixture_copy.sh)."""
    subprocess.run(["bash", os.path.join(SRC, "tests/lib/fixture_copy.sh"), path, dest], check=True)
