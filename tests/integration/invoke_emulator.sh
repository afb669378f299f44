#!/bin/bash
# 'lambdeck invoke' and 'lambdeck replay' against a real emulator for the three examples
# (Python/SAM, Node/serverless.yml, bash/provided): payloads, function errors (exit 1,
# X-Amz-Function-Error), log tail + REPORT numbers, history lines, replay, snapshots saved,
# the 6 MB refusal, and a network failure recorded in the history.
set -u
. "$LAMBDECK_SRC/tests/lib/check.sh"
PY=/usr/bin/python3
L=$LAMBDECK
. "$LAMBDECK_SRC/tests/lib/emu.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-invoke.XXXXXX")
cleanup() { rm -rf "$T"; }
trap 'emu__exit; cleanup' EXIT

# jq-like: jget FILE EXPR (python expression over j)
jget() { $PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

for ex in hello-python hello-node hello-bash; do
	bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" "examples/$ex" "$T/$ex"
	rm -rf "$T/$ex/.lambdeck" "$T/$ex/node_modules"
done

# --- Python (SAM). The emulator runs in the project's state dir, so lambdeck attaches to it.
P=$T/hello-python
cd "$P"
EMU_STATE=$P/.lambdeck/emulator emu_start
"$L" invoke OrdersFunction --event new-order --json >"$T/o1.json" 2>"$T/o1.err"
check "python: invoke exit 0" test $? = 0
check "python: status 200" test "$(jget "$T/o1.json" 'j["status"]')" = 200
check "python: payload" test "$(jget "$T/o1.json" 'json.loads(j["payload"]["body"])["total"]')" = "12.00"
check "python: log tail has the function's output" grep -q "order o-42" "$T/o1.json"
check "python: REPORT duration parsed" $PY -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["durationMs"] > 0 and j["maxMemoryMb"] > 0 and j["memoryMb"] == 128 and j["clientMs"] > 0' "$T/o1.json"
check "python: mode local" test "$(jget "$T/o1.json" 'j["mode"]')" = local
"$L" invoke HelloFunction --event ada >"$T/h.out" 2>"$T/h.err"
check "python: text output: payload on stdout" grep -q '"statusCode": 200' "$T/h.out"
check "python: text output: status line on stderr" grep -q '^200  HelloFunction  local' "$T/h.err"
check "python: text output: log tail on stderr" grep -q 'greeting Ada' "$T/h.err"
check "python: history has 2 lines" test "$(wc -l <.lambdeck/history.jsonl)" = 2
check "python: history lines are entries" $PY -c '
import json,sys
e=[json.loads(l) for l in open(".lambdeck/history.jsonl")]
assert e[0]["function"]=="OrdersFunction" and e[0]["eventName"]=="new-order" and e[0]["status"]==200, e[0]
assert json.loads(e[0]["event"])["id"]=="o-42"
assert e[1]["function"]=="HelloFunction" and "Hello, Ada!" in e[1]["response"] and e[1]["durationMs"]>0
assert e[0]["mode"]=="local" and e[0]["type"]=="RequestResponse"'
"$L" replay 2 --json >"$T/r.json" 2>/dev/null
check "python: replay 2 = OrdersFunction" test "$(jget "$T/r.json" 'j["function"]')" = OrdersFunction
check "python: replay recorded" test "$(wc -l <.lambdeck/history.jsonl)" = 3
check "python: replay --list" sh -c "'$L' replay --list | head -1 | grep -q 'OrdersFunction'"
"$L" invoke OrdersFunction --type Event --event new-order >/dev/null 2>"$T/ev.err"
check "python: Event invocation -> 202" grep -q '^202  OrdersFunction' "$T/ev.err"
"$L" invoke HelloFunction --event ada --snapshot ada >/dev/null 2>&1
check "python: snapshot saved" test -f events/HelloFunction/ada.snapshot.json
check "python: snapshot has expected response" $PY -c '
import json; s=json.load(open("events/HelloFunction/ada.snapshot.json"))
assert s["expected"]["status"]==200 and s["payload"]=={"name":"Ada"} and "**.requestId" in s["ignore"]'
$PY -c 'print("{\"a\": \"" + "x"*(6*1024*1024) + "\"}")' >"$T/big.json"
n=$(wc -l <.lambdeck/history.jsonl)
"$L" invoke OrdersFunction --event "$T/big.json" 2>"$T/big.err"
check "python: > 6 MB refused (a bad --event: usage, exit 2)" test $? = 2
check "python: refusal says why" grep -q 'at most 6291456 bytes (not sent)' "$T/big.err"
check "python: refusal not recorded" test "$(wc -l <.lambdeck/history.jsonl)" = "$n"
printf '{\n  "id": 1,\n  "x": [1 2]\n}\n' >"$T/bad.json"
"$L" invoke OrdersFunction --event "$T/bad.json" 2>"$T/bad.err"
check "python: invalid event refused with line:col" grep -q "bad.json:3:11: unexpected .2., expected .,. or .]." "$T/bad.err"
# A network failure (nothing listens on port 9) is recorded as a failure.
AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 AWS_MAX_ATTEMPTS=1 \
	"$L" --endpoint-url http://127.0.0.1:9 invoke HelloFunction --event ada 2>"$T/net.err" >/dev/null
check "network failure: exit 1" test $? = 1
check "network failure: recorded in history" $PY -c '
import json; e=json.loads(open(".lambdeck/history.jsonl").readlines()[-1])
assert e["mode"]=="aws" and e["errorCode"] and e["errorMessage"] and e["status"]==0, e'
emu_stop

# --- Node (serverless.yml)
P=$T/hello-node
cd "$P"
EMU_STATE=$P/.lambdeck/emulator emu_start
"$L" invoke greet --event ada --json >"$T/n.json" 2>/dev/null
check "node: exit 0" test $? = 0
check "node: payload" test "$(jget "$T/n.json" 'json.loads(j["payload"]["body"])["message"]')" = "Hello, Ada! (stage dev)"
check "node: log tail" grep -q "greeting Ada" "$T/n.json"
"$L" invoke counter --event by-five --json >"$T/c.json" 2>/dev/null
check "node: callback handler" test "$(jget "$T/c.json" 'j["status"]')" = 200
"$L" replay --json >"$T/nr.json" 2>/dev/null
check "node: replay newest = counter" test "$(jget "$T/nr.json" 'j["function"]')" = counter
emu_stop

# --- bash (provided.al2023)
P=$T/hello-bash
cd "$P"
EMU_STATE=$P/.lambdeck/emulator emu_start
"$L" invoke HelloBash --event ada --json >"$T/b.json" 2>/dev/null
check "bash: exit 0" test $? = 0
check "bash: payload" test "$(jget "$T/b.json" 'j["payload"]["message"]')" = "hello from bash"
"$L" invoke HelloBash --event fail --json >"$T/bf.json" 2>/dev/null
check "bash: function error exits 1" test $? = 1
check "bash: X-Amz-Function-Error shown" test "$(jget "$T/bf.json" 'j["functionError"]')" = Unhandled
"$L" invoke HelloBash --event fail >/dev/null 2>"$T/bf.err"
check "bash: text shows the function error" grep -q '^200 Unhandled' "$T/bf.err"
check "bash: failure in history" $PY -c '
import json; e=json.loads(open(".lambdeck/history.jsonl").readlines()[-1])
assert e["functionError"]=="Unhandled" and e["status"]==200, e'
"$L" replay >/dev/null 2>&1
check "bash: replay of a failing event exits 1" test $? = 1
emu_stop

check_exit
