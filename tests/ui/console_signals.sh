#!/bin/bash
# SIGTERM, SIGINT (Ctrl-C) and SIGHUP end the console with the terminal restored.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

ui_start
kill -TERM "$(ui_pid)"
ui_wait_exit 143
ui_assert_not_contains "1 Functions"
ui_pass "SIGTERM: exit 143, terminal restored"

ui_run_console
ui_wait_for "1 Functions"
ui_keys C-c
ui_wait_exit 130
ui_pass "Ctrl-C: exit 130, terminal restored"

ui_run_console
ui_wait_for "1 Functions"
kill -HUP "$(ui_pid)"
ui_wait_exit 129
ui_pass "SIGHUP: exit 129, terminal restored"
