#!/bin/bash
# deploy_local.sh - quick deploy end to end in local mode against the emulator, checked with
# the AWS CLI: a copy of examples/hello-python is deployed (functions created), a handler is
# edited, `lambdeck deploy` pushes only that function, `aws lambda invoke` returns the new
# behaviour, CodeSha256 matches the local artifact, unchanged functions are skipped;
# --watch redeploys on save (and ignores swap/backup files); --full runs the configured
# command with its output and exit status, and names a missing tool.
set -euo pipefail
. "$LAMBDECK_SRC/tests/lib/emu.sh"
. "$LAMBDECK_SRC/tests/lib/scale.sh"
fail() { echo "FAIL: $*" >&2; [ -f "${T:-}/watch.out" ] && cat "$T/watch.out" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-deploy-local.XXXXXX")
WATCH_PID=""
cleanup() {
	[ -n "$WATCH_PID" ] && kill -INT "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
	rm -rf "$T"
}
trap 'cleanup; emu__exit' EXIT
P=$T/proj
bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" examples/hello-python "$P"
rm -rf "$P/.lambdeck"
# the emulator lives where `lambdeck deploy` (mode.h) looks for the project's emulator
EMU_STATE=$P/.lambdeck/emulator
emu_start
invoke() { # function payload -> response body on stdout
	/usr/bin/aws --endpoint-url "$ENDPOINT" lambda invoke --function-name "$1" \
		--cli-binary-format raw-in-base64-out --payload "$2" "$T/resp.json" >/dev/null
	cat "$T/resp.json"
}

# 1. first deploy creates both functions in the emulator
"$LAMBDECK" --project "$P" deploy >"$T/d1" 2>&1 || { cat "$T/d1"; fail "first deploy"; }
grep -q "^HelloFunction .*created" "$T/d1" || fail "HelloFunction not created: $(cat "$T/d1")"
grep -q "^OrdersFunction .*created" "$T/d1" || fail "OrdersFunction not created"
invoke HelloFunction '{"name":"Ada"}' | grep -q 'Hello, Ada!' || fail "first invoke: $(cat "$T/resp.json")"

# 2. edit one handler: only that function is updated, the new code answers
sed -i 's/return f"{greeting}, {name}!"/return f"{greeting}, {name}! (v2)"/' "$P/hello/app.py"
grep -q "(v2)" "$P/hello/app.py" || fail "sed did not edit the handler"
"$LAMBDECK" --project "$P" deploy >"$T/d2" 2>&1 || { cat "$T/d2"; fail "second deploy"; }
grep -q "^HelloFunction .*updated" "$T/d2" || fail "HelloFunction not updated: $(cat "$T/d2")"
grep -q "^OrdersFunction .*unchanged" "$T/d2" || fail "OrdersFunction not skipped: $(cat "$T/d2")"
invoke HelloFunction '{"name":"Ada"}' | grep -q 'Hello, Ada! (v2)' || fail "new code not live: $(cat "$T/resp.json")"
# the deployed CodeSha256 is the local artifact's
LOCAL=$("$LAMBDECK" --project "$P" build --json HelloFunction | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["codeSha256"])')
REMOTE=$(/usr/bin/aws --endpoint-url "$ENDPOINT" lambda get-function --function-name HelloFunction --query Configuration.CodeSha256 --output text)
[ "$LOCAL" = "$REMOTE" ] || fail "CodeSha256 local $LOCAL != deployed $REMOTE"

# 3. nothing changed: skipped; --force uploads anyway; unknown names are usage errors (exit 2)
"$LAMBDECK" --project "$P" deploy >"$T/d3" 2>&1 || fail "third deploy"
[ "$(grep -c ' unchanged ' "$T/d3")" = 2 ] || fail "not skipped: $(cat "$T/d3")"
"$LAMBDECK" --project "$P" deploy --force HelloFunction >"$T/d4" 2>&1 || fail "forced deploy"
grep -q "^HelloFunction .*updated" "$T/d4" || fail "--force: $(cat "$T/d4")"
rc=0
"$LAMBDECK" --project "$P" deploy NoSuchFunction >"$T/d5" 2>&1 || rc=$?
[ $rc = 2 ] || fail "unknown function: exit status not 2: $(cat "$T/d5")"
grep -q "unknown function 'NoSuchFunction'" "$T/d5" || fail "unknown: $(cat "$T/d5")"
grep -q "NoSuchFunction.*NoSuchFunction" "$T/d5" && fail "name doubled: $(cat "$T/d5")"

# 4. --watch: a save redeploys the function; swap/backup files never trigger
"$LAMBDECK" --project "$P" deploy --watch >"$T/watch.out" 2>&1 &
WATCH_PID=$!
lk_wait_until 10 grep -q "^watching" "$T/watch.out" || true
grep -q "^watching" "$T/watch.out" || fail "watch did not start"
sed -i 's/(v2)/(v3)/' "$P/hello/app.py"
lk_wait_until 15 grep -q "^HelloFunction .*updated" "$T/watch.out" || true
grep -q "^HelloFunction .*updated" "$T/watch.out" || fail "watch did not deploy"
grep -q "change: .*hello/app.py -> deploying HelloFunction$" "$T/watch.out" || fail "wrong trigger"
invoke HelloFunction '{"name":"Ada"}' | grep -q '(v3)' || fail "watch: new code not live"
ROUNDS=$(grep -c "^change:" "$T/watch.out")
echo x >"$P/hello/.app.py.swp"
echo x >"$P/hello/app.py~"
echo x >"$P/hello/4913"
mkdir -p "$P/hello/__pycache__" && echo x >"$P/hello/__pycache__/app.cpython-312.pyc"
sleep 0.6
[ "$(grep -c "^change:" "$T/watch.out")" = "$ROUNDS" ] || fail "a swap/backup file triggered a deploy"
kill -INT "$WATCH_PID"
wait "$WATCH_PID" || fail "watch exited non-zero after Ctrl-C"
WATCH_PID=""
rm -f "$P/hello/.app.py.swp" "$P/hello/app.py~" "$P/hello/4913"

# 5. --full: the configured command, output streamed, exit status reported
cat >"$P/lambdeck.json" <<'JSON'
{"deploy": ["/usr/bin/printf", "full deploy ran in %s\n", "the tool"]}
JSON
"$LAMBDECK" --project "$P" deploy --full >"$T/f1" 2>&1 || fail "full deploy: $(cat "$T/f1")"
grep -q "full deploy ran in the tool" "$T/f1" || fail "output not streamed: $(cat "$T/f1")"
echo '{"deploy": ["/bin/false"]}' >"$P/lambdeck.json"
if "$LAMBDECK" --project "$P" deploy --full >"$T/f2" 2>&1; then fail "failing tool: exit 0"; fi
grep -q "exited with status 1" "$T/f2" || fail "status not reported: $(cat "$T/f2")"
rm "$P/lambdeck.json"
echo 'version = 0.1' >"$P/samconfig.toml"
if "$LAMBDECK" --project "$P" deploy --full >"$T/f3" 2>&1; then fail "missing sam: exit 0"; fi
grep -q "sam: command not found in PATH: install the AWS SAM CLI" "$T/f3" || fail "missing tool message: $(cat "$T/f3")"
rm "$P/samconfig.toml"
if "$LAMBDECK" --project "$P" deploy --full >"$T/f4" 2>&1; then fail "no command: exit 0"; fi
grep -q "sam deploy --guided" "$T/f4" || fail "no-command hint: $(cat "$T/f4")"
echo ok
