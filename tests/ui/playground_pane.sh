#!/bin/bash
# The Playground pane in tmux against a real emulator (started by the console itself):
# send with one key, the response with status/latency/REPORT/log tail, history with an
# invocation from another process showing up, replay, diff, filter, new from template with
# the parameter form, an invalid edit kept as a recovery copy, snapshot, delete with confirm.
. "$LAMBDECK_SRC/tests/lib/ui.sh"
UI_ROWS=50
UI_COLS=160
cat >"$UI_DIR/bad-editor" <<'ED'
#!/bin/sh
printf '{\n  "name": "Bob",\n  "x": [1 2]\n}\n' >"$1"
ED
chmod +x "$UI_DIR/bad-editor"
UI_ENV="EDITOR=$UI_DIR/bad-editor VISUAL="
ui_start
ui_keys 3
ui_wait_for "HelloFunction  RequestResponse"
ui_assert_contains "ada"
ui_assert_contains "s3-put (template)"
ui_pass "events of the first function and the templates"

# Send with one key (the first send starts the emulator and deploys: allow time).
ui_keys s
ui_wait_line "200  HelloFunction/ada  [0-9.]+ ms  dur [0-9.]+ ms" 60
ui_wait_for "Hello, Ada!"
ui_assert_contains "-- log tail --"
ui_assert_contains "greeting Ada"
ui_wait_line "key to result [0-9.]+ ms"
ui_pass "send shows status, latency, REPORT numbers, payload and log tail"

# A second send is warm.
ui_keys s
ui_wait_line "key to result [0-9.]+ ms"

# History; an invocation from another process appears within a second.
ui_keys h
ui_wait_line "History \(all functions\) 2"
ui_assert_contains "HelloFunction ada 200"
(cd "$UI_PROJ" && PATH=/usr/bin:/bin "$LAMBDECK" invoke OrdersFunction --event new-order >/dev/null 2>&1) ||
	ui_fail "CLI invoke next to the console failed"
ui_wait_for "OrdersFunction new-order 200" 3
ui_wait_line "History \(all functions\) 3"
ui_pass "history shows another process's invocation"

# Diff against the previous response to the same event (select the newest HelloFunction).
ui_keys Down
ui_keys =
ui_wait_for "responses are identical"
ui_pass "diff against the previous response"

# Filter by function, replay.
ui_keys f
ui_wait_line "History \(HelloFunction\) 2"
ui_keys r
ui_wait_line "History \(HelloFunction\) 3" 30
ui_keys f
ui_wait_line "History \(all functions\) 4"
ui_pass "filter and replay"

# New event from a template with the parameter form.
ui_keys h
ui_wait_for "HelloFunction  RequestResponse"
ui_keys Down Down Down   # ada -> s3-put, s3-delete, sqs
ui_wait_line "sqs \(template\)"
ui_keys a
ui_wait_for "new event from template, name"
ui_keys Enter
ui_wait_for "body ("
ui_keys C-u
ui_type "hello queue"
ui_keys Enter Enter Enter Enter Enter
ui_wait_line "⏵ sqs +┃"
test -f "$UI_PROJ/events/HelloFunction/sqs.json" || ui_fail "sqs.json not written"
grep -q '"body": "hello queue"' "$UI_PROJ/events/HelloFunction/sqs.json" || ui_fail "parameter not used"
ui_pass "new event from a template"

# An invalid edit: error with line:col, recovery copy, marker in the list.
ui_keys e
ui_wait_for "events/HelloFunction/sqs.json:3:11:"
ui_wait_for "[unsaved edit]"
test -f "$UI_PROJ/.lambdeck/recovery/HelloFunction/sqs.json" || ui_fail "no recovery copy"
grep -q '"body": "hello queue"' "$UI_PROJ/events/HelloFunction/sqs.json" || ui_fail "event overwritten"
ui_pass "invalid edit kept in recovery"

# Snapshot of the last invocation.
ui_keys S
ui_wait_for "save snapshot as"
ui_keys Enter
# (the status-bar message may be replaced at once by the Tests pane re-running on save)
ui_wait_for "ada  [snapshot]"
test -f "$UI_PROJ/events/HelloFunction/ada.snapshot.json" || ui_fail "no snapshot file"
ui_pass "snapshot saved"

# Delete asks first.
ui_keys d
ui_wait_for "delete events/HelloFunction/sqs.json?"
ui_keys n
sleep 0.3
test -f "$UI_PROJ/events/HelloFunction/sqs.json" || ui_fail "deleted although answered no"
ui_keys d
ui_wait_for "delete events/HelloFunction/sqs.json?"
ui_keys y
ui_wait_gone "sqs  [unsaved edit]"
test ! -f "$UI_PROJ/events/HelloFunction/sqs.json" || ui_fail "still there"
test ! -f "$UI_PROJ/.lambdeck/recovery/HelloFunction/sqs.json" || ui_fail "recovery copy left"
ui_pass "delete with confirm"

ui_quit
