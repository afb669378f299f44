# console_session.sh - one console = one backend session (issue 17 item 1): with all four
# panes at work (Functions, Logs tailing, a Playground send, the Tests pane replaying a
# snapshot) the console holds ONE emulator lease (<project>/.lambdeck/emulator/users) and
# both Playground and Tests invoke through it; the console exits cleanly. In AWS mode (an
# emulator as --endpoint-url, a profile with credential_process) the same four panes run
# credential_process once: one client, one credential cache.
. "$LAMBDECK_SRC/tests/lib/ui.sh"
UI_COLS=160
UI_ROWS=50

# A copy of the example with one snapshot saved by a real invocation.
mkdir -p "$UI_DIR/src"
bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" examples/hello-python "$UI_DIR/src"
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

# AWS mode against an emulator started here; its credentials come from credential_process.
"$LAMBDECK" emulate --port 0 --state-dir "$UI_DIR/emu" --exit-with-parent --any-credentials \
	>"$UI_DIR/emu.out" 2>"$UI_DIR/emu.log" &
emu=$!
for _ in $(seq 300); do grep -q '}' "$UI_DIR/emu.out" 2>/dev/null && break; sleep 0.05; done
endpoint=$(sed -n 's/.*"endpoint": *"\([^"]*\)".*/\1/p' "$UI_DIR/emu.out")
[ -n "$endpoint" ] || { cat "$UI_DIR/emu.log"; ui_fail "the emulator did not start"; }
cat >"$UI_DIR/creds.sh" <<EOF2
#!/bin/sh
echo run >>"$UI_DIR/creds.runs"
echo '{"Version": 1, "AccessKeyId": "AKIDSESSIONTEST", "SecretAccessKey": "secret"}'
EOF2
chmod +x "$UI_DIR/creds.sh"
mkdir -p "$UI_DIR/home/.aws"
printf '[profile proc]\nregion = us-east-1\ncredential_process = %s\n' "$UI_DIR/creds.sh" \
	>"$UI_DIR/home/.aws/config"
ui_run_console --aws --profile proc --endpoint-url "$endpoint"
ui_wait_for "1 Functions"
ui_keys 4 z
ui_wait_for "snapshots ✗ 0/1" 60
ui_keys 3
ui_wait_for "HelloFunction  RequestResponse"
ui_keys s
ui_wait_for "FAILED  HelloFunction/ada" 60
ui_keys 2
ui_pass "AWS mode: Tests replayed, Playground sent, Logs and Functions are up"
runs=$(wc -l <"$UI_DIR/creds.runs")
echo "AWS mode: credential_process ran $runs time(s)"
[ "$runs" -eq 1 ] || ui_fail "credential_process ran $runs times (want 1: one client)"
ui_pass "one credential cache for the whole console"
ui_quit
kill "$emu" 2>/dev/null
wait "$emu" 2>/dev/null || true
