#!/bin/bash
# Functions pane d (and W, watch): quick deploy of the selected function to the local emulator (started by
# the console at start, backend/mode.h), as a job; a second d finds the same CodeSha256 deployed and
# skips; the deploy badge shows; quitting stops the emulator the console started.
. "$LAMBDECK_SRC/tests/lib/ui.sh"
UI_TIMEOUT=60
ui_start
ui_wait_line "▸ HelloFunction +py3.12"
ui_keys d
# The first deploy creates the function in the fresh emulator.
ui_wait_line "HelloFunction: created \([0-9]+ ms\)"
ui_keys d
ui_wait_for "HelloFunction: unchanged"
ui_wait_line "▸ HelloFunction +py3.12(→3\.[0-9]+)? +↑ ┃"
ui_pass "d deploys the selected function; unchanged code is skipped; badge shown"
# W: watch on; saving the handler deploys it (the emulator then has the new code); W again: off.
ui_keys W
ui_wait_for "2 functions  watch on"
echo "# saved while watching" >>"$UI_PROJ/hello/app.py"
ui_wait_for "watch: HelloFunction updated"
ui_keys W
ui_wait_for "watch off"
ui_assert_not_contains "2 functions  watch on"
ui_pass "W: a saved file deploys its function; W again stops watching"
ui_quit
lk_wait_until 5 eval '! pgrep -f "emulate.*$UI_PROJ" >/dev/null'
if pgrep -af "emulate.*$UI_PROJ"; then ui_fail "the emulator is still running after quit"; fi
ui_pass "functions_deploy"
