#!/bin/bash
# 'lambdeck functions [--json]' over the examples and broken fixtures: output, exit status,
# and the same file:line:col message as the console shows.
set -u
: "${LAMBDECK:?}" "${LAMBDECK_SRC:?}"
fail=0
check() { # description, condition exit status
	if [ "$2" -eq 0 ]; then echo "ok - $1"; else echo "not ok - $1"; fail=1; fi
}
ex="$LAMBDECK_SRC/examples"
fx="$LAMBDECK_SRC/tests/fixtures/project"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$LAMBDECK" --project "$ex/hello-python" functions); rc=$?
check "hello-python exits 0" $rc
grep -q '^HelloFunction$' <<<"$out"; check "hello-python lists HelloFunction" $?
grep -q 'source      hello/app.py:11$' <<<"$out"; check "HelloFunction source file:line" $?
grep -q 'source      orders/app.py:14$' <<<"$out"; check "OrdersFunction source file:line" $?

for e in hello-python hello-node hello-bash; do
	"$LAMBDECK" --project "$ex/$e" functions --json >"$tmp/$e.json"
	check "$e --json exits 0" $?
	/usr/bin/python3 - "$tmp/$e.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["functions"], "no functions"
for f in d["functions"]:
    assert f["problem"] is None, (f["name"], f["problem"])
    assert f["sourceFile"] and f["sourceLine"] > 0, f
    assert f["runtime"], f
assert d["test"], "no test command"
PY
	check "$e: every function has a source line, no problems, a test command" $?
done
/usr/bin/python3 - "$tmp/hello-node.json" "$tmp/hello-bash.json" <<'PY'
import json, sys
node = {f["name"]: f for f in json.load(open(sys.argv[1]))["functions"]}
assert node["greet"]["deployedName"] == "hello-node-dev-greet", node["greet"]
assert node["greet"]["sourceFile"].endswith("/src/greet.mjs")
assert node["counter"]["sourceFile"].endswith("/src/counter.js")
bash = json.load(open(sys.argv[2]))["functions"][0]
assert bash["runtime"] == "provided.al2023" and bash["sourceFile"].endswith("/function.sh")
PY
check "hello-node deployed names and hello-bash handler script" $?

# Broken files: exit 1, message on stderr with file:line:col, nothing on stdout.
out=$("$LAMBDECK" --project "$fx/broken-yaml" functions 2>"$tmp/err"); rc=$?
[ $rc -eq 1 ]; check "broken template exits 1 (got $rc)" $?
[ -z "$out" ]; check "broken template prints nothing on stdout" $?
want="lambdeck: $fx/broken-yaml/template.yaml:6:6: did not find expected key while parsing a block mapping (started at line 3)"
[ "$(cat "$tmp/err")" = "$want" ]; check "broken template message: $(cat "$tmp/err")" $?
"$LAMBDECK" --project "$fx/broken-json" functions --json >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ]; check "broken lambdeck.json --json exits 1" $?
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["error"]["message"]==sys.argv[2], d' \
	"$tmp/out" "$fx/broken-json/lambdeck.json:4:6: invalid JSON"
check "broken json message in the --json error object" $?
"$LAMBDECK" --project "$fx/broken-json" functions >/dev/null 2>"$tmp/err"
grep -qx "lambdeck: $fx/broken-json/lambdeck.json:4:6: invalid JSON" "$tmp/err"; check "broken json message" $?
# Relative --project: the message names the file relative to the current directory.
(cd "$fx" && "$LAMBDECK" --project broken-sls functions 2>&1 >/dev/null) >"$tmp/err"
grep -qx "lambdeck: broken-sls/serverless.yml:5:1: .*" "$tmp/err"; check "relative path in message" $?
(cd "$fx/broken-types" && "$LAMBDECK" functions 2>&1 >/dev/null) >"$tmp/err"
grep -qx "lambdeck: template.yaml:2:3: Resources must be a mapping" "$tmp/err"; check "default project dir" $?

# No functions: a hint how to add one, exit 0.
mkdir "$tmp/empty"
out=$("$LAMBDECK" --project "$tmp/empty" functions); rc=$?
check "empty project exits 0" $rc
grep -q "No functions found. Add one" <<<"$out"; check "empty project says how to add a function" $?
"$LAMBDECK" --project "$tmp/nope" functions 2>/dev/null; rc=$?
[ $rc -eq 1 ]; check "missing directory exits 1" $?
"$LAMBDECK" functions --bogus 2>/dev/null; rc=$?
[ $rc -eq 2 ]; check "unknown argument exits 2" $?

# Control characters from a config file never reach the terminal raw.
mkdir "$tmp/evil"
printf '{"functions": [{"name": "\\u001b[2JEvil", "runtime": "python3.12", "handler": "a.b"}]}' >"$tmp/evil/lambdeck.json"
out=$("$LAMBDECK" --project "$tmp/evil" functions)
grep -q '^\^\[\[2JEvil$' <<<"$out"; check "escape sequences in names are shown as ^[" $?
! grep -q $'\x1b' <<<"$out"; check "no raw ESC in the output" $?
"$LAMBDECK" --project "$tmp/evil" functions --json | /usr/bin/python3 -c 'import json,sys; assert json.load(sys.stdin)["functions"][0]["name"] == "\x1b[2JEvil"'
check "--json keeps the exact name (escaped by JSON)" $?

[ $fail -eq 0 ] && echo "functions_cli: all passed"
exit $fail
