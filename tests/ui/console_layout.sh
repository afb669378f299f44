#!/bin/bash
# The console's shell at 120x40: four titled panes, focus moving
# (Tab, Shift-Tab, 1-4), zoom and back, help overlay generated from the keymap, quit.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

ui_start
# (Pane contents belong to the panes' own tests; this one checks the shell around them.)
ui_assert_contains "1 Functions" "2 Logs" "3 Playground" "4 Tests" "? help"
# LOCAL mode: the project's emulator is started (a background job) and shown when ready.
ui_wait_line "^ LOCAL +emulator 127\.0\.0\.1:[0-9]+ "
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
ui_assert_not_contains "1 Functions" "3 Playground"
# The zoomed pane fills the screen: its right border is in the last column.
ui_wait_line "^┏━ 2 Logs \[zoom\] .*━┓$"
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
ui_assert_contains "Functions pane" "Global" "Focus the next pane"
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

# Status bar messages fade: an info message goes away by itself after a few seconds. (The
# test run at start is a job too: C-x would cancel it.)
ui_wait_for "4 Tests  ✓ 4 passed"
ui_keys C-x
ui_wait_for "no job is running"
ui_wait_gone "no job is running" 10
ui_pass "status bar message shown, then faded"

ui_quit
ui_assert_not_contains "1 Functions"
ui_pass "q quits, the shell prompt is usable and the tty sane"
