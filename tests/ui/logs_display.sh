#!/bin/bash
# Logs pane display toggles with the console's own emulator (LOCAL mode): J shows a JSON log
# line compact (re-printed without spaces), then pretty on several indented lines, then
# compact again; t switches the times from local time (the console runs with TZ at
# UTC+05:30) to UTC, marked with a Z, and back: the shown time moves by the offset.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

ui_python_function orders <<'PY'
import json
def handler(event, context):
    n = event.get("n")
    print("plain line %s" % n)
    print(json.dumps({"level": "info", "msg": "hello json", "n": n}))
    return {"ok": True}
PY
# POSIX form of Asia/Kolkata (UTC+05:30, no DST): needs no tzdata on the machine
UI_ENV="TZ=IST-5:30"

ui_start
ui_wait_for "not created yet" 45
ui_keys 2 z
# `lambdeck invoke` from outside attaches to the console's emulator (and deploys first)
(cd "$UI_PROJ" && PATH=/usr/bin:/bin "$LAMBDECK" invoke orders --event '{"n": 1}' >/dev/null 2>&1) ||
	ui_fail "invoke orders"
ui_wait_for "plain line 1" 45

# JSON: compact, pretty, compact
COMPACT='{"level":"info","msg":"hello json","n":1}'
ui_wait_for "$COMPACT"
ui_assert_not_contains '"level": "info"'
ui_keys J
ui_wait_line '^[┃│ ]*[0-9:.]+ orders +\{ *[┃│ ]*$'
ui_wait_line '^[┃│ ]{20,}"level": +"info", *[┃│ ]*$'
ui_wait_line '^[┃│ ]{20,}"msg": +"hello json", *[┃│ ]*$'
ui_wait_line '^[┃│ ]{20,}"n": +1 *[┃│ ]*$'
ui_wait_line '^[┃│ ]{20,}\} *[┃│ ]*$'
ui_assert_not_contains "$COMPACT"
ui_pass "J: the JSON line is pretty, one member per indented line"
ui_keys J
ui_wait_for "$COMPACT"
ui_wait_line_gone '^[┃│ ]{20,}"msg": +"hello json", *[┃│ ]*$'
ui_pass "J again: compact"

# time of the plain line, as shown: HH:MM:SS with or without the Z of UTC
shown_time() { # $1 = "" (local) or "Z" (UTC)
	ui_screen | sed -n "s/^[┃│ ]*\([0-9][0-9]\):\([0-9][0-9]\):\([0-9][0-9]\)\.[0-9]\{3\}$1 orders  *plain line 1.*/\1 \2 \3/p" | head -n 1
}
ui_wait_line '^[┃│ ]*[0-9:]{8}\.[0-9]{3} orders +plain line 1'
ui_assert_not_contains "Z orders"
read -r lh lm ls <<<"$(shown_time "")"
[ -n "${ls:-}" ] || ui_fail "no local time on the plain line"
ui_keys t
ui_wait_line '^[┃│ ]*[0-9:]{8}\.[0-9]{3}Z orders +plain line 1'
read -r uh um us <<<"$(shown_time Z)"
[ -n "${us:-}" ] || ui_fail "no UTC time on the plain line"
[ "$us" = "$ls" ] || ui_fail "seconds differ: local $lh:$lm:$ls, UTC $uh:$um:$us"
diff=$(((10#$lh * 60 + 10#$lm - 10#$uh * 60 - 10#$um + 1440) % 1440))
[ "$diff" -eq 330 ] || ui_fail "local $lh:$lm:$ls - UTC $uh:$um:$us = $diff min, want 330 (UTC+05:30)"
ui_pass "t: UTC, marked Z, 5 h 30 min behind the local time"
ui_keys t
ui_wait_line "^[┃│ ]*$lh:$lm:$ls\\.[0-9]{3} orders +plain line 1"
ui_assert_not_contains "Z orders"
ui_pass "t again: local time"

ui_quit
