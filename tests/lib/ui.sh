# ui.sh - helpers for UI tests that drive the console in tmux and assert on what a person
# would see (tmux's regress style). Source it from a tests/ui/<name>.sh script:
#
#   . "$LAMBDECK_SRC/tests/lib/ui.sh"
#   ui_start                          # 120x40, a copy of examples/hello-python, no options
#   ui_wait_for "1 Functions"         # fails the test (printing the screen) on timeout
#   ui_keys Tab                       # tmux key names: Tab BTab Enter Escape Up C-l F1 ...
#   ui_type "some text"               # literal text
#   ui_assert_contains "2 Logs" "3 Playground"   # one capture, every text must be there
#   ui_quit                           # q, then waits for the shell prompt; checks exit 0
#
# Everything runs on a private tmux server (tmux -L <unique> -f /dev/null) at a fixed size,
# with LC_ALL, TERM and the shell pinned, in a temporary directory removed on exit (also on
# failure). The console runs inside an interactive shell so tests can check that the shell
# is usable after it exits. Every wait has a timeout and a timeout FAILS the test.
#
# Variables you may set before ui_start: UI_COLS UI_ROWS (size), UI_PROJECT (directory to
# copy as the project; "" for an empty project), UI_TIMEOUT (seconds per wait, default 15),
# UI_ENV (extra "NAME=value" words for the console's environment).
# After ui_start: UI_DIR (temp dir), UI_PROJ (the project copy), UI_PIDFILE.
#
# Two consoles on one project (pair sessions): ui_start_another NAME [options...] starts a
# second console in its own tmux session NAME, in the same project; ui_use NAME (or ui_use
# ui for the first one) chooses the console every other helper talks to.

set -u

: "${LAMBDECK:?LAMBDECK must point at the lambdeck binary (ctest sets it)}"
: "${LAMBDECK_SRC:?LAMBDECK_SRC must point at the source tree (ctest sets it)}"
UI_COLS=${UI_COLS:-120}
UI_ROWS=${UI_ROWS:-40}
UI_TIMEOUT=${UI_TIMEOUT:-15}
UI_PROJECT=${UI_PROJECT-$LAMBDECK_SRC/examples/hello-python}
UI_ENV=${UI_ENV:-}
UI_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lambdeck-ui.XXXXXX")
UI_SOCK="lkui-$$-$RANDOM"
UI_PIDFILE="$UI_DIR/console.pid"
UI_PROJ="$UI_DIR/project"
UI_PROMPT='ui$ '
UI_SESSION=ui
export LC_ALL=C.UTF-8
export TMUX_TMPDIR="$UI_DIR"
unset TMUX

ui_tmux() {
	tmux -L "$UI_SOCK" -f /dev/null "$@"
}

ui_cleanup() {
	local rc=$?
	local f
	for f in "$UI_DIR"/console*.pid; do
		[ -s "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	ui_tmux kill-server 2>/dev/null || true
	ui_stop_emulator
	rm -rf "$UI_DIR"
	exit $rc
}
trap ui_cleanup EXIT
trap 'exit 1' INT TERM

# Prints the visible screen.
# Stops an emulator left running in the test's project (e.g. after a console crash): only a
# process whose command line names this test's directory.
ui_stop_emulator() {
	local ep="$UI_PROJ/.lambdeck/emulator/endpoint" pid
	[ -f "$ep" ] || return 0
	pid=$(grep -o '"pid":[0-9]*' "$ep" 2>/dev/null | cut -d: -f2)
	[ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$UI_DIR" &&
		kill -TERM "$pid" 2>/dev/null
	return 0
}

ui_screen() {
	ui_tmux capture-pane -p -t "$UI_SESSION"
}

ui_fail() {
	echo "FAIL: $*" >&2
	echo "----- screen (${UI_COLS}x${UI_ROWS}) -----" >&2
	ui_screen >&2 2>/dev/null || echo "(no tmux session)" >&2
	echo "-----" >&2
	exit 1
}

ui_pass() {
	echo "ok: $*"
}

# A project with one python3.12 function NAME (handler app.handler) whose app.py is read
# from stdin, in $UI_DIR/src; sets UI_PROJECT to it: ui_python_function NAME <<'PY' ... PY
ui_python_function() {
	mkdir -p "$UI_DIR/src/$1"
	printf '{"functions": {"%s": {"runtime": "python3.12", "handler": "app.handler", "code": "%s"}}}\n' \
		"$1" "$1" >"$UI_DIR/src/lambdeck.json"
	cat >"$UI_DIR/src/$1/app.py"
	UI_PROJECT=$UI_DIR/src
}

# Starts a shell in tmux and the console in it: ui_start [lambdeck options...]
ui_start() {
	command -v tmux >/dev/null || { echo "FAIL: tmux is not installed (scripts/deps --test)" >&2; exit 1; }
	[ -x "$LAMBDECK" ] || { echo "FAIL: $LAMBDECK is not executable" >&2; exit 1; }
	mkdir -p "$UI_PROJ" "$UI_DIR/home" "$UI_DIR/config"
	if [ -n "$UI_PROJECT" ]; then
		cp -R "$UI_PROJECT/." "$UI_PROJ/"
		rm -rf "$UI_PROJ/.lambdeck"
	fi
	ui_new_session ui
	ui_run_console "$@"
	ui_wait_for "1 Functions"
}

# ui_new_session NAME : a tmux session NAME with the pinned shell; makes it the current one.
ui_new_session() {
	ui_use "$1"
	ui_tmux new-session -d -s "$1" -x "$UI_COLS" -y "$UI_ROWS" \
		"env -i PATH=/usr/bin:/bin HOME=$UI_DIR/home XDG_CONFIG_HOME=$UI_DIR/config \
		 TERM=screen-256color LC_ALL=C.UTF-8 PS1='$UI_PROMPT' \
		 ASAN_OPTIONS=${ASAN_OPTIONS:-} UBSAN_OPTIONS=${UBSAN_OPTIONS:-} \
		 bash --norc --noprofile -i" ||
		ui_fail "cannot start tmux"
	ui_tmux set -g status off
	ui_tmux resize-window -t "$UI_SESSION" -x "$UI_COLS" -y "$UI_ROWS" 2>/dev/null || true
	ui_wait_for "${UI_PROMPT% }"
	ui_tmux send-keys -t "$UI_SESSION" -l "ulimit -c 0"
	ui_tmux send-keys -t "$UI_SESSION" Enter
}

# ui_use NAME : the console (tmux session) the helpers talk to from now on.
ui_use() {
	UI_SESSION=$1
	if [ "$1" = ui ]; then UI_PIDFILE="$UI_DIR/console.pid"; else UI_PIDFILE="$UI_DIR/console-$1.pid"; fi
}

# ui_start_another NAME [lambdeck options...] : a second console on the same project (after
# ui_start), in tmux session NAME, which becomes the current one.
ui_start_another() {
	local name=$1
	shift
	ui_new_session "$name"
	ui_run_console "$@"
	ui_wait_for "1 Functions"
}

# Types the command line that runs the console (in the started shell); used by ui_start and
# to start it again after a quit.
ui_run_console() {
	local q="" a
	for a in "$@"; do q="$q $(printf '%q' "$a")"; done
	ui_tmux send-keys -t "$UI_SESSION" -l "clear; cd $(printf '%q' "$UI_PROJ") && $UI_ENV bash -c 'echo \$\$ > \"\$0\"; exec \"\$@\"' $(printf '%q' "$UI_PIDFILE") $(printf '%q' "$LAMBDECK")$q; echo lambdeck-exit=\$?"
	ui_tmux send-keys -t "$UI_SESSION" Enter
}

# ui_keys KEY... : tmux key names, in order, in as few tmux calls as possible. An Escape is
# sent on its own and followed by a pause, so that it is not read as Alt+<next key>.
ui_keys() {
	local k batch=()
	for k in "$@"; do
		if [ "$k" = Escape ]; then
			[ ${#batch[@]} -gt 0 ] && ui_tmux send-keys -t "$UI_SESSION" "${batch[@]}"
			batch=()
			ui_tmux send-keys -t "$UI_SESSION" Escape
			sleep 0.1
		else
			batch+=("$k")
		fi
	done
	[ ${#batch[@]} -gt 0 ] && ui_tmux send-keys -t "$UI_SESSION" "${batch[@]}"
	return 0
}

# ui_type TEXT : literal text.
ui_type() {
	ui_tmux send-keys -t "$UI_SESSION" -l -- "$1"
}

# ui_until present|absent GREP_FLAG PATTERN SECONDS : polls the screen every 0.1 s until
# grep (-F fixed string, -E extended regex per line) finds / no longer finds PATTERN;
# returns 1 on timeout. The ui_wait_* helpers below are its named forms.
ui_until() {
	local want=$1 flag=$2 pat=$3 limit=$4 i=0 n found
	n=$((limit * 10))
	while [ $i -lt $n ]; do
		if ui_screen 2>/dev/null | grep -q "$flag" -- "$pat"; then found=present; else found=absent; fi
		[ "$found" = "$want" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# ui_wait_for TEXT [SECONDS] : until the screen contains TEXT (fixed string).
ui_wait_for() {
	local limit=${2:-$UI_TIMEOUT}
	ui_until present -F "$1" "$limit" || ui_fail "timed out after ${limit}s waiting for '$1'"
}

# ui_wait_gone TEXT [SECONDS] : until the screen no longer contains TEXT.
ui_wait_gone() {
	local limit=${2:-$UI_TIMEOUT}
	ui_until absent -F "$1" "$limit" ||
		ui_fail "timed out after ${limit}s waiting for '$1' to disappear"
}

# ui_wait_line REGEX [SECONDS] : until some screen line matches the extended regex.
ui_wait_line() {
	local limit=${2:-$UI_TIMEOUT}
	ui_until present -E "$1" "$limit" ||
		ui_fail "timed out after ${limit}s waiting for a line matching /$1/"
}

# ui_wait_line_gone REGEX [SECONDS] : until no screen line matches the extended regex (text
# elsewhere on the screen, e.g. another pane naming the same file, does not count).
ui_wait_line_gone() {
	local limit=${2:-$UI_TIMEOUT}
	ui_until absent -E "$1" "$limit" ||
		ui_fail "timed out after ${limit}s waiting for no line to match /$1/"
}

# ui_assert_contains TEXT... : the screen (one capture) contains every TEXT.
ui_assert_contains() {
	local screen t
	screen=$(ui_screen)
	for t in "$@"; do
		grep -qF -- "$t" <<<"$screen" || ui_fail "screen does not contain '$t'"
	done
}

# ui_assert_not_contains TEXT... : the screen (one capture) contains none of them.
ui_assert_not_contains() {
	local screen t
	screen=$(ui_screen)
	for t in "$@"; do
		if grep -qF -- "$t" <<<"$screen"; then ui_fail "screen unexpectedly contains '$t'"; fi
	done
}

# ui_resize COLS ROWS : resizes the terminal (the console gets SIGWINCH).
ui_resize() {
	UI_COLS=$1
	UI_ROWS=$2
	ui_tmux resize-window -t "$UI_SESSION" -x "$1" -y "$2" || ui_fail "cannot resize to $1x$2"
}

# The console's pid (the process started by ui_start).
ui_pid() {
	cat "$UI_PIDFILE"
}

# ui_wait_exit STATUS : waits until the console has exited with STATUS (a number, or an
# extended regex such as "139|1") and the shell prompt is back, then checks the shell works
# and the tty is sane (canonical mode + echo).
ui_wait_exit() {
	local want=$1 tag
	ui_wait_for "lambdeck-exit="
	ui_screen | grep -qE -- "lambdeck-exit=($want)\$" || ui_fail "exit status is not $want"
	: >"$UI_PIDFILE"
	tag="ui-shell-ok-$RANDOM"
	ui_tmux send-keys -t "$UI_SESSION" -l "stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo)' | tr '\n' ' '; echo $tag"
	ui_tmux send-keys -t "$UI_SESSION" Enter
	ui_wait_line "^icanon echo $tag"
}

# ui_quit : presses q and checks a clean exit. When the only job is a test run (the console
# runs the tests at start and on every save), q asks first: that question is answered y.
ui_quit() {
	local i screen
	ui_keys q
	for i in $(seq $((UI_TIMEOUT * 10))); do
		screen=$(ui_screen)
		grep -q "lambdeck-exit=" <<<"$screen" && break
		if grep -qF "1 job running (tests). Quit anyway? [y/n]" <<<"$screen"; then
			ui_keys y
			break
		fi
		sleep 0.1
	done
	ui_wait_exit 0
}
