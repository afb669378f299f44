#!/bin/bash
# build_cli.sh - `lambdeck build` end to end on a lambdeck.json project: dependency install
# from requirements.txt (a local wheel, no network) into the cached staging dir, installer
# output shown, cache reuse, patch builds, installer failure keeps the previous artifact,
# unknown function -> exit 1 while the others build, --json output, `unzip -t`.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-build-cli.XXXXXX")
trap '[ -n "${LK_KEEP:-}" ] || rm -rf "$T"' EXIT
P=$T/proj
mkdir -p "$P/src/wheels" "$P/other"
cat >"$P/lambdeck.json" <<'JSON'
{
  "functions": {
    "Fn": {"runtime": "python3.12", "handler": "app.handler", "code": "src",
           "exclude": ["wheels/**", "*.md"]},
    "Other": {"runtime": "python3.12", "handler": "main.handler", "code": "other"}
  }
}
JSON
printf 'import lkdemo\n\ndef handler(event, context):\n    return lkdemo.VALUE\n' >"$P/src/app.py"
printf 'notes\n' >"$P/src/README.md"
printf 'def handler(e, c):\n    return 1\n' >"$P/other/main.py"
/usr/bin/python3 - "$P/src/wheels" <<'PY'
import base64, hashlib, sys, zipfile
name, ver = "lkdemo", "1.0"
files = {f"{name}/__init__.py": b"VALUE = 42\n",
         f"{name}-{ver}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n".encode(),
         f"{name}-{ver}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
rec = [f"{k},sha256={base64.urlsafe_b64encode(hashlib.sha256(v).digest()).rstrip(b'=').decode()},{len(v)}" for k, v in files.items()]
rec.append(f"{name}-{ver}.dist-info/RECORD,,")
files[f"{name}-{ver}.dist-info/RECORD"] = ("\n".join(rec) + "\n").encode()
with zipfile.ZipFile(f"{sys.argv[1]}/{name}-{ver}-py3-none-any.whl", "w") as z:
    for k, v in files.items():
        z.writestr(k, v)
PY
echo "./wheels/lkdemo-1.0-py3-none-any.whl" >"$P/src/requirements.txt"
ZIP=$P/.lambdeck/build/Fn/code.zip
jq_() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# 1. first build: installs the dependency, shows pip's output
"$LAMBDECK" --project "$P" build --json Fn >"$T/out1.json" 2>"$T/err1" || { cat "$T/err1"; fail "first build"; }
[ "$(jq_ "$T/out1.json" 'd[0]["outcome"]')" = built ] || fail "outcome: $(cat "$T/out1.json")"
[ "$(jq_ "$T/out1.json" 'd[0]["depsInstalled"]')" = True ] || fail "deps not installed"
grep -q "Successfully installed lkdemo" "$T/err1" || fail "installer output not shown: $(cat "$T/err1")"
grep -Eq '\$ (/[^ ]*/)?python3[.0-9]* -m pip install' "$T/err1" || fail "installer command not shown"  # the function's interpreter
unzip -tq "$ZIP" >/dev/null || fail "unzip -t"
unzip -Z1 "$ZIP" >"$T/list1"
grep -qx "lkdemo/__init__.py" "$T/list1" || fail "dependency not packaged: $(cat "$T/list1")"
grep -qx "app.py" "$T/list1" || fail "app.py missing"
grep -qx "requirements.txt" "$T/list1" || fail "requirements.txt missing"
! grep -q "wheels/" "$T/list1" || fail "excluded glob packaged"
! grep -q "README.md" "$T/list1" || fail "excluded *.md packaged"
sort -c "$T/list1" 2>/dev/null || LC_ALL=C sort -c "$T/list1" || fail "entries not sorted"
# the dependency really works from the zip
mkdir "$T/x" && (cd "$T/x" && unzip -q "$ZIP" && /usr/bin/python3 -c 'import app; assert app.handler({}, None) == 42') || fail "packaged code does not run"
SHA1=$(jq_ "$T/out1.json" 'd[0]["codeSha256"]')
[ "$SHA1" = "$(/usr/bin/python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' "$ZIP")" ] || fail "code_sha256 is not base64(sha256(zip))"

# 2. nothing changed: unchanged, installer not run, zip untouched
cp "$ZIP" "$T/zip1"
"$LAMBDECK" --project "$P" build --json Fn >"$T/out2.json" 2>"$T/err2"
[ "$(jq_ "$T/out2.json" 'd[0]["outcome"]')" = unchanged ] || fail "second build: $(cat "$T/out2.json")"
! grep -q "pip install" "$T/err2" || fail "installer ran again"
cmp -s "$ZIP" "$T/zip1" || fail "zip rewritten without a change"

# 3. code edit: patched, dependencies from the cache
printf '\n# edited\n' >>"$P/src/app.py"
"$LAMBDECK" --project "$P" build --json Fn >"$T/out3.json" 2>"$T/err3"
[ "$(jq_ "$T/out3.json" 'd[0]["outcome"]')" = built ] || fail "third build"
[ "$(jq_ "$T/out3.json" 'd[0]["full"]')" = False ] || fail "not patched"
[ "$(jq_ "$T/out3.json" 'd[0]["changed"]')" = 1 ] || fail "changed count"
[ "$(jq_ "$T/out3.json" 'd[0]["depsCached"]')" = True ] || fail "deps not from the cache"
! grep -q "pip install" "$T/err3" || fail "installer ran for a code-only change"
cp "$ZIP" "$T/zip3"
# a full rebuild of the same tree is byte-identical
"$LAMBDECK" --project "$P" build --full --json Fn >"$T/out3f.json" 2>/dev/null
cmp -s "$ZIP" "$T/zip3" || fail "patched zip differs from the full build"

# 4. broken requirements: installer fails, exit 1, previous artifact intact
cp "$P/src/requirements.txt" "$T/req"
echo "./wheels/does-not-exist-2.0-py3-none-any.whl" >>"$P/src/requirements.txt"
if "$LAMBDECK" --project "$P" build Fn >"$T/out4" 2>"$T/err4"; then fail "broken requirements built"; fi
grep -q "failed" "$T/out4" || fail "no failure line: $(cat "$T/out4")"
grep -q "previous artifact kept" "$T/out4" || fail "message: $(cat "$T/out4")"
grep -qi "does-not-exist" "$T/err4" || fail "pip's error not shown: $(cat "$T/err4")"
cmp -s "$ZIP" "$T/zip3" || fail "failed install touched the artifact"
# back to the old requirements: the cached install is reused
cp "$T/req" "$P/src/requirements.txt"
"$LAMBDECK" --project "$P" build --json Fn >"$T/out5.json" 2>"$T/err5"
[ "$(jq_ "$T/out5.json" 'd[0]["outcome"]')" = unchanged ] || fail "after revert: $(cat "$T/out5.json")"
! grep -q "pip install" "$T/err5" || fail "installer ran for a cached requirements.txt"
ls "$P/.lambdeck/build/Fn/deps" | grep -q '\.tmp$' && fail "staging dir left behind"

# 5. an unknown function is a usage error (exit 2, as in every command), nothing is built;
#    the others build when named alone
rc=0
"$LAMBDECK" --project "$P" build Nope Other >"$T/out6" 2>&1 || rc=$?
[ $rc = 2 ] || fail "unknown function: exit status not 2: $(cat "$T/out6")"
grep -q "unknown function 'Nope'" "$T/out6" || fail "unknown: $(cat "$T/out6")"
grep -q "^Other .*built" "$T/out6" && fail "Other built despite the usage error"
"$LAMBDECK" --project "$P" build Other >"$T/out6" 2>&1 || fail "Other alone: $(cat "$T/out6")"
grep -q "^Other .*built" "$T/out6" || fail "Other not built: $(cat "$T/out6")"
# 6. another process builds the same function (holds its lock): we wait for it, then build
echo "# waited" >>"$P/src/app.py"
flock "$P/.lambdeck/build/Fn/.lock" sleep 1.5 &
holder=$!
sleep 0.3
t0=$(date +%s%N)
"$LAMBDECK" --project "$P" build --json Fn >"$T/out7.json" 2>"$T/err7" ||
	fail "build while another holds the lock: $(cat "$T/out7.json" "$T/err7")"
t1=$(date +%s%N)
wait $holder
[ "$(jq_ "$T/out7.json" 'd[0]["outcome"]')" = built ] || fail "after the wait: $(cat "$T/out7.json")"
[ $(((t1 - t0) / 1000000)) -ge 1000 ] || fail "did not wait for the lock holder"
# usage errors exit 2
set +e
"$LAMBDECK" --project "$P" build --bogus >/dev/null 2>&1
[ $? -eq 2 ] || fail "usage error status"
set -e
echo "ok"
