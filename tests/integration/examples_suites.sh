#!/bin/bash
# The examples are real projects: each one's own test suite (the command its lambdeck.json
# declares) passes. Runs them from a copy so nothing is written into the source tree.
set -u
: "${LAMBDECK:?}" "${LAMBDECK_SRC:?}"
export PYTHONDONTWRITEBYTECODE=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for e in hello-python hello-node hello-bash; do
	bash "$LAMBDECK_SRC/tests/lib/fixture_copy.sh" "examples/$e" "$tmp/$e"
	# The test command comes from the project itself, as the Tests pane runs it.
	mapfile -t argv < <("$LAMBDECK" --project "$tmp/$e" functions --json |
		/usr/bin/python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["test"]))')
	if [ ${#argv[@]} -eq 0 ]; then
		echo "not ok - $e: no test command"
		fail=1
		continue
	fi
	if (cd "$tmp/$e" && timeout 60 "${argv[@]}") >"$tmp/$e.log" 2>&1; then
		echo "ok - $e: ${argv[*]}"
	else
		echo "not ok - $e: ${argv[*]}"
		sed 's/^/    /' "$tmp/$e.log"
		fail=1
	fi
done
[ -x "$LAMBDECK_SRC/examples/hello-bash/bootstrap" ]
if [ $? -ne 0 ]; then echo "not ok - hello-bash/bootstrap is not executable"; fail=1; fi
[ $fail -eq 0 ] && echo "examples_suites: all passed"
exit $fail
