#!/bin/bash
# The Functions pane says which runtimes run here and how, before any key: a python3.9
# function on a machine without python3.9 shows "py3.9→3.N" and, expanded, the sentence
# "python3.9 → running with python3.N (...)" and the deprecation note; a Ruby function shows
# the "not runnable locally" note; an unknown runtime (python2.7) is a problem (✗).
. "$LAMBDECK_SRC/tests/lib/ui.sh"

mkdir -p "$UI_DIR/src/py" "$UI_DIR/src/rb" "$UI_DIR/src/old"
printf 'def handler(event, context):\n    return 1\n' >"$UI_DIR/src/py/app.py"
printf 'def handler(event:, context:)\n  1\nend\n' >"$UI_DIR/src/rb/app.rb"
printf 'def handler(event, context):\n    return 1\n' >"$UI_DIR/src/old/app.py"
cat >"$UI_DIR/src/lambdeck.json" <<'JSON'
{"functions": [
  {"name": "Py39", "runtime": "python3.9", "handler": "app.handler", "code": "py"},
  {"name": "Rb", "runtime": "ruby3.3", "handler": "app.handler", "code": "rb"},
  {"name": "Old", "runtime": "python2.7", "handler": "app.handler", "code": "old"}
]}
JSON
UI_PROJECT=$UI_DIR/src
# what this machine runs python3.9 with: the nearest python3.N in the console's PATH
NEAR=$(/usr/bin/python3 - <<'PY'
import os, re
have = sorted({int(m.group(1)) for d in ("/usr/bin", "/bin") if os.path.isdir(d)
               for f in os.listdir(d) for m in [re.fullmatch(r"python3\.(\d+)", f)] if m})
print(min(have, key=lambda v: (abs(v - 9), -v)) if have else "")
PY
)

ui_start
ui_wait_for "3 functions"
if [ "$NEAR" != 9 ] && [ -n "$NEAR" ]; then
	ui_wait_line "▸ Py39 +py3\.9→3\.$NEAR"
	ui_keys Right
	ui_wait_line "python3\.9 → running with python3\.$NEAR"
	ui_pass "py3.9→3.$NEAR on the function, the whole sentence in its rows"
else
	ui_keys Right
fi
ui_wait_for "python3.9 is deprecated by AWS"
ui_pass "the deprecation note"
ui_keys Left Down Right
ui_wait_for "not runnable locally: the emulator has no Ruby"
ui_pass "Ruby: not runnable locally, and what to do"
ui_wait_line "▸ Old +py2\.7 +✗"
ui_pass "python2.7: a problem"
ui_quit
