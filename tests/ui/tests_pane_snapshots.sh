# tests_pane_snapshots.sh - snapshot tests as their own group in the Tests pane, replayed
# through the real local emulator after each run: a saved snapshot passes; editing its
# expectation (a save under events/) re-runs and lists the difference; Enter opens the
# snapshot file in the editor; the console exits cleanly (emulator stopped, no leaks).
. "$LAMBDECK_SRC/tests/lib/ui.sh"

mkdir -p "$UI_DIR/bin" "$UI_DIR/src"
cat >"$UI_DIR/bin/vi" <<EOF2
#!/bin/sh
printf '%s\n' "\$*" >> "$UI_DIR/editor.log"
EOF2
chmod +x "$UI_DIR/bin/vi"
UI_ENV="EDITOR=$UI_DIR/bin/vi"

# A copy of the example with one snapshot saved by a real invocation.
bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" examples/hello-python "$UI_DIR/src"
rm -rf "$UI_DIR/src/.lambdeck"
(cd "$UI_DIR/src" && PATH=/usr/bin:/bin "$LAMBDECK" invoke HelloFunction --event ada --snapshot ada \
	>"$UI_DIR/invoke.log" 2>&1) || { cat "$UI_DIR/invoke.log"; ui_fail "could not save a snapshot"; }
rm -rf "$UI_DIR/src/.lambdeck"
UI_PROJECT="$UI_DIR/src"

ui_start
ui_keys 4 z
ui_wait_for "snapshots ✓ 1/1" 60
ui_assert_contains "snapshots: ✓ 1 passed"
ui_pass "snapshot replayed as its own group after the first run"

sed -i 's/Hello, Ada!/Hello, Bob!/' "$UI_PROJ/events/HelloFunction/ada.snapshot.json"
ui_wait_for "snapshots ✗ 0/1" 60
ui_wait_for 'body.message: expected "Hello, Bob!", got "Hello, Ada!"'
ui_assert_contains "events/HelloFunction/ada.snapshot.json"
ui_pass "a changed snapshot re-runs on save and shows the difference"

ui_keys Enter
lk_wait_until 10 test -s "$UI_DIR/editor.log"
grep -qx "$UI_PROJ/events/HelloFunction/ada.snapshot.json" "$UI_DIR/editor.log" ||
	ui_fail "editor got: $(cat "$UI_DIR/editor.log" 2>/dev/null)"
ui_wait_for "4 Tests"
ui_pass "Enter opens the snapshot file"

ui_quit
