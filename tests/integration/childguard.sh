#!/bin/bash
# childguard.sh - a command lambdeck runs (here the test command of `lambdeck test`) goes
# through the exec guard (backend/childguard.h): its exit status and output come through
# unchanged, a missing command is still reported as such, a timeout still ends the whole
# group, and when lambdeck is killed (SIGKILL: no chance to clean up) the command's whole
# process group ends too, also a group that ignores SIGTERM.
set -u
: "${LAMBDECK:?}" "${LAMBDECK_SRC:?}"
. "$LAMBDECK_SRC/tests/lib/check.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/lambdeck-guard.XXXXXX")
mark="lkg$$r$RANDOM"
trap 'pkill -KILL -f -- "$mark" 2>/dev/null; rm -rf "$dir"' EXIT
echo '{}' >"$dir/lambdeck.json"
cd "$dir" || exit 1

# gone PATTERN SECONDS : no process whose command line has PATTERN, within SECONDS.
gone() {
	local i
	for i in $(seq $(($2 * 10))); do
		pgrep -f -- "$1" >/dev/null || return 0
		sleep 0.1
	done
	pgrep -af -- "$1" >&2
	return 1
}

# running PATTERN : until the test command (sh -c ...PATTERN) runs (30 s at most); prints
# its process group.
running() {
	local i pid
	for i in $(seq 300); do
		pid=$(pgrep -f -- "^sh -c .*$1" | head -1)
		[ -n "$pid" ] && { ps -o pgid= -p "$pid" | tr -d ' '; return 0; }
		sleep 0.1
	done
	return 1
}

# group_gone PGID SECONDS : no process left in that process group within SECONDS.
group_gone() {
	local i
	for i in $(seq $(($2 * 10))); do
		pgrep -g "$1" >/dev/null || return 0
		sleep 0.1
	done
	ps -o pid,pgid,cmd -g "$1" >&2
	return 1
}

out=$("$LAMBDECK" test -- sh -c 'echo guarded-output; exit 3' 2>&1)
rc=$?
check "exit status of the command reaches lambdeck (1: failed run)" [ "$rc" = 1 ]
check "the run failed with the command's status" grep -q "exit 3" <<<"$out"
check "output comes through" grep -q "guarded-output" <<<"$out"

out=$("$LAMBDECK" test -- no-such-command-xyz 2>&1)
check "a missing command is reported as such" grep -q "command not found: no-such-command-xyz" <<<"$out"

out=$("$LAMBDECK" test --timeout 1 -- sh -c "sleep 300 & sleep 301 # $mark-timeout" 2>&1)
check "a timeout still ends the run" grep -q "timed out" <<<"$out"
check "a timeout ends the whole group" gone "$mark-timeout" 10

"$LAMBDECK" test -- sh -c "sleep 300 & sleep 301 # $mark-kill" >/dev/null 2>&1 &
pid=$!
pgid=$(running "$mark-kill")
check "the command runs" [ -n "$pgid" ]
guarded() { pgrep -g "$pgid" -f -- "^/proc/self/exe __childguard $pid -- sh -c" >/dev/null; }
check "it runs under the guard, which leads its group" guarded
check "with the sleeps" [ "$(pgrep -g "$pgid" -x sleep | wc -l)" = 2 ]
kill -KILL "$pid"
wait "$pid" 2>/dev/null
check "SIGKILL of lambdeck: the whole group ends (SIGTERM)" group_gone "$pgid" 5

"$LAMBDECK" test -- sh -c "trap '' TERM; sleep 300 & sleep 301 # $mark-stubborn" >/dev/null 2>&1 &
pid=$!
pgid=$(running "$mark-stubborn")
check "a command that ignores SIGTERM runs" [ -n "$pgid" ]
for _ in $(seq 300); do [ "$(pgrep -g "$pgid" -x sleep | wc -l)" = 2 ] && break; sleep 0.1; done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
check "SIGKILL of lambdeck: a group ignoring SIGTERM is still there after 1 s" \
	sh -c "sleep 1; pgrep -g $pgid -x sleep >/dev/null"
check "and gets SIGKILL after the grace period" group_gone "$pgid" 10

check_exit
