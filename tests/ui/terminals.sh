#!/bin/bash
# The console's main flows under many terminals (issue 11, item 3): for TERM in
# xterm-256color screen-256color tmux-256color xterm screen linux vt100, with a UTF-8 and a
# non-UTF-8 (C) locale: four titled panes, focus moves (Tab / 1-4), zoom and back, help
# opens and closes, quit restores the shell (icanon echo). Lines are box drawing in UTF-8,
# plain ASCII otherwise, and the screen never shows escape-sequence debris or ACS letters
# (the "lqqqk" of an unmapped alternate charset).
. "$LAMBDECK_SRC/tests/lib/ui.sh"

no_debris() { # $1: label
	local s
	s=$(ui_screen)
	if printf '%s' "$s" | grep -qE $'\e|\\^\\[|\\[[0-9;]+[mHJK]|lqqq|qqqk|mqqq|xxxx'; then
		ui_fail "$1: escape debris or ACS letters on screen"
	fi
}
ascii_only() { # $1: label
	if ui_screen | LC_ALL=C grep -q $'[\x80-\xff]'; then
		ui_fail "$1: non-ASCII bytes on the screen under a non-UTF-8 locale"
	fi
}

first=1
for loc in C.UTF-8 C; do
	for term in xterm-256color screen-256color tmux-256color xterm screen linux vt100; do
		label="TERM=$term LC_ALL=$loc"
		UI_ENV="TERM=$term LC_ALL=$loc"
		if [ $first = 1 ]; then
			ui_start
			first=0
		else
			ui_run_console
		fi
		ui_wait_for "1 Functions"
		ui_wait_for "4 Tests"
		ui_assert_contains "2 Logs" "3 Playground"
		if [ $loc = C ]; then
			ui_wait_line "^#= 1 Functions .*=#\+- 2 Logs .*-\+$"
			ui_wait_line "^\+- 3 Playground .*-\+\+- 4 Tests .*-\+$"
			ascii_only "$label"
		else
			ui_wait_line "^┏━ 1 Functions .*━┓┌─ 2 Logs .*─┐$"
			ui_wait_line "^┌─ 3 Playground .*─┐┌─ 4 Tests .*─┐$"
		fi
		no_debris "$label"
		ui_keys Tab
		if [ $loc = C ]; then ui_wait_line "\+- 1 Functions .*-\+#= 2 Logs"; else ui_wait_line "┌─ 1 Functions .*─┐┏━ 2 Logs"; fi
		ui_keys 4
		if [ $loc = C ]; then ui_wait_line "#= 4 Tests"; else ui_wait_line "┏━ 4 Tests"; fi
		ui_keys z
		ui_wait_for "4 Tests [zoom]"
		ui_assert_not_contains "1 Functions" "3 Playground"
		no_debris "$label zoomed"
		ui_keys z
		ui_wait_for "1 Functions"
		ui_keys ?
		ui_wait_for "Help: keys"
		no_debris "$label help"
		[ $loc = C ] && ascii_only "$label help"
		ui_keys Escape
		ui_wait_gone "Help: keys"
		ui_quit
		ui_pass "$label: panes, focus, zoom, help, quit"
	done
done
