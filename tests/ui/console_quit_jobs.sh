#!/bin/bash
# console_quit_jobs.sh - every way out of the console (q then y, Ctrl-C, SIGTERM, SIGHUP,
# Ctrl-\ / SIGQUIT) with a job of every kind running: a test run, a build (a dependency
# install), a quick deploy (its build's install), a full deploy and an invocation. Each exit
# is clean (its status, no sanitizer report), the terminal is restored and no child process
# outlives the console. Then the abnormal ends: SIGKILL and SIGSEGV of the console leave no
# child behind either (the exec guard, backend/childguard.h), and SIGTERM with an editor open
# takes the editor along.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

mark="lkq$$r$RANDOM" # in the command line of every child this test starts
src=$UI_DIR/src
mkdir -p "$src/slow" "$src/events/SlowFunction" "$UI_DIR/dep" "$UI_DIR/bin"
for f in NodeBuild NodeDeploy; do
	mkdir -p "$src/$f"
	# npm runs the package's own preinstall script: a dependency install that takes long
	cat >"$src/$f/package.json" <<EOF
{"name": "$(echo "$f" | tr A-Z a-z)", "version": "1.0.0", "private": true,
 "dependencies": {"dep": "file:$UI_DIR/dep"},
 "scripts": {"preinstall": "sleep 300 # $mark-$f"}}
EOF
	echo 'exports.handler = async () => ({ok: true});' >"$src/$f/index.js"
done
echo '{"name": "dep", "version": "1.0.0"}' >"$UI_DIR/dep/package.json"
cat >"$src/slow/app.py" <<'EOF'
import time


def handler(event, context):
    time.sleep(300)
    return {"ok": True}
EOF
echo '{}' >"$src/events/SlowFunction/e.json"
cat >"$src/lambdeck.json" <<EOF
{"functions": {
   "NodeBuild": {"runtime": "nodejs20.x", "handler": "index.handler", "code": "NodeBuild"},
   "NodeDeploy": {"runtime": "nodejs20.x", "handler": "index.handler", "code": "NodeDeploy"},
   "SlowFunction": {"runtime": "python3.12", "handler": "app.handler", "code": "slow",
                    "timeout": 600}},
 "test": ["sh", "-c", "sleep 300 # $mark-test"],
 "deploy": ["sh", "-c", "sleep 300 # $mark-deploy"]}
EOF
# an editor that holds the terminal until it is ended (its marker is an ignored argument)
printf '#!/bin/sh\nexec python3 -c "import time; time.sleep(300)" %s-editor\n' "$mark" \
	>"$UI_DIR/bin/editor"
chmod +x "$UI_DIR/bin/editor"
UI_PROJECT=$src
UI_ENV="EDITOR=$UI_DIR/bin/editor"
UI_TIMEOUT=60

# ui_children : the processes (pid + command line) of this test's children still running.
ui_children() {
	pgrep -af -- "$mark" | grep -v -e pgrep -e "$0" || true
}

# wait_child WHAT : until the child marked WHAT runs.
wait_child() {
	local i
	for i in $(seq $((UI_TIMEOUT * 10))); do
		pgrep -f -- "$mark-$1" >/dev/null && return 0
		sleep 0.1
	done
	ui_fail "the $1 child did not start"
}

# no_children WHY : within 10 s no child of the console is left.
no_children() {
	local i
	for i in $(seq 100); do
		[ -z "$(ui_children)" ] && return 0
		sleep 0.1
	done
	echo "left running:" >&2
	ui_children >&2
	pkill -KILL -f -- "$mark" 2>/dev/null
	ui_fail "children outlived the console ($1)"
}

# screen_restored : the console left the alternate screen and showed the cursor again (tmux's
# view of the pane), as endwin does; a console that died without restoring leaves both.
screen_restored() {
	local st
	st=$(ui_tmux display -p -t "$UI_SESSION" '#{alternate_on} #{cursor_flag}')
	[ "$st" = "0 1" ] || ui_fail "terminal not restored (alternate screen, cursor: $st)"
}

# start_jobs : a test run (at start), a build, a quick deploy, a full deploy, an invocation.
start_jobs() {
	wait_child test
	ui_wait_line "▸ NodeBuild"
	ui_keys b
	wait_child NodeBuild
	ui_keys Down d
	wait_child NodeDeploy
	ui_keys D
	ui_wait_for "Full deploy: run 'sh -c sleep 300"
	ui_keys y
	wait_child deploy
	ui_keys Down 3
	ui_wait_line "SlowFunction +RequestResponse"
	ui_keys s
	ui_wait_for "invoke SlowFunction"
}

ui_start
start_jobs
ui_keys q
ui_wait_for "Quit anyway? [y/n]"
ui_keys y
ui_wait_exit 0
screen_restored
no_children "q, y"
ui_pass "q then y with every kind of job running: exit 0, terminal restored, no child left"

ui_run_console
ui_wait_for "1 Functions"
start_jobs
ui_keys C-c
ui_wait_exit 130
screen_restored
no_children "Ctrl-C"
ui_pass "Ctrl-C with every kind of job running: exit 130, terminal restored, no child left"

ui_run_console
ui_wait_for "1 Functions"
start_jobs
kill -TERM "$(ui_pid)"
ui_wait_exit 143
screen_restored
no_children "SIGTERM"
ui_pass "SIGTERM with every kind of job running: exit 143, terminal restored, no child left"

ui_run_console
ui_wait_for "1 Functions"
start_jobs
kill -HUP "$(ui_pid)"
ui_wait_exit 129
screen_restored
no_children "SIGHUP"
ui_pass "SIGHUP with every kind of job running: exit 129, terminal restored, no child left"

ui_run_console
ui_wait_for "1 Functions"
start_jobs
ui_keys 'C-\'
ui_wait_exit 131
screen_restored
no_children "Ctrl-\\"
ui_pass "Ctrl-\\ (SIGQUIT) with every kind of job running: exit 131, terminal restored, no child left"

ui_run_console
ui_wait_for "1 Functions"
wait_child test
ui_keys Enter
wait_child editor
kill -TERM "$(ui_pid)"
ui_wait_exit 143
screen_restored
no_children "SIGTERM with the editor open"
ui_pass "SIGTERM with the editor open: exit 143, terminal restored, the editor ended too"

# Abnormal ends: nothing can restore the terminal after SIGKILL (the shell does), but the
# children must not stay.
ui_run_console
ui_wait_for "1 Functions"
start_jobs
kill -KILL "$(ui_pid)"
ui_wait_for "lambdeck-exit=137"
: >"$UI_PIDFILE"
no_children "SIGKILL of the console"
ui_pass "SIGKILL of the console: no child left"

ui_tmux send-keys -t "$UI_SESSION" -l "stty sane; tput rmcup; tput cnorm"
ui_tmux send-keys -t "$UI_SESSION" Enter
ui_run_console
ui_wait_for "1 Functions"
wait_child test
ui_keys D
ui_wait_for "Full deploy: run 'sh -c sleep 300"
ui_keys y
wait_child deploy
kill -SEGV "$(ui_pid)"
ui_wait_exit "139|1"
screen_restored
no_children "SIGSEGV of the console"
ui_pass "SIGSEGV of the console: terminal restored, no child left"
