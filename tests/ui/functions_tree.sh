#!/bin/bash
# Functions pane on examples/hello-python: the tree, expand/collapse, the incremental filter,
# Enter launching $EDITOR (a script that records its argv) on the right file and +line, and
# the tree following files added and removed on disk without losing the selection.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

# The recording editor is called "vi" so the console passes +LINE as it does for vi.
mkdir -p "$UI_DIR/bin"
cat >"$UI_DIR/bin/vi" <<EOS
#!/bin/sh
for a in "\$@"; do printf '%s\n' "\$a"; done > "$UI_DIR/editor.args.tmp"
mv "$UI_DIR/editor.args.tmp" "$UI_DIR/editor.args"
EOS
chmod +x "$UI_DIR/bin/vi"
UI_ENV="EDITOR=$UI_DIR/bin/vi"

# editor_called EXPECTED_ARGS... : waits for the editor's record and compares it.
editor_called() {
	local want got
	lk_wait_until 10 test -s "$UI_DIR/editor.args"
	[ -s "$UI_DIR/editor.args" ] || ui_fail "the editor was not started"
	want=$(printf '%s\n' "$@")
	got=$(cat "$UI_DIR/editor.args")
	rm -f "$UI_DIR/editor.args"
	# Wait until the editor process is gone and the console has the terminal back.
	i=0
	while pgrep -P "$(ui_pid)" -f "$UI_DIR/bin/vi" >/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.3
	# The shell drops the first key after an editor returns (reported to the tui owner):
	# a redraw request is harmless either way.
	ui_keys C-l
	[ "$got" = "$want" ] || ui_fail "editor argv: got [$got], want [$want]"
}

ui_start
ui_wait_for "2 functions"
ui_wait_line "▸ HelloFunction +py3.12"
ui_wait_line "▸ OrdersFunction +py3.12"
ui_assert_not_contains "app.py"
ui_pass "tree lists both functions, collapsed, with their runtime"

# Expand / collapse.
ui_keys Right
ui_wait_line "▾ HelloFunction"
ui_wait_line "^┃ +app\.py +handler:11"
ui_keys Left
ui_wait_gone "app.py"
ui_wait_line "▸ HelloFunction"
ui_pass "Right expands, Left collapses"

# Enter on a function: its handler file at the handler's line.
ui_keys Enter
editor_called "+11" "$UI_PROJ/hello/app.py"
ui_wait_for "2 functions"
ui_keys Down Enter
editor_called "+14" "$UI_PROJ/orders/app.py"
ui_wait_for "2 functions"
ui_pass "Enter on a function opens its handler at the right line"

# A file added on disk appears (directory watch) and the selection stays put.
ui_keys Up Right
ui_wait_line "^┃ +app\.py"
printf 'def helper():\n    return 1\n' >"$UI_PROJ/hello/util.py"
ui_wait_line "^┃ +util\.py"
ui_keys Down Down
ui_keys Enter
editor_called "$UI_PROJ/hello/util.py"
ui_wait_for "2 functions"
ui_pass "new file shows up; Enter on a file opens it without a line"
mkdir -p "$UI_PROJ/hello/lib"
printf 'x = 1\n' >"$UI_PROJ/hello/lib/deep.py"
ui_wait_line "^┃ +▸ lib/"
rm -f "$UI_PROJ/hello/util.py"
ui_wait_line_gone "^┃ +util\.py"
ui_assert_contains "HelloFunction"
ui_pass "added directory and removed file are followed"

# Incremental filter: the tree narrows with every key; Esc restores it.
ui_keys /
ui_type "ord"
ui_wait_gone "HelloFunction"
ui_wait_line "OrdersFunction"
ui_wait_for "/ord_"
ui_keys BSpace BSpace BSpace
ui_wait_for "HelloFunction"
ui_type "deep"
ui_wait_line "^┃ +deep\.py"
ui_wait_gone "OrdersFunction"
ui_keys Enter
ui_wait_for "(/ edit, Esc clears)"
ui_keys Enter
editor_called "$UI_PROJ/hello/lib/deep.py"
ui_wait_for "/deep"
ui_keys Escape
ui_wait_gone "/deep"
ui_wait_for "OrdersFunction"
ui_pass "filter narrows as you type, Enter opens the match, Esc clears"

ui_quit
ui_pass "functions_tree"
