# console_session.sh - one console = one backend session (issue 17 item 1): with all four
# panes at work (Functions, Logs tailing, a Playground send, the Tests pane replaying a
# snapshot) the console holds ONE emulator lease (<project>/.lambdeck/emulator/users) and
# both Playground and Tests invoke through it; the console exits cleanly.
. "$LAMBDECK_SRC/tests/lib/ui.sh"
UI_COLS=160
UI_ROWS=50

# A copy of the example with one snapshot saved by a real invocation.
mkdir -p "$UI_DIR/src"
cp -R "$LAMBDECK_SRC/examples/hello-python/." "$UI_DIR/src/"
rm -rf "$UI_DIR/src/.lambdeck"
(cd "$UI_DIR/src" && PATH=/usr/bin:/bin "$LAMBDECK" invoke HelloFunction --event ada --snapshot ada \
	>"$UI_DIR/invoke.log" 2>&1) || { cat "$UI_DIR/invoke.log"; ui_fail "could not save a snapshot"; }
rm -rf "$UI_DIR/src/.lambdeck"
UI_PROJECT="$UI_DIR/src"

ui_start
ui_keys 4 z
ui_wait_for "snapshots ✓ 1/1" 60
ui_keys 3
ui_wait_for "HelloFunction  RequestResponse"
ui_keys s
ui_wait_line "200  HelloFunction/ada  [0-9.]+ ms" 60
ui_keys 2
ui_pass "Tests replayed a snapshot, Playground sent, Logs and Functions are up"

pid=$(ui_pid)
users="$UI_PROJ/.lambdeck/emulator/users"
leases=$(find "$users" -maxdepth 1 -name "$pid-*" | wc -l)
sockets=$(find "/proc/$pid/fd" -maxdepth 1 -lname 'socket:*' 2>/dev/null | wc -l)
echo "console pid $pid: $leases emulator lease(s), $sockets socket(s)"
[ "$leases" -eq 1 ] || ui_fail "the console holds $leases emulator leases (want 1): $(ls "$users")"
ui_pass "one emulator lease for the whole console"

ui_quit
