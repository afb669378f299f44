# check.sh - named checks for shell tests: `check DESCRIPTION COMMAND...` runs COMMAND,
# prints ok/FAIL with the description and counts failures in $fails; `check_exit` ends the
# test (status 1 when any check failed).
fails=0
check() {
	local what=$1
	shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
check_exit() {
	[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
	exit 0
}
