#!/bin/bash
# console_messages.sh - messages stay readable: a message cut at the status bar's width says
# so ("… m: whole"), and m shows every recent message whole, wrapped, newest first, also
# after it faded from the status bar; the help overlay wraps long descriptions instead of
# cutting them.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

UI_COLS=80
UI_ROWS=24
ui_start
ui_keys :
ui_wait_for "request:"
ui_type "no-such-request-with-a-long-name-ending-in-TAILMARK"
ui_keys Enter
ui_wait_for "unknown request 'no-such"
ui_wait_for "… m: whole"
ui_assert_not_contains "TAILMARK"
ui_pass "a message cut at the status bar width says how to read it whole"

ui_wait_gone "unknown request" 30
ui_keys m
ui_wait_for "Messages (newest first)"
ui_wait_for "ending-in-TAILMA"
ui_wait_for "RK' (? lists the keys)"
ui_wait_line "[0-9:]{8} error +unknown request"
ui_keys Escape
ui_wait_gone "Messages (newest first)"
ui_pass "m shows the faded message whole, wrapped"

ui_keys 1 '?'
ui_wait_for "Help: keys"
ui_wait_line "│ d +Quick deploy of the selected function \(build, +│"
ui_wait_line "│ +skip if unchanged, update code\) +│"
ui_keys Escape
ui_wait_gone "Help: keys"
ui_pass "the help overlay wraps long descriptions"
ui_quit
