#!/bin/bash
# Captures the README's screenshots as text (tmux capture-pane) from the current UI:
#   console.txt        the console on examples/hello-python at 120x40 after one invocation
#                      from the Playground, so every pane has content
#   console-help.txt   the help overlay (?) of the Functions pane
#   console-pair.txt   a read-only seat on the same project at 120x40: --read-only, and
#                      --low-bandwidth=auto under SSH (SSH_CONNECTION set), after a refused key
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

UI_ENV="SSH_CONNECTION='192.0.2.10 50022 192.0.2.1 22'"
ui_run_console --read-only --low-bandwidth=auto
ui_wait_for "emulator 127.0.0.1"
ui_wait_for "[low-bandwidth]"
ui_keys 3
ui_wait_for "⏵ ada"
sleep 1
ui_keys s
ui_wait_for "read-only: invoking"
sleep 0.5
ui_screen >"$LAMBDECK_SRC/screenshots/console-pair.txt"
ui_quit
echo "wrote screenshots/console.txt, console-help.txt and console-pair.txt"
