#!/bin/bash
# Resizing: below 80x24 the console says so; enlarged again it recovers; 80x24 works.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

ui_start
ui_keys 2
ui_wait_line "┏━ 2 Logs"
ui_resize 60 20
ui_wait_for "terminal too small (need 80×24)"
ui_assert_not_contains "1 Functions"
ui_pass "60x20 shows the message"

ui_resize 120 40
ui_wait_for "1 Functions"
ui_assert_not_contains "terminal too small"
ui_wait_line "┏━ 2 Logs"
# The right border reaches the last column at the new size.
ui_wait_line "┓$"
[ "$(ui_screen | head -1 | wc -m)" -ge 120 ] || ui_fail "top line is not 120 columns wide"
ui_pass "back to 120x40 recovers, focus kept"

ui_resize 80 24
ui_wait_line "^└─+┘└─+┘$"
ui_assert_contains "4 Tests"
ui_assert_not_contains "terminal too small"
ui_pass "80x24 shows all panes"

# Several resizes in a row never crash.
for s in "79 24" "80 23" "200 60" "81 25" "30 5" "100 30"; do
	ui_resize $s
	sleep 0.1
done
ui_wait_for "1 Functions"
ui_wait_line "^┌─ 3 Playground"
ui_quit
ui_pass "resize storm survived, clean exit"
