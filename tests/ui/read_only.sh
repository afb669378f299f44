#!/bin/bash
# The --read-only seat end to end (issue 11, item 2): every mutating key of every pane is
# refused with a "read-only: ... is disabled" message (deploy, full deploy, build, send,
# new/rename/delete/edit event, snapshot, test run, watch), and opening a file runs the
# editor with its read-only flag (vim -R) instead of being refused.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

mkdir -p "$UI_DIR/bin"
# A stand-in named vim so the console picks vim's read-only flag; it records its argv.
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/editor.args"\n' "$UI_DIR" >"$UI_DIR/bin/vim"
chmod +x "$UI_DIR/bin/vim"
UI_ENV="EDITOR=$UI_DIR/bin/vim"

refused() { # refused KEY WHAT
	ui_keys "$1"
	ui_wait_for "read-only: $2 is disabled"
}

ui_start --read-only
ui_wait_for "[read-only]"
ui_keys 1
refused d deploy
ui_keys C-l
refused b build
refused D deploy
ui_pass "functions: deploy, full deploy, build refused"

ui_keys c
lk_wait_until 10 test -s "$UI_DIR/editor.args"
[ -s "$UI_DIR/editor.args" ] || ui_fail "the editor was not started for the config file"
grep -qx -- "-R" "$UI_DIR/editor.args" || ui_fail "editor not run read-only: $(tr '\n' ' ' <"$UI_DIR/editor.args")"
grep -q "lambdeck.json\|template.yaml" "$UI_DIR/editor.args" || ui_fail "editor not given the config file"
ui_wait_for "1 Functions"
ui_pass "functions: config opens in the editor with -R"

ui_keys 3
refused s invoking
refused a "creating events"
refused e editing
refused R "changing events"
refused S "saving snapshots"
ui_keys 3
refused d "changing events"
ui_pass "playground: send, new, edit, rename, delete, snapshot refused"

ui_keys 4
refused r "running tests"
refused w "watching for changes"
ui_pass "tests: run and watch refused"
ui_assert_contains "[read-only]"
ui_quit
