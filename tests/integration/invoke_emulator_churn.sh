#!/bin/bash
# invoke_emulator_churn.sh - CLI invokes in parallel across emulator start and stop (issue
# 21.2): LOOPS parallel loops x N `lambdeck invoke` on one project with no emulator running
# beforehand. Every invoke attaches to the project's emulator or starts one
# (--exit-when-unused), and the one that started it stops it when it leaves last, so
# emulators come and go all the time while others attach. Asserts: no invoke fails (none
# sees a leaving emulator: ConnectionRefused, EmulatorUnavailable, 503), emulators really
# did come and go, and none is left running afterwards.
set -u
. "$LAMBDECK_SRC/tests/lib/check.sh"
L=$LAMBDECK
LOOPS=${LOOPS:-4}
N=${N:-50}
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-churn.XXXXXX")
trap 'rm -rf "$T"' EXIT
P=$T/project
cp -r "$LAMBDECK_SRC/examples/hello-python" "$P"
rm -rf "$P/.lambdeck"
ST=$P/.lambdeck/emulator
cd "$P" || exit 1

# One loop: N invokes one after the other; a failed one leaves its output in $T/fail-*.
loop() {
	for i in $(seq 1 "$N"); do
		if ! "$L" invoke HelloFunction --event ada >"$T/out-$1-$i" 2>&1; then
			mv "$T/out-$1-$i" "$T/fail-$1-$i"
		elif ! grep -q 'Hello, Ada' "$T/out-$1-$i"; then
			mv "$T/out-$1-$i" "$T/fail-$1-$i"
		else
			rm -f "$T/out-$1-$i"
		fi
	done
}
pids=()
for k in $(seq 1 "$LOOPS"); do
	loop "$k" &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

nfail=$(find "$T" -maxdepth 1 -name 'fail-*' | wc -l)
for f in $(find "$T" -maxdepth 1 -name 'fail-*' | head -5); do
	echo "--- $(basename "$f")"
	tail -n 5 "$f"
done
check "all $((LOOPS * N)) invokes succeeded ($nfail failed)" test "$nfail" = 0
starts=$(grep -c 'emulator listening on' "$ST/emulator.log" 2>/dev/null || echo 0)
check "emulators came and went during the run ($starts started)" test "$starts" -ge 2
# the last emulator stops once its last user left: its state lock is released
check "no emulator left running" timeout 60 flock -s "$ST/lock" true
! grep -q 'ERROR: AddressSanitizer\|runtime error:' "$ST/emulator.log"
check "no sanitizer report from any emulator" test $? = 0
check_exit
