#!/bin/bash
# Options and environment: --ascii, a non-UTF-8 locale, NO_COLOR, --read-only, --keymap.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

# SGR color codes (foreground/background, 8 or 256 colors) in a capture with escapes.
has_colors() {
	ui_tmux capture-pane -e -p -t ui | grep -qE $'\e\\[[0-9;]*(3[0-7]|38;5;[0-9]+|4[0-7]|48;5;[0-9]+)[;m]'
}

ui_start --ascii
ui_wait_line "^#= 1 Functions .*=#\+- 2 Logs .*-\+$"
ui_wait_line "^\+- 3 Playground .*-\+\+- 4 Tests .*-\+$"
ui_assert_not_contains "─" "━" "┃" "│"
has_colors || ui_fail "no colors without NO_COLOR"
ui_tmux capture-pane -e -p -t ui | grep -qE $'\e\\[[0-9;]*38;5;[0-9]+' || ui_fail "no 256-color codes"
ui_resize 60 20
ui_wait_for "terminal too small (need 80x24)"
ui_resize 120 40
ui_wait_for "1 Functions"
ui_quit
ui_pass "--ascii draws ASCII only; colors on by default"

UI_ENV="LC_ALL=C NO_COLOR=1"
ui_run_console --read-only --keymap vim
ui_wait_line "^#= 1 Functions .*=#\+-"
ui_pass "non-UTF-8 locale falls back to ASCII"
if has_colors; then ui_fail "colors despite NO_COLOR"; fi
ui_pass "NO_COLOR turns colors off"
ui_wait_for "[read-only]"
ui_keys :
ui_type "edit-keys"
ui_keys Enter
ui_wait_for "read-only: editing key bindings is disabled"
ui_pass "--read-only shown and enforced"
ui_keys ?
ui_wait_for "Help: keys"
ui_keys G # scrolls the help to its end, where the global keys are
ui_wait_line "G <End> +Go to the last line"
ui_wait_line "<Home> gg +Go to the first line"
ui_keys Escape
ui_wait_gone "Help: keys"
ui_keys g
ui_wait_for " g- "
ui_keys g
ui_wait_gone " g- "
ui_pass "--keymap vim: gg sequence, pending prefix shown"
ui_quit

UI_ENV="TERM=screen"
printf 'bind global w focus-2\nbind global <Nope> zoom\n' >"$UI_DIR/my.keys"
ui_run_console --keymap "$UI_DIR/my.keys"
ui_wait_for "my.keys:2: bad key '<Nope>'"
ui_keys w
ui_wait_line "┏━ 2 Logs"
has_colors || ui_fail "no colors on an 8-color terminal"
if ui_tmux capture-pane -e -p -t ui | grep -qE $'\e\\[[0-9;]*38;5;[0-9]+'; then
	ui_fail "256-color codes on an 8-color terminal"
fi
ui_pass "8-color terminal gets the 8-color scheme"
ui_quit
UI_ENV=""
ui_run_console --keymap "$UI_DIR/missing.keys" --profile dev --region eu-west-1
ui_wait_for "--keymap: "
ui_assert_contains "missing.keys"
ui_wait_line "^ AWS dev eu-west-1 "
ui_assert_not_contains "emulator"
ui_quit
ui_pass "--profile/--region select AWS mode, shown in the status bar"
ui_pass "--keymap: built-in name, file (bad line warned), missing file reported"
