#!/bin/bash
# pair_hammer.sh - several processes on one project at once (issue 11.1: "no lost or torn
# writes when both act at once"): per round, in parallel, 4 x `lambdeck invoke`,
# 2 x `lambdeck deploy` (after a code change, so both build) and 2 x `lambdeck test`, against
# one emulator. After each round: every invocation is one whole JSON line of history.jsonl
# (distinct ids, none lost), the deploy state files are valid JSON naming the CodeSha256 of
# the zip on disk, which is a valid zip matching its manifest, the two test runs did not
# overlap (run lock) and left one valid last.json and no running.json.
set -u
. "$LAMBDECK_SRC/tests/lib/check.sh"
PY=/usr/bin/python3
L=$LAMBDECK
ROUNDS=${ROUNDS:-4}
. "$LAMBDECK_SRC/tests/lib/emu.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-hammer.XXXXXX")
trap 'emu__exit; rm -rf "$T"' EXIT

P=$T/project
bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" examples/hello-python "$P"
rm -rf "$P/.lambdeck"
# A test that logs when it starts and ends: runs of two processes must not overlap.
cat >"$P/tests/test_hammer.py" <<EOF
import time
import unittest


class TestHammer(unittest.TestCase):
    def test_hammer(self):
        with open("$T/runs.log", "a") as f:
            f.write("start %.6f\n" % time.time())
        time.sleep(0.3)
        with open("$T/runs.log", "a") as f:
            f.write("end %.6f\n" % time.time())
EOF
cd "$P" || exit 1
EMU_STATE=$P/.lambdeck/emulator emu_start
"$L" deploy >"$T/deploy0.out" 2>&1
check "initial deploy" test $? = 0

# Verifies the shared files after round $1 ($2 = expected history lines).
verify() {
	$PY - "$P" "$2" "$T/runs.log" <<'PY'
import base64, hashlib, json, os, sys, zipfile
p, want, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bad = []
raw = open(os.path.join(p, ".lambdeck/history.jsonl"), "rb").read()
if not raw.endswith(b"\n"):
    bad.append("history.jsonl does not end with a newline")
ids = []
for n, line in enumerate(raw.split(b"\n")[:-1], 1):
    try:
        ids.append(json.loads(line)["id"])
    except Exception as e:
        bad.append("history.jsonl:%d: torn or invalid line: %s" % (n, e))
if len(ids) != want:
    bad.append("history.jsonl has %d entries, want %d" % (len(ids), want))
if len(set(ids)) != len(ids):
    bad.append("duplicate history ids")
for fn in ("HelloFunction", "OrdersFunction"):
    d = os.path.join(p, ".lambdeck/build", fn)
    z = os.path.join(d, "code.zip")
    try:
        with zipfile.ZipFile(z) as zf:
            if zf.testzip() is not None:
                bad.append("%s: corrupt member" % z)
            names = sorted(zf.namelist())
        man = json.load(open(os.path.join(d, "manifest.json")))
        sha = base64.b64encode(hashlib.sha256(open(z, "rb").read()).digest()).decode()
        st = json.load(open(os.path.join(p, ".lambdeck/deploy", fn + ".json")))
        if st["outcome"] not in ("updated", "created", "unchanged"):
            bad.append("%s deploy state: %s %s" % (fn, st["outcome"], st.get("error")))
        if st["code_sha256"] != sha:
            bad.append("%s deploy state names %s, the zip on disk is %s" % (fn, st["code_sha256"], sha))
        if json.dumps(man).find(sha) < 0:
            bad.append("%s manifest does not name the zip's CodeSha256 %s" % (fn, sha))
        if not names:
            bad.append("%s: empty zip" % z)
    except Exception as e:
        bad.append("%s: %s" % (fn, e))
t = os.path.join(p, ".lambdeck/tests")
try:
    last = json.load(open(os.path.join(t, "last.json")))
    if last["status"] != "passed" or last["by"] != "lambdeck test":
        bad.append("last.json: %s by %s" % (last["status"], last.get("by")))
except Exception as e:
    bad.append("last.json: %s" % e)
if os.path.exists(os.path.join(t, "running.json")):
    bad.append("running.json left behind")
ev = [l.split() for l in open(runs).read().splitlines()]
spans = [(float(ev[i][1]), float(ev[i + 1][1])) for i in range(0, len(ev) - 1, 2)
         if ev[i][0] == "start" and ev[i + 1][0] == "end"]
if len(spans) * 2 != len(ev):
    bad.append("test runs interleaved: %s" % ev)
for a, b in zip(spans, spans[1:]):
    if b[0] < a[1]:
        bad.append("two test runs overlapped: %s %s" % (a, b))
for b in bad:
    print("   ", b)
sys.exit(1 if bad else 0)
PY
}

lines=0
for r in $(seq 1 "$ROUNDS"); do
	printf '\n# round %s\n' "$r" >>"$P/hello/app.py"
	printf '\n# round %s\n' "$r" >>"$P/orders/app.py"
	pids=()
	for i in 1 2; do
		"$L" invoke HelloFunction --event ada >"$T/inv-h$i.out" 2>&1 &
		pids+=($!)
		"$L" invoke OrdersFunction --event new-order >"$T/inv-o$i.out" 2>&1 &
		pids+=($!)
		"$L" deploy >"$T/dep$i.out" 2>&1 &
		pids+=($!)
		"$L" test >"$T/test$i.out" 2>&1 &
		pids+=($!)
	done
	rc=0
	for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
	if [ $rc != 0 ]; then
		tail -n 5 "$T"/inv-*.out "$T"/dep*.out "$T"/test*.out
	fi
	check "round $r: every invoke, deploy and test exited 0" test $rc = 0
	lines=$((lines + 4))
	check "round $r: shared files whole and consistent" verify "$r" "$lines"
done

if [ $fails -gt 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "pair_hammer: all checks passed"
