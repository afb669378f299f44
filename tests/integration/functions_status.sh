#!/bin/bash
# 'lambdeck functions --status' (backend/fnstatus.h, the Functions pane's badges as text):
# not built / never deployed, then a LOCAL deploy (built, current), then a code change
# (modified, behind); --json gives the same as objects.
set -u
. "$LAMBDECK_SRC/tests/lib/check.sh"
L=$LAMBDECK
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-fnstatus.XXXXXX")
trap 'rm -rf "$T"' EXIT
bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" examples/hello-python "$T/p"
rm -rf "$T/p/.lambdeck"
cd "$T/p"
export PATH=/usr/bin:/bin

check "fresh: not built, never deployed" sh -c \
	"'$L' functions --status | grep -qE '^HelloFunction +build: not built +deploy: never\$'"
check "deploy HelloFunction to the emulator" sh -c "'$L' deploy HelloFunction >$T/deploy.out 2>&1"
check "after the deploy: built, current" sh -c \
	"'$L' functions --status >$T/s1 && grep -qE '^HelloFunction +build: built +deploy: current\$' $T/s1 &&
	 grep -qE '^OrdersFunction +build: not built +deploy: never\$' $T/s1"
printf '\n# changed\n' >>hello/app.py
check "code changed: modified, behind (--json)" /usr/bin/python3 -c '
import json, subprocess, sys
s = json.loads(subprocess.check_output([sys.argv[1], "functions", "--status", "--json"]))
d = {o["name"]: (o["build"], o["deploy"]) for o in s}
assert d == {"HelloFunction": ("modified", "behind"), "OrdersFunction": ("not built", "never")}, d
' "$L"

check_exit
