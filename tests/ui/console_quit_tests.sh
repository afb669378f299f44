#!/bin/bash
# console_quit_tests.sh - a running test command is a job: it shows in the status bar, q asks
# before quitting while it runs (n keeps the console and the run), y quits and ends the run
# with its whole process group.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

mark="lkqt$$r$RANDOM"
ui_python_function SlowTests <<'PY'
def handler(event, context):
    return {}
PY
printf '{"functions": {"SlowTests": {"runtime": "python3.12", "handler": "app.handler", "code": "SlowTests"}}, "test": ["sh", "-c", "sleep 300 # %s"]}\n' \
	"$mark" >"$UI_PROJECT/lambdeck.json"
ui_start
ui_wait_for "⏵ running"
ui_wait_for "│ tests console start"
pgrep -f -- "^sh -c sleep 300 # $mark" >/dev/null || ui_fail "the test command is not running"
ui_pass "a running test command shows as a job in the status bar"

ui_keys q
ui_wait_for "1 job running (tests). Quit anyway? [y/n]"
ui_keys n
ui_wait_gone "Quit anyway?"
ui_assert_contains "1 Functions" "⏵ running"
pgrep -f -- "^sh -c sleep 300 # $mark" >/dev/null || ui_fail "n stopped the test run"
ui_pass "q asks while tests run; n keeps the console and the run"

ui_keys q
ui_wait_for "1 job running (tests). Quit anyway? [y/n]"
ui_keys y
ui_wait_exit 0
for _ in $(seq 100); do
	pgrep -f -- "$mark" >/dev/null || break
	sleep 0.1
done
pgrep -af -- "$mark" && ui_fail "the test command outlived the console"
ui_pass "y quits and ends the test run"
