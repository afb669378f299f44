#!/bin/bash
# The console's shell at 120x40: four titled panes with their empty states, focus moving
# (Tab, Shift-Tab, 1-4), zoom and back, help overlay generated from the keymap, quit.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

ui_start
for t in "1 Functions" "2 Logs" "3 Playground" "4 Tests"; do ui_assert_contains "$t"; done
ui_assert_contains "Project functions will appear here."
ui_assert_contains "Live function logs will appear here."
ui_assert_contains "Events to invoke will appear here."
ui_assert_contains "Test results will appear here."
ui_assert_contains "LOCAL"
ui_assert_contains "? help"
# Focus is drawn with heavy lines: Functions first.
ui_wait_line "^┏━ 1 Functions"
ui_assert_contains "┌─ 2 Logs"
ui_pass "four panes, Functions focused"

ui_keys Tab
ui_wait_line "┏━ 2 Logs"
ui_assert_contains "┌─ 1 Functions"
ui_keys Tab
ui_wait_line "^┏━ 3 Playground"
ui_keys BTab
ui_wait_line "┏━ 2 Logs"
ui_keys 4
ui_wait_line "┏━ 4 Tests"
ui_assert_contains "┌─ 2 Logs"
ui_keys 1
ui_wait_line "^┏━ 1 Functions"
ui_pass "focus moves with Tab, Shift-Tab and 1-4"

ui_keys 2 z
ui_wait_for "2 Logs [zoom]"
ui_assert_not_contains "1 Functions"
ui_assert_not_contains "3 Playground"
# The zoomed pane fills the screen: its right border is in the last column.
ui_wait_line "^┏━ 2 Logs \[zoom\] ━+┓$"
ui_keys z
ui_wait_for "1 Functions"
ui_assert_contains "4 Tests"
ui_assert_not_contains "[zoom]"
ui_keys z
ui_wait_for "[zoom]"
ui_keys Escape
ui_wait_gone "[zoom]"
ui_pass "zoom and back (z, Esc)"

ui_keys 1 ?
ui_wait_for "Help: keys"
ui_assert_contains "Functions pane"
ui_assert_contains "Global"
ui_assert_contains "Focus the next pane"
ui_wait_line "<Tab> +Focus the next pane"
ui_wait_line "z +Zoom the focused pane"
ui_keys Escape
ui_wait_gone "Help: keys"
ui_keys ?
ui_wait_for "Help: keys"
ui_keys q
ui_wait_gone "Help: keys"
ui_assert_contains "1 Functions"
ui_pass "help overlay opens and closes"

ui_quit
ui_assert_not_contains "1 Functions"
ui_pass "q quits, the shell prompt is usable and the tty sane"
