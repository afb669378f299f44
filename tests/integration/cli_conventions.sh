#!/bin/bash
# The CLI's shared conventions (issue 22, CLI list): --json is camelCase, one JSON document
# per line, with {"error": {"code", "message"}} and a non-zero exit status on failure; the
# same mistake gives the same exit status everywhere (2 = usage: unknown option, command,
# function, event or template, bad --type, bad event JSON) with a did-you-mean; deploy names
# an unknown function once; replay --list --json; events rm needs -y without a terminal;
# console variables do not break subcommands; doctor --no-call starts no emulator;
# functions shows the real deployed name after a local deploy; emulate --env lets the
# AWS CLI (no ~/.aws at all) reach the emulator without printing the secret; plurals.
set -u
. "$LAMBDECK_SRC/tests/lib/check.sh"
L=$LAMBDECK
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-conv.XXXXXX")
cleanup() {
	# the emulator emulate --env left running (kept by design) and any other one here
	if [ -f "$T/p/.lambdeck/emulator/endpoint" ]; then
		pid=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$T/p/.lambdeck/emulator/endpoint" 2>/dev/null)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" examples/hello-python "$T/p"
cd "$T/p"

# one JSON document on one line, camelCase keys (the environment maps hold variable names)
json_ok() { # FILE
	$PY - "$1" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
lines = text.splitlines()
assert lines, "no output"
def walk(v, path):
    if isinstance(v, dict):
        for k, x in v.items():
            if path.endswith(("environment", "Environment", "endpoints")):
                walk(x, path + "." + k)
                continue
            assert re.fullmatch(r"[a-z][A-Za-z0-9]*", k), "key %r at %s" % (k, path)
            walk(x, path + "." + k)
    elif isinstance(v, list):
        for x in v:
            walk(x, path)
for line in lines:
    walk(json.loads(line), "")
PY
}
# the error object: {"error": {"code": CODE, "message": ...}} as the only output
json_error() { # FILE CODE
	$PY - "$1" "$2" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
d = json.loads(lines[0])
assert list(d) == ["error"] and d["error"]["code"] == sys.argv[2] and d["error"]["message"], d
PY
}
status() { # WANT COMMAND... : exit status of COMMAND is WANT
	local want=$1
	shift
	"$@" >"$T/out" 2>"$T/err" </dev/null
	[ $? = "$want" ]
}

# --- --json shapes
"$L" functions --json >"$T/f.json"
check "functions --json: one line, camelCase" json_ok "$T/f.json"
"$L" build --json HelloFunction >"$T/b.json"
check "build --json: one line, camelCase" json_ok "$T/b.json"
"$L" deploy --json HelloFunction >"$T/d.json"
check "deploy --json: one line, camelCase" json_ok "$T/d.json"
check "deploy --json: created" grep -q '"outcome":"created"' "$T/d.json"
"$L" invoke HelloFunction --event ada --json >"$T/i.json"
check "invoke --json: one line, camelCase" json_ok "$T/i.json"
"$L" replay --json >"$T/r.json"
check "replay --json: one line, camelCase" json_ok "$T/r.json"
"$L" replay --list --json >"$T/rl.json"
check "replay --list --json: an array of entries" $PY -c '
import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d,list) and len(d)==2 and d[0]["n"]==1 and d[0]["function"]=="HelloFunction", d' "$T/rl.json"
check "replay --list --json: camelCase" json_ok "$T/rl.json"
"$L" events list --json >"$T/e.json"
check "events list --json: one line, camelCase" json_ok "$T/e.json"
"$L" events templates --json >"$T/t.json"
check "events templates --json: one line, camelCase" json_ok "$T/t.json"
"$L" doctor --json >"$T/doc.json"
check "doctor --json: one line, camelCase" json_ok "$T/doc.json"
"$L" logs --json --since 1h HelloFunction >"$T/l.json"
check "logs --json: one object per line, camelCase" json_ok "$T/l.json"
"$L" test --json >"$T/tr.json"
check "test --json: one line, camelCase" json_ok "$T/tr.json"

# --- error objects with --json, exit status 2 for an unknown function everywhere
for cmd in "invoke HelloFunctio --json" "build HelloFunctio --json" "deploy HelloFunctio --json" \
	"replay --function HelloFunctio --json" "events list HelloFunctio --json" \
	"logs HelloFunctio --json"; do
	# shellcheck disable=SC2086
	check "$cmd: exit 2" status 2 "$L" $cmd
	check "$cmd: error object UnknownFunction" json_error "$T/out" UnknownFunction
	check "$cmd: did you mean" grep -q "did you mean 'HelloFunction'" "$T/out"
done
for cmd in "invoke HelloFunctio" "build HelloFunctio" "deploy HelloFunctio" "logs HelloFunctio" \
	"replay --function HelloFunctio" "events show HelloFunctio ada" "events rm HelloFunctio ada -y"; do
	# shellcheck disable=SC2086
	check "$cmd: exit 2, did you mean on stderr" sh -c '"$@" >/dev/null 2>"$0"; [ $? = 2 ] && grep -q "unknown function .HelloFunctio.; did you mean .HelloFunction." "$0"' "$T/err2" "$L" $cmd
done
check "deploy names an unknown function once" sh -c '"$1" deploy Hello 2>&1 | grep -ow "Hello" | wc -l | grep -qx 1' sh "$L"
check "invoke --json: a failed call keeps an error object" status 1 env AWS_ACCESS_KEY_ID=AKIDEXAMPLE \
	AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 AWS_MAX_ATTEMPTS=1 "$L" --endpoint-url http://127.0.0.1:9 \
	invoke HelloFunction --json
check "invoke --json: the failed call's error object" $PY -c '
import json,sys; d=json.loads(open(sys.argv[1]).read()); assert d["status"]==0 and d["error"]["code"] and d["error"]["message"] and d["function"]=="HelloFunction", d' "$T/out"

# --- bad event JSON, unknown event and template, --type
check "invoke: bad --event JSON exits 2" status 2 "$L" invoke HelloFunction --event '{"a":'
check "invoke: bad --event JSON says where" grep -q "<--event>:1:6" "$T/err"
check "invoke --json: bad --event JSON exits 2" status 2 "$L" invoke HelloFunction --event '{"a":' --json
check "invoke --json: bad --event JSON is a ParseError object" json_error "$T/out" ParseError
check "invoke: unknown saved event exits 2 with did you mean" sh -c '"$1" invoke HelloFunction --event adaa 2>&1 >/dev/null; [ $? = 2 ]' sh "$L"
"$L" invoke HelloFunction --event adaa 2>"$T/ev.err" >/dev/null
check "invoke: unknown saved event suggests ada" grep -q "did you mean 'ada'" "$T/ev.err"
"$L" invoke HelloFunction --event template:s3-pt 2>"$T/tp.err" >/dev/null
check "invoke: unknown template suggests template:s3-put" grep -q "did you mean 'template:s3-put'" "$T/tp.err"
check "events templates: unknown template exits 2" status 2 "$L" events templates s3-pt
for t in Sync event requestresponse; do
	check "invoke --type $t refused (exit 2)" status 2 "$L" invoke HelloFunction --type "$t"
done
check "invoke --type Event accepted" status 0 "$L" invoke HelloFunction --type Event
check "invoke --type DryRun accepted" status 0 "$L" invoke HelloFunction --type DryRun

# --- unknown options, commands, subcommands: exit 2 with did you mean
check "unknown option: exit 2" status 2 "$L" functions --jsn
check "unknown option: did you mean --json" grep -q "did you mean '--json'" "$T/err"
check "unknown global option: did you mean --project" sh -c '"$1" --projct . functions 2>&1 | grep -q "did you mean .--project."' sh "$L"
check "unknown command: exit 2" status 2 "$L" fuctions
check "unknown command: did you mean functions" grep -q "did you mean 'functions'" "$T/err"
check "events: unknown subcommand exits 2" status 2 "$L" events lst
check "events: did you mean list" grep -q "did you mean 'list'" "$T/err"
check "invoke: unknown option exits 2" status 2 "$L" invoke HelloFunction --evnt ada
check "invoke: did you mean --event" grep -q "did you mean '--event'" "$T/err"
check "invoke --event without a value: exit 2" status 2 "$L" invoke HelloFunction --event
check "invoke --event without a value: says so" grep -q -- "--event needs a value" "$T/err"
check "invoke --json --bogus: exit 2" status 2 "$L" invoke HelloFunction --json --bogus
check "invoke --json --bogus: a UsageError object" json_error "$T/out" UsageError
check "events list --json --bogus: a UsageError object" sh -c '"$1" events list --json --bogus >"$2"; [ $? = 2 ]' sh "$L" "$T/out"
check "events list --json --bogus: the object" json_error "$T/out" UsageError
check "events new: unknown option suggests --template" sh -c '"$1" events new HelloFunction x --tmplate s3-put 2>&1 | grep -q "did you mean .--template."' sh "$L"

# --- replay of an unknown function
check "replay --function NoSuch: exit 2" status 2 "$L" replay --function NoSuch
check "replay --function NoSuch: unknown function, not '0 recorded'" sh -c 'grep -q "unknown function .NoSuch." "$0" && ! grep -q recorded "$0"' "$T/err"

# --- events rm without a terminal
"$L" events new HelloFunction gone >/dev/null
check "events rm without -y and no terminal: exit 2" status 2 "$L" events rm HelloFunction gone
check "events rm without -y: the event is still there" test -f events/HelloFunction/gone.json
check "events rm -y deletes" status 0 "$L" events rm HelloFunction gone -y
check "events rm -y: gone" test ! -f events/HelloFunction/gone.json

# --- console variables never break subcommands
check "LAMBDECK_LOW_BANDWIDTH=maybe functions works" status 0 env LAMBDECK_LOW_BANDWIDTH=maybe "$L" functions
check "LAMBDECK_MOUSE=maybe functions works" status 0 env LAMBDECK_MOUSE=maybe "$L" functions

# --- functions after a local deploy: the real deployed name and its state
"$L" functions >"$T/fn.txt"
"$L" functions --json >"$T/f.json"
check "functions: deployed name and state after a local deploy" grep -Eq "deployed    HelloFunction \(local emulator, last deploy (created|unchanged)\)" "$T/fn.txt"
check "functions: no 'resolved at deploy time' for a deployed function" sh -c '! grep -A9 "^HelloFunction$" "$0" | grep -q "resolved at deploy time"' "$T/fn.txt"
check "functions --json: lastDeploy" $PY -c '
import json,sys; d=json.load(open(sys.argv[1])); f={x["name"]:x for x in d["functions"]}
assert f["HelloFunction"]["lastDeploy"]["outcome"] in ("created", "unchanged") and f["HelloFunction"]["lastDeploy"]["local"] is True, f["HelloFunction"]
assert f["OrdersFunction"]["lastDeploy"] is None' "$T/f.json"

# --- doctor --no-call starts no emulator (every command above has stopped its own)
bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" examples/hello-python "$T/q"
check "doctor --no-call: exit 0" status 0 "$L" --project "$T/q" doctor --no-call
check "doctor --no-call: no endpoint printed" sh -c '! grep -q "127.0.0.1" "$0"' "$T/out"
check "doctor --no-call: no emulator started" test ! -e "$T/q/.lambdeck/emulator"
"$L" --project "$T/q" doctor --no-call --json >"$T/dn.json"
check "doctor --no-call --json: mode local, endpoint null" $PY -c '
import json,sys; d=json.load(open(sys.argv[1])); assert d["mode"]=="local" and d["endpoint"] is None, d' "$T/dn.json"

# --- emulate --env: the AWS CLI with no ~/.aws at all reaches the emulator
mkdir "$T/home"
"$L" emulate --env >"$T/env.sh" 2>"$T/env.err"
check "emulate --env: exit 0" test $? = 0
secret=$(sed -n 's/^aws_secret_access_key *= *//p' .lambdeck/emulator/credentials)
check "emulate --env: never prints the secret" sh -c '[ -n "$1" ] && ! grep -qF -- "$1" "$0"' "$T/env.sh" "$secret"
check "emulate --env: the AWS CLI lists the functions with an empty HOME" env -i PATH=/usr/bin:/bin HOME="$T/home" \
	AWS_EC2_METADATA_DISABLED=true sh -c '. "$0" && /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" lambda list-functions --query "Functions[].FunctionName" --output text | grep -q HelloFunction' "$T/env.sh"
check "emulate --env: region set without ~/.aws/config" env -i PATH=/usr/bin:/bin HOME="$T/home" \
	sh -c '. "$0" && [ "$AWS_REGION" = us-east-1 ] && [ "$AWS_DEFAULT_REGION" = us-east-1 ]' "$T/env.sh"
check "emulate --env: the emulator outlives the command" env -i PATH=/usr/bin:/bin HOME="$T/home" \
	AWS_EC2_METADATA_DISABLED=true sh -c '. "$0" && /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" lambda get-function --function-name HelloFunction >/dev/null' "$T/env.sh"

# --- plurals
mkdir -p "$T/one/src"
printf 'def handler(e, c):\n    return 1\n' >"$T/one/src/app.py"
printf '{"functions": [{"name": "One", "runtime": "python3.12", "handler": "app.handler", "code": "src"}]}\n' >"$T/one/lambdeck.json"
"$L" --project "$T/one" build >"$T/one.out" 2>&1
check "build: '1 file' (not '1 files')" sh -c 'grep -q " 1 file " "$0" && ! grep -q "1 files" "$0"' "$T/one.out"
env -i PATH=/usr/bin:/bin HOME="$T/home" AWS_MAX_ATTEMPTS=1 AWS_EC2_METADATA_DISABLED=true \
	"$L" --project "$T/one" --aws --region us-east-1 doctor --no-call >"$T/doc1.out" 2>&1
check "doctor: 'retries: 1 attempt'" grep -q "^retries: *1 attempt$" "$T/doc1.out"

check_exit
