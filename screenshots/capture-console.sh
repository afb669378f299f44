#!/bin/bash
# Captures screenshots/console.txt: the console on examples/hello-python at 120x40, as text
# (tmux capture-pane), after one invocation from the Playground so every pane has content.
# Usage: LAMBDECK=build/lambdeck LAMBDECK_SRC=$PWD screenshots/capture-console.sh
. "$LAMBDECK_SRC/tests/lib/ui.sh"
UI_PROJECT=${UI_PROJECT:-$LAMBDECK_SRC/examples/hello-python}
UI_TIMEOUT=60
ui_start
ui_wait_for "emulator 127.0.0.1"
ui_keys Right 3 s
ui_wait_for "REPORT"
sleep 2
ui_keys 1
sleep 0.5
ui_screen >"$LAMBDECK_SRC/screenshots/console.txt"
ui_keys ?
ui_wait_for "Help: keys"
ui_screen >"$LAMBDECK_SRC/screenshots/console-help.txt"
ui_keys Escape
ui_quit
echo "wrote screenshots/console.txt and screenshots/console-help.txt"
