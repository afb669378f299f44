#!/bin/bash
# A running job (the project's full deploy, here a 30 s command) shows in the status bar; q
# asks before quitting while it runs; n keeps the console; y quits and cancels the job.
. "$LAMBDECK_SRC/tests/lib/ui.sh"
proj=$UI_DIR/source # removed with UI_DIR by ui.sh's cleanup
mkdir -p "$proj"
cp -R "$LAMBDECK_SRC/examples/hello-python/." "$proj/"
rm -rf "$proj/.lambdeck"
marker="lk-job-$$-$RANDOM"
printf '{"test": ["python3", "-m", "unittest", "discover"], "deploy": ["sh", "-c", "sleep 30 # %s"]}\n' \
	"$marker" >"$proj/lambdeck.json"
UI_PROJECT=$proj
ui_start
ui_wait_for "4 Tests  ✓ 4 passed" # the run at start is a job too
ui_wait_line "▸ HelloFunction +py3.12"
ui_keys D
ui_wait_for "Full deploy: run 'sh -c sleep 30"
ui_keys y
ui_wait_for "full deploy"
pgrep -f "$marker" >/dev/null || ui_fail "the deploy command is not running"
ui_pass "a running job shows in the status bar"

ui_keys q
ui_wait_for "1 job running (full deploy). Quit anyway? [y/n]"
ui_keys n
ui_wait_gone "Quit anyway?"
ui_assert_contains "1 Functions"
pgrep -f "$marker" >/dev/null || ui_fail "n stopped the job"
ui_pass "q asks while a job runs; n keeps the console and the job"

ui_keys q
ui_wait_for "Quit anyway? [y/n]"
ui_keys y
ui_wait_exit 0
for _ in $(seq 50); do
	pgrep -f "$marker" >/dev/null || break
	sleep 0.1
done
pgrep -f "$marker" >/dev/null && ui_fail "the job's process outlived the console"
ui_pass "y quits and cancels the job"
