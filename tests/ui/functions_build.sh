#!/bin/bash
# Functions pane keys that call the build module: b quick-builds the selected function (a job
# in the status bar, then the result), the build badge goes from "never built" (○) to none,
# and to "modified since build" (●) when a file of its code directory changes.
. "$LAMBDECK_SRC/tests/lib/ui.sh"
ui_start
ui_wait_line "▸ HelloFunction +py3.12(→3\.[0-9]+)? +○ ┃"
ui_wait_line "▸ OrdersFunction +py3.12(→3\.[0-9]+)? +○ ┃"
ui_pass "never-built badge"
ui_keys b
ui_wait_for "HelloFunction: built, 1 files"
ui_wait_line "▸ HelloFunction +py3.12(→3\.[0-9]+)? +┃"
ui_wait_line "▸ OrdersFunction +py3.12(→3\.[0-9]+)? +○ ┃"
[ -s "$UI_PROJ/.lambdeck/build/HelloFunction/code.zip" ] || ui_fail "no code.zip written"
unzip -l "$UI_PROJ/.lambdeck/build/HelloFunction/code.zip" | grep -q " app.py$" || ui_fail "app.py not in the zip"
ui_pass "b builds the selected function"
printf '\n# changed\n' >>"$UI_PROJ/hello/app.py"
ui_wait_line "▸ HelloFunction +py3.12(→3\.[0-9]+)? +● ┃"
ui_pass "modified-since-build badge after a save"
ui_keys b
ui_wait_for "HelloFunction: built, 1 files"
ui_wait_line "▸ HelloFunction +py3.12(→3\.[0-9]+)? +┃"
ui_keys B
ui_wait_line "▸ OrdersFunction +py3.12(→3\.[0-9]+)? +┃"
ui_pass "B builds every function"
ui_quit
ui_pass "functions_build"
