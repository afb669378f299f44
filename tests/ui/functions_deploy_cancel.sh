#!/bin/bash
# functions_deploy_cancel.sh - a full deploy cancelled with Ctrl-x is reported as cancelled
# (an info message), not as a failure with the signal's exit status; its process group ends.
. "$LAMBDECK_SRC/tests/lib/ui.sh"
mark="lkdc$$r$RANDOM"
src=$UI_DIR/src
mkdir -p "$src"
cp -R "$LAMBDECK_SRC/examples/hello-python/." "$src/"
rm -rf "$src/.lambdeck"
printf '{"test": ["python3", "-m", "unittest", "discover"], "deploy": ["sh", "-c", "echo deploying; sleep 300 # %s"]}\n' \
	"$mark" >"$src/lambdeck.json"
UI_PROJECT=$src
ui_start
ui_wait_for "4 Tests  ✓ 4 passed" # the test run at start is a job too: C-x takes the newest
ui_keys D
ui_wait_for "Full deploy: run 'sh -c echo deploying"
ui_keys y
ui_wait_for "full deploy deploying"
ui_keys C-x
ui_wait_for "full deploy cancelled"
ui_assert_not_contains "failed (exit"
for _ in $(seq 100); do
	pgrep -f -- "$mark" >/dev/null || break
	sleep 0.1
done
pgrep -f -- "$mark" >/dev/null && ui_fail "the deploy command outlived the cancel"
ui_pass "a cancelled full deploy is reported as cancelled"
ui_quit
