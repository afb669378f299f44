#!/bin/bash
# deps_shared.sh - functions that share a code directory and its requirements.txt install
# their dependencies once (not once per function), in parallel builds and one after the
# other; a failed install runs once, fails every sharing function with a message that says
# how to go on, and --skip-deps (global option, "skip_deps" in lambdeck.json) lets build,
# deploy and invoke go on without installing. Local wheels: no network.
set -u
. "$LAMBDECK_SRC/tests/lib/check.sh"
PY=/usr/bin/python3
L=$LAMBDECK
. "$LAMBDECK_SRC/tests/lib/emu.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-deps.XXXXXX")
trap 'emu__exit; [ -n "${LK_KEEP:-}" ] || rm -rf "$T"' EXIT
P=$T/proj
mkdir -p "$P/src/wheels"
$PY "$LAMBDECK_SRC/tests/lib/make_wheel.py" "$P/src/wheels" lkdemo 1.0 42
# five functions, one code directory, one requirements.txt; F5 does not import the dependency
cat >"$P/lambdeck.json" <<'JSON'
{
  "functions": {
    "F1": {"runtime": "python3.12", "handler": "app.uses_dep", "code": "src"},
    "F2": {"runtime": "python3.12", "handler": "app.uses_dep", "code": "src"},
    "F3": {"runtime": "python3.12", "handler": "app.uses_dep", "code": "src"},
    "F4": {"runtime": "python3.12", "handler": "app.uses_dep", "code": "src"},
    "F5": {"runtime": "python3.12", "handler": "plain.handler", "code": "src"}
  }
}
JSON
printf 'def uses_dep(event, context):\n    import lkdemo\n    return lkdemo.VALUE\n' >"$P/src/app.py"
printf 'def handler(event, context):\n    return "plain"\n' >"$P/src/plain.py"
echo "./wheels/lkdemo-1.0-py3-none-any.whl" >"$P/src/requirements.txt"
count_installs() { grep -c '\$ python3 -m pip install' "$1"; }

# 1. all five built in parallel: one install
"$L" --project "$P" build >"$T/b1" 2>"$T/b1.err"
check "build of 5 functions: exit 0" test $? = 0
check "one pip install for 5 functions sharing requirements.txt ($(count_installs "$T/b1.err"))" \
	test "$(count_installs "$T/b1.err")" = 1
check "5 built" test "$(grep -c ' built ' "$T/b1")" = 5
for f in F1 F2 F3 F4 F5; do
	check "$f packages the shared dependency" \
		sh -c "unzip -Z1 '$P/.lambdeck/build/$f/code.zip' | grep -qx lkdemo/__init__.py"
done
check "one shared install in .lambdeck/deps" test "$(ls -d "$P"/.lambdeck/deps/*/ | wc -l)" = 1

# 2. a manifest change: one install again, the old one goes
echo "# comment" >>"$P/src/requirements.txt"
"$L" --project "$P" build >"$T/b2" 2>"$T/b2.err"
check "changed requirements: one install ($(count_installs "$T/b2.err"))" \
	test "$(count_installs "$T/b2.err")" = 1
check "the outdated install is removed" test "$(ls -d "$P"/.lambdeck/deps/*/ | wc -l)" = 1
# one function at a time: the later ones find the install
echo "# again" >>"$P/src/requirements.txt"
: >"$T/b3.err"
for f in F1 F2 F3; do "$L" --project "$P" build "$f" >>"$T/b3" 2>>"$T/b3.err"; done
check "sequential builds: one install ($(count_installs "$T/b3.err"))" \
	test "$(count_installs "$T/b3.err")" = 1

# 3. an impossible install: runs once, every sharing function fails saying how to go on
echo "./wheels/does-not-exist-2.0-py3-none-any.whl" >>"$P/src/requirements.txt"
"$L" --project "$P" build >"$T/b4" 2>"$T/b4.err"
check "failed install: exit 1" test $? = 1
check "failed install ran once ($(count_installs "$T/b4.err"))" test "$(count_installs "$T/b4.err")" = 1
check "all 5 report the failure" test "$(grep -c ' failed .*pip install failed' "$T/b4")" = 5
check "the message says how to go on" grep -q 'To go on without installing.*--skip-deps.*"skip_deps": true in lambdeck.json' "$T/b4"

# 4. --skip-deps: build goes on (global option, before or after the command)
"$L" --project "$P" build --skip-deps >"$T/b5" 2>"$T/b5.err"
check "build --skip-deps: exit 0" test $? = 0
check "build --skip-deps: no installer" test "$(count_installs "$T/b5.err")" = 0
check "build --skip-deps: warns" grep -q "dependencies not installed (--skip-deps)" "$T/b5.err"
"$L" --skip-deps --project "$P" build F5 >/dev/null 2>&1
check "--skip-deps before the command" test $? = 0

# 5. invoke and deploy: blocked by the failed install, go on with --skip-deps or the setting
cd "$P"
EMU_STATE=$P/.lambdeck/emulator emu_start
"$L" invoke F5 --json >"$T/i1.json" 2>"$T/i1.err"
check "invoke with a failing install: exit 1" test $? = 1
check "invoke says how to go on" grep -q -- "--skip-deps" "$T/i1.json" "$T/i1.err"
"$L" invoke F5 --skip-deps --json >"$T/i2.json" 2>"$T/i2.err"
check "invoke --skip-deps: exit 0" test $? = 0
check "invoke --skip-deps: the handler's answer" grep -q '"plain"' "$T/i2.json"
"$L" deploy --skip-deps F4 >"$T/d1" 2>&1
check "deploy --skip-deps: exit 0" test $? = 0
$PY - "$P/lambdeck.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["skip_deps"] = True
json.dump(d, open(p, "w"))
PY
"$L" invoke F5 --json >"$T/i3.json" 2>"$T/i3.err"
check 'invoke with "skip_deps": true in lambdeck.json: exit 0' test $? = 0
"$L" replay 1 --function F5 --json >"$T/r1.json" 2>"$T/r1.err"
check 'replay with "skip_deps": true: exit 0' test $? = 0
check_exit
