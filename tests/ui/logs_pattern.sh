#!/bin/bash
# Logs pane, server-side CloudWatch filter pattern (F) with the console's own emulator: with
# the pattern ERROR set, the header shows it and a new invocation delivers only its ERROR
# line (the emulator filters the live tail); clearing the pattern brings every line back.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

ui_python_function orders <<'PY'
def handler(event, context):
    n = event.get("n")
    print("info line %s" % n)
    print("ERROR line %s" % n)
    print("done line %s" % n)
    return {"ok": True}
PY

invoke() {
	(cd "$UI_PROJ" && PATH=/usr/bin:/bin "$LAMBDECK" invoke orders --event "{\"n\": $1}" >/dev/null 2>&1) ||
		ui_fail "invoke orders $1"
}

ui_start
ui_wait_for "not created yet" 45
ui_keys 2 z
invoke 1
ui_wait_for "done line 1" 45
ui_wait_for "live tail (1 group)" 20
ui_assert_contains "info line 1" "ERROR line 1"
ui_pass "without a pattern every line arrives"

ui_keys F
ui_wait_for "CloudWatch filter pattern:"
ui_type "ERROR"
ui_keys Enter
ui_wait_for "pattern: ERROR"
ui_wait_for "live tail (1 group)" 20
invoke 2
ui_wait_for "ERROR line 2" 30
# the lines of one invocation arrive in order: had the others passed, "info line 2" would
# be on screen before "ERROR line 2"; the REPORT line of a later one shows none came after
ui_assert_not_contains "info line 2" "done line 2"
invoke 3
ui_wait_for "ERROR line 3" 30
ui_assert_not_contains "info line 2" "done line 2" "info line 3" "done line 3"
ui_assert_contains "info line 1" "done line 1"
ui_pass "F ERROR: only matching lines of new invocations arrive; the header shows the pattern"

ui_keys F
ui_wait_for "CloudWatch filter pattern: ERROR"
ui_keys C-u Enter
ui_wait_gone "pattern: ERROR"
ui_wait_for "live tail (1 group)" 20
invoke 4
ui_wait_for "done line 4" 30
ui_assert_contains "info line 4" "ERROR line 4"
ui_assert_not_contains "info line 3"
ui_pass "clearing the pattern brings every line back"

ui_quit
