# emu.sh - start a private lambdeck emulator for a bash test. Source it, then:
#
#   . "$LAMBDECK_SRC/tests/lib/emu.sh"
#   emu_start                      # extra args go to `lambdeck emulate`, e.g. --any-credentials
#   /usr/bin/aws --endpoint-url "$ENDPOINT" lambda list-functions
#   emu_restart                    # stop + start on the same state dir (persistence tests)
#
# After emu_start these are exported: ENDPOINT (http://127.0.0.1:PORT), EMU_PID, EMU_STATE
# (state dir), EMU_LOG (the emulator's stderr), AWS_SHARED_CREDENTIALS_FILE,
# AWS_PROFILE=lambdeck-local, AWS_REGION, AWS_DEFAULT_REGION, AWS_EC2_METADATA_DISABLED=true,
# AWS_CONFIG_FILE=/dev/null (so a developer's ~/.aws/config cannot interfere).
# The emulator is stopped (SIGTERM) when the shell exits; if it then exits non-zero (crash,
# sanitizer report) the test fails. Needs $LAMBDECK (set by ctest). Ephemeral port, temp dirs.
# The emulator is a background job of your shell: never use a bare `wait` (it would wait for
# the emulator too); wait for your own job ids.

. "$(dirname "${BASH_SOURCE[0]}")/scale.sh"
EMU_TMP=""
EMU_PID=""

emu_start() {
	if [ -z "${LAMBDECK:-}" ]; then
		echo "emu.sh: LAMBDECK is not set (path of the lambdeck binary)" >&2
		exit 1
	fi
	if [ -z "$EMU_TMP" ]; then
		EMU_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lkemu.XXXXXX")
		EMU_STATE=${EMU_STATE:-$EMU_TMP/state}
		trap emu__exit EXIT
	fi
	EMU_LOG=$EMU_TMP/emulator.log
	EMU_ARGS=("$@")
	local out=$EMU_TMP/emulator.out
	: >"$out"
	"$LAMBDECK" emulate --port 0 --state-dir "$EMU_STATE" --exit-with-parent "$@" >"$out" 2>>"$EMU_LOG" &
	EMU_PID=$!
	local i line="" n=$(($(lk_scaled 15) * 20))
	for ((i = 0; i < n; i++)); do
		line=$(head -n 1 "$out" 2>/dev/null)
		[ -n "$line" ] && [ "${line: -1}" = "}" ] && break
		if ! kill -0 "$EMU_PID" 2>/dev/null; then
			echo "emu.sh: emulator exited before it was ready:" >&2
			cat "$EMU_LOG" >&2
			EMU_PID=""
			exit 1
		fi
		sleep 0.05
	done
	if [ -z "$line" ]; then
		echo "emu.sh: emulator printed no JSON line within $(lk_scaled 15) s" >&2
		cat "$EMU_LOG" >&2
		exit 1
	fi
	ENDPOINT=$(printf '%s' "$line" | sed -n 's/.*"endpoint": *"\([^"]*\)".*/\1/p')
	AWS_SHARED_CREDENTIALS_FILE=$(printf '%s' "$line" | sed -n 's/.*"credentials_file": *"\([^"]*\)".*/\1/p')
	AWS_REGION=$(printf '%s' "$line" | sed -n 's/.*"region": *"\([^"]*\)".*/\1/p')
	export ENDPOINT EMU_PID EMU_STATE EMU_LOG AWS_SHARED_CREDENTIALS_FILE AWS_REGION
	export AWS_DEFAULT_REGION=$AWS_REGION AWS_PROFILE=lambdeck-local AWS_EC2_METADATA_DISABLED=true
	export AWS_CONFIG_FILE=/dev/null AWS_PAGER=""
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL
}

# Stops the emulator; returns its exit status (0 = clean shutdown).
emu_stop() {
	local rc=0
	if [ -n "$EMU_PID" ]; then
		kill -TERM "$EMU_PID" 2>/dev/null
		wait "$EMU_PID" || rc=$?
		EMU_PID=""
		if [ "$rc" != 0 ]; then
			echo "emu.sh: emulator exited with status $rc; its log:" >&2
			tail -n 50 "$EMU_LOG" >&2
		fi
	fi
	return $rc
}

# Stops and starts again on the same state dir with the same arguments.
emu_restart() {
	emu_stop || exit 1
	emu_start "${EMU_ARGS[@]}"
}

emu__exit() {
	local rc=$?
	emu_stop || { [ "$rc" = 0 ] && rc=1; }
	[ -n "$EMU_TMP" ] && [ -z "${EMU_KEEP:-}" ] && rm -rf "$EMU_TMP"
	exit $rc
}
