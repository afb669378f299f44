#!/bin/bash
# SIGTERM, SIGINT (Ctrl-C) and SIGHUP end the console with the terminal restored; on a crash
# (SIGSEGV, SIGABRT) the fatal-signal handler restores the terminal and dies of the signal.
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

ui_run_console
ui_wait_for "1 Functions"
kill -SEGV "$(ui_pid)"
# Plain build: dies of the signal (139). Sanitizer build: the handler hands the signal on to
# AddressSanitizer, which reports it on the restored terminal and exits 1.
ui_wait_exit "139|1"
if ui_screen | grep -q "lambdeck-exit=1$"; then
	ui_assert_contains "AddressSanitizer: SEGV"
fi
ui_pass "SIGSEGV: terminal restored, then the previous handler got the signal"

ui_run_console
ui_wait_for "1 Functions"
kill -ABRT "$(ui_pid)"
ui_wait_exit 134
ui_pass "SIGABRT: terminal restored, then died of the signal (134)"
