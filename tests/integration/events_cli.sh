#!/bin/bash
# 'lambdeck events': templates, new/show/list/rename/cp/rm, the editor round trip with an
# invalid edit kept in .lambdeck/recovery and continued on the next edit. No emulator needed.
set -u
. "$LAMBDECK_SRC/tests/lib/check.sh"
L=$LAMBDECK
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-events.XXXXXX")
trap 'rm -rf "$T"' EXIT
bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" examples/hello-python "$T/p"
cd "$T/p"

# (every template's shape is checked in unit.events; here the CLI plumbing)
check "at least 12 templates listed; a few render as JSON" /usr/bin/python3 -c '
import json, subprocess, sys
ts = json.loads(subprocess.check_output([sys.argv[1], "events", "templates", "--json"]))
assert len(ts) >= 12, len(ts)
for name in ("s3-put", "apigw-http", "cloudwatch-logs"):
    json.loads(subprocess.check_output([sys.argv[1], "events", "templates", name]))
' "$L"
out=$("$L" events templates kinesis --param data=hello-there)
check "kinesis data is base64" sh -c "printf '%s' '$out' | /usr/bin/python3 -c 'import json,sys,base64; e=json.load(sys.stdin); assert base64.b64decode(e[\"Records\"][0][\"kinesis\"][\"data\"])==b\"hello-there\"'"
check "unknown parameter refused" sh -c "! '$L' events templates sqs --param nope=1 2>$T/err && grep -q \"no parameter 'nope'\" $T/err"

check "new from template" "$L" events new OrdersFunction put --template s3-put --param bucket=bk
check "file written" test -f events/OrdersFunction/put.json
check "show prints it" sh -c "'$L' events show OrdersFunction put | grep -q '\"name\": \"bk\"'"
check "existing name refused" sh -c "! '$L' events new OrdersFunction put 2>/dev/null"
check "unknown function refused" sh -c "! '$L' events new Typo x 2>$T/err && grep -q \"unknown function 'Typo'\" $T/err"
check "path escape refused" sh -c "! '$L' events new OrdersFunction ../../x 2>/dev/null"
check "no directory outside events/" test ! -e ../x.json
check "rename" "$L" events rename OrdersFunction put upload
check "cp" "$L" events cp OrdersFunction upload upload2
check "list --json" sh -c "'$L' events list OrdersFunction --json | /usr/bin/python3 -c 'import json,sys; n=[e[\"name\"] for e in json.load(sys.stdin)]; assert n==[\"new-order\",\"upload\",\"upload2\"], n'"
check "rm -y" "$L" events rm OrdersFunction upload2 -y
check "rm of a missing event fails" sh -c "! '$L' events rm OrdersFunction upload2 -y 2>/dev/null"

# Editor round trip: an "editor" that writes invalid JSON, then one that fixes it.
cat >"$T/bad-editor" <<'ED'
#!/bin/sh
printf '{\n  "orderId": "7",\n  "items": [1, 2\n}\n' >"$1"
ED
cat >"$T/fix-editor" <<'ED'
#!/bin/sh
grep -q '"items": \[1, 2$' "$1" || exit 1   # continues from the recovery copy
printf '{\n  "orderId": "7",\n  "items": [1, 2]\n}\n' >"$1"
ED
chmod +x "$T/bad-editor" "$T/fix-editor"
before=$(cat events/OrdersFunction/new-order.json)
EDITOR="$T/bad-editor" VISUAL= "$L" events edit OrdersFunction new-order 2>"$T/err"
rc=$?
check "invalid edit fails" test "$rc" = 1
check "error names file:line:col" grep -q 'events/OrdersFunction/new-order.json:4:1:' "$T/err"
check "saved event untouched" test "$(cat events/OrdersFunction/new-order.json)" = "$before"
check "recovery copy kept" grep -q '"items": \[1, 2$' .lambdeck/recovery/OrdersFunction/new-order.json
check "list marks the unsaved edit" sh -c "'$L' events list OrdersFunction | grep new-order | grep -q recovery"
check "fixed edit saves" env EDITOR="$T/fix-editor" VISUAL= "$L" events edit OrdersFunction new-order
check "saved content" grep -q '"items": \[1, 2\]' events/OrdersFunction/new-order.json
check "recovery copy gone" test ! -e .lambdeck/recovery/OrdersFunction/new-order.json

check_exit
