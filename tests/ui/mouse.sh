#!/bin/bash
# Mouse support (issue 11, item 3), with real mouse reports written to the console's tty in
# the format its TERM's kmous announces (X10 "\e[M" for screen-256color, SGR "\e[<" for
# xterm-256color): a click on a pane's border focuses it; a click on a row selects it
# (Functions tree, Playground events and history, Logs line, Tests output line); the wheel
# scrolls the pane under the pointer without moving the focus; a click on the status bar's
# "? help" opens the help, the wheel scrolls it, a click outside closes it. Default "auto"
# turns reporting on (press reports only: no drag/motion, so Shift+drag stays the
# terminal's); --no-mouse / LAMBDECK_MOUSE=off leave it off and the same bytes do nothing;
# a terminal without kmous (vt100) gets none, nor does the Linux console (GPM keeps it) unless
# --mouse. Quitting turns reporting off again.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

# x10 BUTTON X Y: one X10 report at 0-based screen cell (X, Y); BUTTON 0 = left press,
# 3 = release, 64/65 = wheel up/down.
x10() {
	ui_tmux send-keys -t ui -H 1b 5b 4d \
		"$(printf '%02x' $(($1 + 32)))" "$(printf '%02x' $(($2 + 33)))" "$(printf '%02x' $(($3 + 33)))"
}
click() { x10 0 "$1" "$2"; x10 3 "$1" "$2"; }
wheel_up() { x10 64 "$1" "$2"; }
wheel_down() { x10 65 "$1" "$2"; }
# sgr BUTTON X Y M|m: one SGR (1006) report, M press, m release.
sgr() {
	ui_tmux send-keys -t ui -l $'\e'"[<$1;$(($2 + 1));$(($3 + 1))$4"
}
# What the terminal (tmux) was asked for: standard (1000), button-event/drag (1002), SGR.
mouse_modes() {
	ui_tmux display -p -t ui 'std=#{mouse_standard_flag} drag=#{mouse_button_flag} sgr=#{mouse_sgr_flag}'
}
# Whether the screen line with TEXT is shown with the selection colours (256-color theme).
is_selected() { # $1: text on that line
	ui_tmux capture-pane -e -p -t ui | grep -F -- "$1" | grep -qF '48;5;24'
}
# Waits until the line with TEXT is shown selected (a click is handled asynchronously).
selected_line() { # $1: text on that line
	lk_wait_until "$UI_TIMEOUT" is_selected "$1" ||
		ui_fail "the line with '$1' is not shown selected"
}
# First output line shown in the Tests pane (screen line 22 = its first text row).
tests_top() {
	ui_screen | sed -n 22p | grep -o 'row-[0-9]*'
}

# A project whose test command prints 60 numbered lines, so the Tests pane can scroll.
mkdir -p "$UI_DIR/src"
bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" examples/hello-python "$UI_DIR/src"
printf '{"test": ["python3", "-c", "for i in range(1, 61): print(\\"row-%%02d\\" %% i)"]}\n' \
	>"$UI_DIR/src/lambdeck.json"
UI_PROJECT=$UI_DIR/src
UI_TIMEOUT=30

# Layout at 120x40: panes 0..18 / 19..38 rows, 0..59 / 60..119 columns, status bar row 39.
ui_start
ui_wait_for "emulator 127.0.0.1"
ui_wait_for "row-60"
[ "$(mouse_modes)" = "std=1 drag=0 sgr=0" ] || ui_fail "auto under screen-256color: $(mouse_modes)"
ui_pass "auto: press reporting on (no drag reports) under TERM=screen-256color"

click 80 0
ui_wait_line "┏━ 2 Logs"
click 30 24
ui_wait_line "┏━ 3 Playground"
ui_assert_contains "┌─ 2 Logs"
ui_pass "click on a pane focuses it"

click 10 2
ui_wait_line "┏━ 1 Functions"
ui_wait_line "^│OrdersFunction  RequestResponse"
click 10 1
ui_wait_line "^│HelloFunction  RequestResponse"
click 10 12 # below the last row: nothing to select
sleep 0.3
ui_assert_contains "│HelloFunction  RequestResponse"
ui_pass "click on a Functions row selects its function"

click 10 24
ui_wait_line "^┃⏵ sqs \(template\)"
click 10 21
ui_wait_line "^┃⏵ ada "
ui_pass "click on a Playground event selects it"

# the console-start run may still be printing on a loaded machine
lk_wait_until "$UI_TIMEOUT" eval '[ "$(tests_top)" = row-44 ]' ||
	ui_fail "Tests pane should follow the output's end, shows $(tests_top) first"
wheel_up 90 30
ui_until present -F "│row-41 " 10 || ui_fail "wheel up did not scroll the Tests pane"
ui_assert_contains "┏━ 3 Playground"
wheel_up 90 30
ui_wait_line "│row-38 "
wheel_down 90 30
ui_wait_line "│row-41 "
wheel_down 90 30
wheel_down 90 30
ui_wait_line "│row-44 "
ui_wait_line "│row-60 "
ui_assert_contains "┏━ 3 Playground"
ui_pass "wheel scrolls the Tests pane under the pointer; the focus stays"

wheel_down 30 10
ui_wait_line "^┃OrdersFunction  RequestResponse"
ui_assert_contains "┏━ 3 Playground"
wheel_up 30 10
ui_wait_line "^┃HelloFunction  RequestResponse"
ui_pass "wheel over an unfocused pane without its own handler moves its selection"

click 90 27
ui_wait_line "┏━ 4 Tests"
selected_line "row-50"
ui_pass "click on a Tests output line selects it"

# Two invocations: log lines to click and a history to click in.
click 10 21
ui_wait_line "^┃⏵ ada "
ui_keys s
ui_wait_line "HelloFunction/ada "
ui_wait_line "HelloFunct greeting Ada"
click 10 22
ui_wait_line "^┃⏵ s3-put \(template\)"
ui_keys s
ui_wait_line "HelloFunction/template:s3-put "
wheel_down 10 33 # over the response: it scrolls, the selection stays
ui_wait_gone "HelloFunction/template:s3-put "
ui_assert_contains "⏵ s3-put (template)"
wheel_up 10 33
ui_wait_line "HelloFunction/template:s3-put "
ui_pass "wheel over the Playground's response scrolls it"
ui_keys h
ui_wait_line "^┃History "
ui_wait_line "HelloFunction template:s3-put "
ui_wait_line "HelloFunction ada "
if ui_screen | grep -n "HelloFunction ada " | grep -q '^2[2-7]:'; then
	ada_y=$(($(ui_screen | grep -n "HelloFunction ada " | head -1 | cut -d: -f1) - 1))
else
	ui_fail "history row not where expected"
fi
click 10 "$ada_y"
selected_line "HelloFunction ada "
ui_pass "click on a Playground history row selects it"

log_y=$(($(ui_screen | grep -n "HelloFunct greeting Ada" | head -1 | cut -d: -f1) - 1))
[ "$log_y" -ge 2 ] && [ "$log_y" -le 18 ] || ui_fail "no log line in the Logs pane"
click 90 "$log_y"
ui_wait_line "┏━ 2 Logs"
selected_line "HelloFunct greeting Ada"
ui_pass "click on a Logs line selects it"

click 117 39
ui_wait_for "Help: keys"
ui_assert_not_contains "Scroll the pane under the pointer" # at the end: needs scrolling
for i in 1 2 3 4 5 6 7 8; do wheel_down 60 20; done
ui_wait_for "Scroll the pane under the pointer"
ui_assert_contains "Mouse (on)"
click 60 20 # inside the help: stays
sleep 0.3
ui_assert_contains "Help: keys"
click 2 2
ui_wait_gone "Help: keys"
ui_pass "click on '? help' opens the help; a click outside closes it"

ui_keys M # the mouse request: off for the moment, then on again
ui_wait_for "mouse off: drag selects text; M turns it on"
[ "$(mouse_modes)" = "std=0 drag=0 sgr=0" ] || ui_fail "M did not turn reporting off"
click 10 24
sleep 0.5
ui_assert_contains "┏━ 2 Logs"
ui_keys M
ui_wait_for "mouse on: click focuses"
[ "$(mouse_modes)" = "std=1 drag=0 sgr=0" ] || ui_fail "M did not turn reporting on"
click 10 24
ui_wait_line "┏━ 3 Playground"
ui_pass "M turns the mouse off and on"
ui_quit
[ "$(mouse_modes)" = "std=0 drag=0 sgr=0" ] || ui_fail "reporting left on after quit: $(mouse_modes)"
ui_pass "quit turns mouse reporting off"

# --no-mouse: nothing asked of the terminal; stray reports are dropped, never keys (a wheel
# report "\e[Ma.." would otherwise press 'a' = new event in the Playground).
ui_run_console --no-mouse
ui_wait_for "1 Functions"
[ "$(mouse_modes)" = "std=0 drag=0 sgr=0" ] || ui_fail "--no-mouse: $(mouse_modes)"
ui_keys 3
ui_wait_line "┏━ 3 Playground"
wheel_down 10 24
click 80 0
click 117 39
# keys are read in order: once a later key has acted, the bytes above have been handled
ui_keys 4
ui_wait_line "┏━ 4 Tests"
ui_keys 3
ui_wait_line "┏━ 3 Playground"
ui_assert_contains "┏━ 3 Playground" "┌─ 2 Logs"
ui_assert_not_contains "new event" "Help: keys" "[M"
ui_keys ? End
ui_wait_for "Mouse (off)"
ui_keys Escape
ui_wait_gone "Help: keys"
ui_quit
ui_pass "--no-mouse: no reporting, the same bytes do nothing"

# A read-only seat may use the mouse: selecting and scrolling change nothing.
ui_run_console --read-only
ui_wait_for "[read-only]"
click 10 2
ui_wait_line "^│OrdersFunction  RequestResponse"
wheel_up 10 5
ui_wait_line "^│HelloFunction  RequestResponse"
if ui_screen | tail -1 | grep -qF "read-only: "; then ui_fail "the mouse was refused"; fi
ui_quit
ui_pass "--read-only: click and wheel work, nothing refused"

# SGR reports under xterm-256color; LAMBDECK_MOUSE=off there too.
UI_ENV="TERM=xterm-256color"
ui_run_console
ui_wait_for "1 Functions"
[ "$(mouse_modes)" = "std=1 drag=0 sgr=1" ] || ui_fail "auto under xterm-256color: $(mouse_modes)"
sgr 0 80 0 M
sgr 0 80 0 m
ui_wait_line "┏━ 2 Logs"
sgr 0 10 2 M
sgr 0 10 2 m
ui_wait_line "┏━ 1 Functions"
ui_wait_line "^│OrdersFunction  RequestResponse"
ui_quit
ui_pass "xterm-256color: SGR reports focus and select"
UI_ENV="TERM=xterm-256color LAMBDECK_MOUSE=off"
ui_run_console
ui_wait_for "1 Functions"
[ "$(mouse_modes)" = "std=0 drag=0 sgr=0" ] || ui_fail "LAMBDECK_MOUSE=off: $(mouse_modes)"
ui_keys 3
ui_wait_line "┏━ 3 Playground"
sgr 65 10 24 M
sgr 0 80 0 M
sgr 0 80 0 m
ui_keys 4
ui_wait_line "┏━ 4 Tests"
ui_keys 3
ui_wait_line "┏━ 3 Playground"
ui_assert_contains "┏━ 3 Playground"
ui_assert_not_contains "new event" "[<"
ui_quit
ui_pass "LAMBDECK_MOUSE=off: no reporting, SGR bytes do nothing"

# A terminal without a mouse (no kmous): auto leaves it off; --mouse says why not.
UI_ENV="TERM=vt100"
ui_run_console --mouse
ui_wait_for "reports no mouse"
[ "$(mouse_modes)" = "std=0 drag=0 sgr=0" ] || ui_fail "vt100: $(mouse_modes)"
ui_quit
ui_pass "vt100: no mouse; --mouse says the terminal reports none"

# The Linux console: auto leaves the mouse to GPM (its selection is the console's copy and
# paste).
UI_ENV="TERM=linux"
ui_run_console
ui_wait_for "1 Functions"
[ "$(mouse_modes)" = "std=0 drag=0 sgr=0" ] || ui_fail "linux: $(mouse_modes)"
ui_quit
ui_pass "TERM=linux: auto leaves the mouse off"
