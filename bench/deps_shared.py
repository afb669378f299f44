"""deps_shared.py OLD NEW [ROUNDS] - build time of a project whose 5 functions share one
package.json (tests/fixtures/real/cfg-sls-rest-dynamodb, the Serverless example), first build
with no cached dependencies, for two lambdeck binaries in the same run (alternating, a fresh
copy each round; npm's own download cache is warm after the first round for both). Prints
the median wall time and how many `npm` installs each build ran.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "real", "cfg-sls-rest-dynamodb")


def one_build(binary, *functions):
    d = tempfile.mkdtemp(prefix="lk-bench-deps.")
    try:
        proj = os.path.join(d, "p")
        shutil.copytree(FIXTURE, proj)
        t0 = time.monotonic()
        r = subprocess.run([binary, "--project", proj, "build", *functions], capture_output=True,
                           text=True)
        dt = time.monotonic() - t0
        if r.returncode != 0:
            sys.exit(f"{binary}: build failed:\n{r.stdout}\n{r.stderr}")
        return dt, r.stderr.count("$ npm ")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    old, new = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    res = {old: [], new: [], "one": []}
    installs = {}
    one_build(old)  # warm npm's download cache for both
    for _ in range(rounds):
        for b in (old, new):
            dt, n = one_build(b)
            res[b].append(dt)
            installs[b] = n
        dt, n = one_build(new, "create")  # the goal: about one function's build
        res["one"].append(dt)
        installs["one"] = n
    print("| binary | npm installs | median s | runs s |")
    print("|---|---|---|---|")
    for b in (old, new, "one"):
        runs = " ".join(f"{x:.2f}" for x in res[b])
        print(f"| {b if b != 'one' else new + ' (1 function)'} | {installs[b]} | {statistics.median(res[b]):.2f} | {runs} |")
    print(f"\nratio new/old: {statistics.median(res[new]) / statistics.median(res[old]):.2f}")


if __name__ == "__main__":
    main()
