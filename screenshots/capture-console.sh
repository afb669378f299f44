#!/bin/bash
# Captures screenshots/console.txt: the console on examples/hello-python at 120x40, as text
# (tmux capture-pane). Usage: LAMBDECK=build/lambdeck LAMBDECK_SRC=$PWD screenshots/capture-console.sh
. "$LAMBDECK_SRC/tests/lib/ui.sh"
ui_start
sleep 1
ui_screen >"$LAMBDECK_SRC/screenshots/console.txt"
ui_keys ?
ui_wait_for "Help: keys"
ui_screen >"$LAMBDECK_SRC/screenshots/console-help.txt"
ui_keys Escape
ui_quit
echo "wrote screenshots/console.txt and screenshots/console-help.txt"
