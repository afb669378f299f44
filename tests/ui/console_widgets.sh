#!/bin/bash
# Prompt widget (the ':' request prompt), editor launch (edit-keys: terminal handed over,
# loop kept, full redraw, keymap reloaded), a missing editor, user keys file with a bad line.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

# An editor for the test: shows it owns the terminal, waits for a line typed on the tty,
# then appends a binding to the file it was given (its last argument) and exits.
cat >"$UI_DIR/editor" <<'SH'
#!/bin/bash
for f; do :; done
printf 'TEST-EDITOR args: %s\n' "$*"
read -r line
echo "bind global x focus-4" >>"$f"
SH
chmod +x "$UI_DIR/editor"

# The user's keys file: one good line, one bad line.
mkdir -p "$UI_DIR/config/lambdeck"
printf 'bind global Z zoom\nbind global y no-such-request\n' >"$UI_DIR/config/lambdeck/keys"

UI_ENV="VISUAL=$UI_DIR/editor"
ui_start
ui_wait_for "lambdeck/keys:2: unknown request"
ui_keys Z
ui_wait_for "1 Functions [zoom]"
ui_keys Z
ui_wait_for "4 Tests"
ui_pass "user keys file: bad line warned with file:line, the good line works"

ui_keys :
ui_wait_for "request:"
ui_type "focus-3"
ui_wait_for "request: focus-3"
ui_keys BSpace BSpace; ui_type "-4"; ui_keys Enter
ui_wait_line "┏━ 4 Tests"
ui_keys :
ui_type "bogus"
ui_keys Enter
ui_wait_for "unknown request 'bogus'"
ui_keys :
ui_type "zoom"
ui_keys Escape
ui_wait_gone "request:"
ui_assert_not_contains "[zoom]"
ui_pass "prompt: typing, backspace, Enter runs, Esc cancels, errors shown"

ui_keys :
ui_type "edit-keys"
ui_keys Enter
ui_wait_for "TEST-EDITOR args: $UI_DIR/config/lambdeck/keys"
ui_assert_not_contains "1 Functions"
ui_type "done"
ui_keys Enter
ui_wait_for "1 Functions"
ui_wait_for "4 Tests"
ui_keys 1 x
ui_wait_line "┏━ 4 Tests"
grep -qx "bind global x focus-4" "$UI_DIR/config/lambdeck/keys" || ui_fail "editor did not write the file"
ui_pass "editor launch: terminal handed over, screen redrawn, keymap reloaded"
ui_keys q
ui_wait_for "lambdeck-exit="
# Keymap warnings are listed on stderr after the screen is restored.
ui_assert_contains "lambdeck: warning: $UI_DIR/config/lambdeck/keys:2: unknown request 'no-such-request'"
ui_wait_exit 0

UI_ENV="VISUAL=$UI_DIR/no-such-editor"
ui_run_console
ui_wait_for "1 Functions"
ui_keys :
ui_type "edit-keys"
ui_keys Enter
ui_wait_for "cannot start editor '$UI_DIR/no-such-editor'"
ui_keys 2
ui_wait_line "┏━ 2 Logs"
ui_quit
ui_pass "missing editor: a message, the console keeps working"
