#!/bin/bash
# The AWS CLI (/usr/bin/aws with the emulator's generated credentials file) against
# `lambdeck emulate`: create, list, update, invoke and delete python, node and provided
# functions. (Errors, restarts and the rest are in emulator_lambda.py / emulator_safety.py
# through botocore, which is what the CLI is built on, at a fraction of the start-up cost.)
set -euo pipefail
. "$LAMBDECK_SRC/tests/lib/emu.sh"
FIX=$LAMBDECK_SRC/tests/fixtures/emulator
emu_start

AWS=(/usr/bin/aws --endpoint-url "$ENDPOINT" --output json)
W=$EMU_TMP/work
mkdir -p "$W"
fail=0
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*"
	fail=1
}

# Zip the fixtures (python's zipfile keeps the bootstrap's executable bit).
for d in python node_cjs provided; do
	/usr/bin/python3 -c 'import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for n in sorted(os.listdir(src)):
        z.write(os.path.join(src, n), n)' "$FIX/$d" "$W/$d.zip"
done

# The three creates, invokes and deletes run in parallel: the CLI's start-up dominates.
"${AWS[@]}" lambda create-function --function-name cli-py --runtime python3.12 \
	--handler app.handler --role arn:aws:iam::000000000000:role/x \
	--zip-file "fileb://$W/python.zip" >"$W/create.json" &
pids=($!)
"${AWS[@]}" lambda create-function --function-name cli-node --runtime nodejs20.x \
	--handler index.handler --role arn:aws:iam::000000000000:role/x \
	--zip-file "fileb://$W/node_cjs.zip" >/dev/null &
pids+=($!)
"${AWS[@]}" lambda create-function --function-name cli-bash --runtime provided.al2023 \
	--handler none --role arn:aws:iam::000000000000:role/x \
	--zip-file "fileb://$W/provided.zip" >/dev/null &
pids+=($!)
wait "${pids[@]}" # not a bare wait: the emulator is a background job too
want=$(/usr/bin/python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).decode())' "$W/python.zip")
got=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["CodeSha256"])' "$W/create.json")
[ "$want" = "$got" ] && ok "create-function CodeSha256" || bad "CodeSha256 $got != $want"

names=$("${AWS[@]}" lambda list-functions --query 'Functions[].FunctionName' --output text)
[ "$names" = "$(printf 'cli-bash\tcli-node\tcli-py')" ] && ok "list-functions" || bad "list-functions: $names"

pids=()
for f in cli-py cli-node cli-bash; do
	"${AWS[@]}" lambda invoke --function-name "$f" --cli-binary-format raw-in-base64-out \
		--payload '{"from":"cli"}' --log-type Tail "$W/$f.out" >"$W/$f.meta" &
	pids+=($!)
done
wait "${pids[@]}"
for f in cli-py cli-node cli-bash; do
	if grep -q '"cli"' "$W/$f.out" && ! grep -q FunctionError "$W/$f.meta"; then
		ok "invoke $f"
	else
		bad "invoke $f: $(cat "$W/$f.out" "$W/$f.meta")"
	fi
	log=$(/usr/bin/python3 -c 'import base64, json, sys; print(base64.b64decode(json.load(open(sys.argv[1]))["LogResult"]).decode())' "$W/$f.meta")
	case $log in
	*"START RequestId:"*"END RequestId:"*"REPORT RequestId:"*) ok "$f log tail has START/END/REPORT" ;;
	*) bad "$f log tail: $log" ;;
	esac
done

# update code: v2 is what the very next invoke runs
mkdir -p "$W/py2"
sed 's/VERSION = "v1"/VERSION = "v2"/' "$FIX/python/app.py" >"$W/py2/app.py"
(cd "$W/py2" && /usr/bin/python3 -m zipfile -c ../py2.zip app.py)
"${AWS[@]}" lambda update-function-code --function-name cli-py --zip-file "fileb://$W/py2.zip" \
	--query LastUpdateStatus --output text | grep -q Successful && ok "update-function-code" || bad "update-function-code"
"${AWS[@]}" lambda invoke --function-name cli-py "$W/v2.out" >/dev/null
grep -q '"version": "v2"' "$W/v2.out" && ok "new code runs right after update" || bad "after update: $(cat "$W/v2.out")"

pids=()
for f in cli-py cli-node cli-bash; do
	"${AWS[@]}" lambda delete-function --function-name "$f" &
	pids+=($!)
done
wait "${pids[@]}"
if "${AWS[@]}" lambda get-function --function-name cli-py 2>"$W/nf.err"; then
	bad "get-function of a deleted function succeeded"
else
	grep -q ResourceNotFoundException "$W/nf.err" && ok "deleted -> ResourceNotFoundException" || bad "$(cat "$W/nf.err")"
fi
exit $fail
