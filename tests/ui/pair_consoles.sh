#!/bin/bash
# pair_consoles.sh - two consoles on one project (issue 11.1), each in its own tmux session,
# one emulator: what one does shows in the other through the project's .lambdeck/.
#   - a Playground send in A deploys first: A's own Functions badge and B's follow it
#   - d (quick deploy) in B -> A's badge; a CLI deploy in a shell -> both
#   - a save seen by both consoles runs the suite ONCE (run lock); the other shows the result
#     "from console pid N"; r in A -> B shows "running in console pid N", then the result
#   - both consoles send at the same moment, three times: both Playgrounds list all six
#     invocations and history.jsonl holds six whole JSON lines with distinct ids
. "$LAMBDECK_SRC/tests/lib/ui.sh"
UI_COLS=160
UI_ROWS=50
UI_TIMEOUT=20

ui_start
ui_keys 4
ui_wait_line "Tests +. [0-9]+ passed" 30
ui_keys 1
ui_wait_line "▸ HelloFunction +py3.12"
ui_start_another b
ui_keys 4
ui_wait_line "Tests +. [0-9]+ passed" 30
ui_keys 1
ui_wait_line "▸ OrdersFunction +py3.12"
ui_assert_not_contains "↑"
ui_pass "two consoles on one project, nothing deployed yet"

# A: Playground send -> it deploys HelloFunction first (starting the shared emulator).
ui_use ui
ui_keys 3
ui_wait_for "HelloFunction  RequestResponse"
ui_keys s
ui_wait_line "200  HelloFunction/ada  [0-9.]+ ms" 60
ui_wait_line "▸ HelloFunction +py3.12(→3\.[0-9]+)? +↑" 5
ui_pass "A's Playground deploy shows on A's own Functions badge"
ui_use b
ui_wait_line "▸ HelloFunction +py3.12(→3\.[0-9]+)? +↑" 3
ui_assert_not_contains "OrdersFunction +py3.12 +↑"
ui_pass "... and on B's"

# B: quick deploy of OrdersFunction (second row) -> A.
ui_keys Down d
ui_wait_line "OrdersFunction: (created|updated)" 60
ui_use ui
ui_wait_line "▸ OrdersFunction +py3.12(→3\.[0-9]+)? +↑" 3
ui_pass "B's quick deploy shows in A"

# A code change: both show it modified; a deploy from a shell -> both up to date again.
printf '\n# changed\n' >>"$UI_PROJ/orders/app.py"
ui_wait_line "▸ OrdersFunction +py3.12(→3\.[0-9]+)? +● +↑" 5
ui_use b
ui_wait_line "▸ OrdersFunction +py3.12(→3\.[0-9]+)? +● +↑" 5
(cd "$UI_PROJ" && PATH=/usr/bin:/bin "$LAMBDECK" deploy OrdersFunction >"$UI_DIR/deploy.out" 2>&1) ||
	{ cat "$UI_DIR/deploy.out"; ui_fail "lambdeck deploy next to the consoles failed"; }
ui_wait_line_gone "OrdersFunction +py3.12(→3\.[0-9]+)? +●" 3
ui_wait_line "▸ OrdersFunction +py3.12(→3\.[0-9]+)? +↑"
ui_use ui
ui_wait_line_gone "OrdersFunction +py3.12(→3\.[0-9]+)? +●" 3
ui_wait_line "▸ OrdersFunction +py3.12(→3\.[0-9]+)? +↑"
ui_pass "modified, then a CLI deploy: both consoles follow"

# Tests: a save both consoles see runs the suite once; each run of the new test leaves a line.
cat >"$UI_PROJ/tests/test_pair.py" <<EOF
import time
import unittest


class TestPair(unittest.TestCase):
    def test_pair(self):
        with open("$UI_DIR/runs.log", "a") as f:
            f.write("run\n")
        time.sleep(1.5)
        self.assertEqual(200, 500)
EOF
ui_use ui
ui_keys 4
ui_wait_line "1 failed, [0-9]+ passed" 30
ui_use b
ui_keys 4
ui_wait_line "1 failed, [0-9]+ passed" 30
ui_wait_for "tests/test_pair.py:10  test_pair"
sleep 2
[ "$(wc -l <"$UI_DIR/runs.log")" -eq 1 ] || ui_fail "the suite ran $(wc -l <"$UI_DIR/runs.log") times for one save"
screens=$(ui_use ui; ui_screen; ui_use b; ui_screen)
grep -q "from console pid [0-9]*: on save" <<<"$screens" ||
	ui_fail "neither console says the result came from the other one"
ui_pass "one save, one run (lock); the other console shows its result"

# r in A: B shows it running there, then the result.
ui_use ui
ui_keys r
apid=$(cat "$UI_DIR/console.pid")
ui_use b
ui_wait_for "running in console pid $apid: manual" 5
ui_wait_for "from console pid $apid: manual" 30
ui_wait_line "1 failed, [0-9]+ passed"
ui_assert_contains "AssertionError: 200 != 500"
[ "$(wc -l <"$UI_DIR/runs.log")" -eq 2 ] || ui_fail "expected two runs, got $(wc -l <"$UI_DIR/runs.log")"
ui_pass "a run in A: B shows it running, then its results"

# r in B while A runs: refused with a message, nothing lost.
ui_use ui
ui_keys r
ui_use b
ui_wait_for "running in console pid $apid" 5
ui_keys r
ui_wait_for "the tests are running in console (pid $apid)" 5
ui_wait_for "from console pid $apid: manual" 30
ui_pass "r while the other console runs: says so"
rm "$UI_PROJ/tests/test_pair.py"

# Both send at the same moment, three times (A: HelloFunction, B: OrdersFunction).
ui_use b
ui_keys 3
ui_wait_for "OrdersFunction  RequestResponse"
ui_use ui
ui_keys 3
for i in 1 2 3; do
	ui_tmux send-keys -t ui s
	ui_tmux send-keys -t b s
	sleep 1.5
done
ui_keys h
ui_wait_line "History \(all functions\) 7" 30
ui_use b
ui_keys h
ui_wait_line "History \(all functions\) 7" 30
ui_pass "both Playgrounds list every invocation (1 + 2 x 3)"
python3 - "$UI_PROJ/.lambdeck/history.jsonl" <<'PY' || ui_fail "history.jsonl is not 7 whole, distinct JSON lines"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "last line not terminated"
ids = [json.loads(l)["id"] for l in lines[:-1]]
assert len(ids) == 7, len(ids)
assert len(set(ids)) == 7, ids
PY
ui_pass "history.jsonl: 7 whole lines, distinct ids"

ui_use b
ui_quit
ui_use ui
ui_quit
ui_pass "pair_consoles"
