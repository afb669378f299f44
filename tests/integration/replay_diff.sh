#!/bin/bash
# 'lambdeck replay --diff' against the local emulator: after the code changed, the replay's
# response is compared with the recorded one (status, JSON paths, '-' recorded / '+' new
# line diff, backend/respdiff.h); an unchanged response says so; --diff with --json or
# --list is a usage error.
set -u
. "$LAMBDECK_SRC/tests/lib/check.sh"
L=$LAMBDECK
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-replay-diff.XXXXXX")
trap 'rm -rf "$T"' EXIT
bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" examples/hello-python "$T/p"
rm -rf "$T/p/.lambdeck" "$T/p/events/HelloFunction"/upload*.json
cd "$T/p"
export PATH=/usr/bin:/bin

check "invoke records an invocation" sh -c "'$L' invoke HelloFunction --event ada >$T/inv.out 2>&1"
check "unchanged: identical" sh -c "'$L' replay --diff >$T/same.out 2>$T/same.err"
check "... the header and 'responses are identical'" sh -c \
	"grep -qx 'diff HelloFunction/ada: recorded (-) -> replay (+)' $T/same.out &&
	 grep -qx 'responses are identical' $T/same.out && ! grep -q '^[-+] ' $T/same.out"

sed -i 's/{name}!"/{name}?"/' hello/app.py
check "changed code: replay --diff" sh -c "'$L' replay --diff >$T/diff.out 2>$T/diff.err"
check "the changed JSON path" grep -qxF 'body.message: "Hello, Ada!" -> "Hello, Ada?"' "$T/diff.out"
check "'-' recorded line before '+' replay line" /usr/bin/python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
minus = [i for i, l in enumerate(lines) if l.startswith("- ") and "Hello, Ada!" in l]
plus = [i for i, l in enumerate(lines) if l.startswith("+ ") and "Hello, Ada?" in l]
assert minus and plus and minus[0] < plus[0], lines
assert any(l.startswith("  ") and "statusCode" in l for l in lines), lines
' "$T/diff.out"

check "--diff with --json refused (usage, exit 2)" sh -c "'$L' replay --diff --json >$T/j.out 2>&1; [ \$? = 2 ] && grep -q UsageError $T/j.out"
check "--diff with --list refused" sh -c "'$L' replay --list --diff >/dev/null 2>$T/l.err; [ \$? = 2 ] && grep -q 'not with --list' $T/l.err"

check_exit
