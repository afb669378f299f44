#!/bin/bash
# console_flow_control.sh - XON/XOFF flow control is off while the console runs: Ctrl-S does
# not freeze the screen, and Ctrl-Q (and Ctrl-S) reach the keymap, so the README's own
# `bind global <C-q> quit` works. On exit the shell gets its own modes back.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

printf 'bind global <C-q> quit\nbind global <C-s> focus-3\n' >"$UI_DIR/keys"
ui_start --keymap "$UI_DIR/keys"
stty_before=$(stty -F "$(ui_tmux display -p -t ui '#{pane_tty}')" -a 2>/dev/null | grep -oE '(^| )-?ixon( |$)' | tr -d ' ')
[ "$stty_before" = "-ixon" ] || ui_fail "flow control still on while the console runs ($stty_before)"
ui_keys C-s
ui_wait_line "^┏━ 3 Playground"
ui_keys 2
ui_wait_line "┏━ 2 Logs"
ui_pass "Ctrl-S is a key (bound here to focus-3), the screen keeps updating"

ui_wait_for "4 Tests  ✓ 4 passed" # the run at start is a job: q (and C-q) would ask first
ui_keys C-q
ui_wait_exit 0
ui_tmux send-keys -t ui -l "stty -a | grep -oE '(^| )-?ixon( |\$)' | tr -d ' '; echo flow-checked"
ui_tmux send-keys -t ui Enter
ui_wait_line "^ixon$"
ui_pass "bind global <C-q> quit works; the shell's ixon is back after exit"
