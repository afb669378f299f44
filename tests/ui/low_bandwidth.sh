#!/bin/bash
# --low-bandwidth[=on|off|auto] and LAMBDECK_LOW_BANDWIDTH (issue 11, item 4): auto is on
# when the console runs under SSH (SSH_CONNECTION or SSH_TTY set) and off otherwise; the
# option wins over the variable; the default is off even under SSH (opt-in). The status bar
# shows [low-bandwidth] when it is on. A bad option value is a usage error (exit 2); a bad
# LAMBDECK_LOW_BANDWIDTH/LAMBDECK_MOUSE is the console's business only: a warning, the
# default stays, and subcommands never read it (issue 22).
. "$LAMBDECK_SRC/tests/lib/ui.sh"

SSH="SSH_CONNECTION='192.0.2.1 50000 192.0.2.2 22'"
# case: expected (on|off), environment words, options...
check() {
	local want=$1 env=$2
	shift 2
	UI_ENV=$env
	if [ "$started" = 0 ]; then
		ui_start "$@"
		started=1
	else
		ui_run_console "$@"
		ui_wait_for "1 Functions"
	fi
	ui_wait_line "^ LOCAL "
	if [ "$want" = on ]; then
		ui_wait_for "[low-bandwidth]"
	else
		sleep 0.3
		ui_assert_not_contains "[low-bandwidth]"
	fi
	ui_quit
	ui_pass "low-bandwidth $want: env '$env' options '$*'"
}

UI_PROJECT=""
started=0
check off ""
check off "$SSH"
check on "" --low-bandwidth
check on "$SSH" --low-bandwidth=auto
check off "" --low-bandwidth=auto
check on "SSH_TTY=/dev/pts/9" --low-bandwidth=auto
check on "$SSH LAMBDECK_LOW_BANDWIDTH=auto"
check off "LAMBDECK_LOW_BANDWIDTH=auto"
check on "LAMBDECK_LOW_BANDWIDTH=on"
check off "$SSH LAMBDECK_LOW_BANDWIDTH=auto" --low-bandwidth=off
check on "LAMBDECK_LOW_BANDWIDTH=off" --low-bandwidth
check off "LAMBDECK_LOW_BANDWIDTH=maybe"

out=$("$LAMBDECK" --low-bandwidth=sometimes functions 2>&1)
[ $? = 2 ] && grep -qF -- "--low-bandwidth=sometimes: expected on, off or auto" <<<"$out" ||
	ui_fail "bad --low-bandwidth value: $out"
# the variables are the console's: a bad value never breaks a subcommand (issue 22)
for v in LAMBDECK_MOUSE LAMBDECK_LOW_BANDWIDTH; do
	out=$(env "$v=maybe" "$LAMBDECK" --project "$LAMBDECK_SRC/examples/hello-python" functions 2>&1)
	[ $? = 0 ] && ! grep -qF "maybe" <<<"$out" || ui_fail "bad $v value broke a subcommand: $out"
done
ui_pass "bad option values are usage errors; bad console variables do not touch subcommands"
