#!/bin/bash
# console_message_priority.sh - an error stays readable when an info message follows it at
# once: the status bar draws a warning or error still at full strength before a newer info
# message (which could otherwise fill the bar and hide the error the moment it appeared).
. "$LAMBDECK_SRC/tests/lib/ui.sh"

UI_COLS=80
UI_ROWS=24
ui_start
ui_wait_for "emulator 127.0.0.1"
ui_keys :
ui_wait_for "request:"
ui_type "bogus"
ui_keys Enter
ui_wait_for "unknown request 'bogus'"
# M toggles the mouse and says so in a long info message, newer than the error; at 80
# columns the two do not both fit. The message log (m) shows when M has been handled.
ui_keys M m
ui_wait_for "Messages (newest first)"
ui_wait_line "[0-9:]{8} +mouse o"
ui_keys Escape
ui_wait_gone "Messages (newest first)"
ui_assert_contains "unknown request 'bogus'"
ui_pass "an error is still shown after a newer, longer info message"

# Once the error has faded (dimmed, then cleared), info messages have the bar again.
ui_wait_gone "unknown request" 40
ui_keys M
ui_wait_for "mouse o"
ui_pass "info messages show again after the error faded"
ui_quit
