#!/bin/bash
# Functions pane, S: dependencies off/on. A requirements.txt that cannot be installed fails the
# quick build (b) with pip's error; S turns installs off ("deps off" in the pane's title, the
# same as --skip-deps), b then builds without them; S again turns them back on.
P=$(mktemp -d "${TMPDIR:-/tmp}/lk-ui-skipdeps.XXXXXX")
trap 'rm -rf "$P"' EXIT
mkdir -p "$P/src"
printf '{"functions": {"Fn": {"runtime": "python3.12", "handler": "app.handler", "code": "src"}}}\n' >"$P/lambdeck.json"
printf 'def handler(event, context):\n    return 1\n' >"$P/src/app.py"
echo "./wheels/missing-1.0-py3-none-any.whl" >"$P/src/requirements.txt"
UI_PROJECT=$P
. "$LAMBDECK_SRC/tests/lib/ui.sh"
ui_start
ui_wait_line "▾ Fn +py3.12 +○ ┃"
ui_keys b
ui_wait_for "pip install failed"
[ ! -e "$UI_PROJ/.lambdeck/build/Fn/code.zip" ] || ui_fail "a zip was written despite the failed install"
ui_pass "an impossible install fails the build"
ui_keys S
ui_wait_for "dependencies off: builds skip pip/npm"
ui_wait_for "1 function  deps off"
ui_keys b
ui_wait_for "Fn: built, 2 files"
unzip -Z1 "$UI_PROJ/.lambdeck/build/Fn/code.zip" | grep -qx "app.py" || ui_fail "app.py not in the zip"
ui_pass "S: dependencies off, the build goes on"
ui_keys S
ui_wait_for "dependencies on: builds install"
ui_keys b
ui_wait_for "pip install failed"
ui_pass "S again: dependencies on"
ui_quit
ui_pass "functions_skip_deps"
