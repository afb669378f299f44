#!/bin/bash
# console_reload.sh - the project is reloaded (each kind of config file touched and saved:
# template.yaml and lambdeck.json of a SAM project, serverless.yml and lambdeck.json of a
# Serverless one) in every state the console can be in: snapshot tests present (always: they
# are replayed after every test run), jobs running, a pane zoomed, the help overlay open, an
# editor open, and the definition edited with `c` by an editor that saves. The console stays
# up: after each reload a test run and its snapshot replay complete, and it quits cleanly
# (exit 0, so no sanitizer report).
. "$LAMBDECK_SRC/tests/lib/ui.sh"

mark="lkr$$r$RANDOM"
UI_TIMEOUT=60
mkdir -p "$UI_DIR/bin"
# An editor that stays open until the test creates $UI_DIR/editor-go, then saves the file it
# was given (appends a blank line) and exits.
cat >"$UI_DIR/bin/editor" <<EOF
#!/bin/sh
for f; do :; done
while [ ! -e "$UI_DIR/editor-go" ]; do sleep 0.05; done
rm -f "$UI_DIR/editor-go"
printf '\n' >>"\$f"
EOF
chmod +x "$UI_DIR/bin/editor"
UI_ENV="EDITOR=$UI_DIR/bin/editor"

# project EXAMPLE FUNCTION TEST_JSON : a copy of examples/EXAMPLE with a deploy command that
# runs until stopped and a snapshot test of FUNCTION saved by a real invocation; sets
# UI_PROJECT.
project() {
	local dir=$UI_DIR/src-$1
	mkdir -p "$dir"
	cp -R "$LAMBDECK_SRC/examples/$1/." "$dir/"
	rm -rf "$dir/.lambdeck"
	printf '{"test": %s, "deploy": ["sh", "-c", "sleep 300 # %s-deploy"]}\n' "$3" "$mark" \
		>"$dir/lambdeck.json"
	(cd "$dir" && PATH=/usr/bin:/bin "$LAMBDECK" invoke "$2" --event ada --snapshot ada \
		>"$UI_DIR/invoke.log" 2>&1) || { cat "$UI_DIR/invoke.log"; ui_fail "could not save a snapshot"; }
	rm -rf "$dir/.lambdeck"
	UI_PROJECT=$dir
}

# The number of the last finished test run shown in the Tests pane (0 if none).
last_run() {
	local n
	n=$(ui_screen | grep -oE 'output of run #[0-9]+' | tail -1 | grep -oE '[0-9]+$')
	echo "${n:-0}"
}

# replayed_after N : until a test run after run N has finished and its snapshot replay has
# passed (the Tests pane must be visible).
replayed_after() {
	local i
	for i in $(seq $((UI_TIMEOUT * 10))); do
		if [ "$(last_run)" -gt "$1" ] && ui_screen | grep -qF "snapshots: ✓ 1 passed"; then
			return 0
		fi
		kill -0 "$(ui_pid)" 2>/dev/null || ui_fail "the console died"
		sleep 0.1
	done
	ui_fail "no test run and snapshot replay after run #$1"
}

# reload STATE FILE... : touches, then saves each config file (one reload each, the console's
# watcher debounces within 100 ms), then a source file so that the tests and the snapshot
# replay run on the reloaded project.
reload() {
	local state=$1 f
	shift
	for f in "$@"; do
		touch "$UI_PROJ/$f"
		kill -0 "$(ui_pid)" 2>/dev/null || ui_fail "$state: the console died after touching $f"
		printf '\n' >>"$UI_PROJ/$f"
		kill -0 "$(ui_pid)" 2>/dev/null || ui_fail "$state: the console died after saving $f"
	done
	touch "$UI_PROJ/$SOURCE"
}

# every_state FILE... : reloads through FILE... in each state, checking the console after each.
every_state() {
	local n

	ui_wait_for "snapshots: ✓ 1 passed"
	n=$(last_run)
	reload "idle" "$@"
	replayed_after "$n"
	ui_pass "reload with snapshot tests present"

	n=$(last_run)
	ui_keys D
	ui_wait_for "Full deploy: run 'sh -c sleep 300"
	ui_keys y
	ui_wait_for "full deploy"
	ui_keys 4 r # a test run (and then a replay) in flight as well
	reload "jobs running" "$@"
	replayed_after "$n"
	ui_assert_contains "full deploy"
	# C-x cancels the newest job: a test run started by the saves may come first
	ui_keys 1
	for _ in $(seq 50); do
		ui_screen | tail -1 | grep -qF "full deploy" || break
		ui_keys C-x
		sleep 0.3
	done
	ui_wait_gone "full deploy"
	ui_pass "reload with jobs running (full deploy, test run, snapshot replay)"

	n=$(last_run)
	ui_keys 4 z
	ui_wait_gone "1 Functions"
	reload "zoomed" "$@"
	replayed_after "$n"
	ui_keys z 1
	ui_wait_for "1 Functions"
	ui_pass "reload with a pane zoomed"

	n=$(last_run)
	ui_keys '?'
	ui_wait_for "Help: keys"
	reload "help open" "$@"
	kill -0 "$(ui_pid)" 2>/dev/null || ui_fail "the console died with the help open"
	ui_keys Escape
	replayed_after "$n"
	ui_pass "reload with the help overlay open"

	n=$(last_run)
	ui_keys Enter # opens the selected function's handler in the editor
	ui_wait_line_gone "1 Functions"
	reload "editor open" "$@"
	touch "$UI_DIR/editor-go"
	ui_wait_for "1 Functions"
	replayed_after "$n"
	ui_pass "reload with an editor open"

	n=$(last_run)
	ui_keys c # the function's definition in the editor, which saves it
	ui_wait_line_gone "1 Functions"
	touch "$UI_DIR/editor-go"
	ui_wait_for "1 Functions"
	touch "$UI_PROJ/$SOURCE"
	replayed_after "$n"
	ui_pass "definition edited with c and saved"
	ui_quit
	ui_pass "clean exit after the reloads"
}

project hello-python HelloFunction '["python3", "-m", "unittest", "discover"]'
SOURCE=hello/app.py
ui_start
every_state template.yaml lambdeck.json
ui_pass "SAM project: template.yaml, lambdeck.json"

ui_tmux kill-session -t ui
project hello-node greet '["node", "--test", "--test-reporter=dot"]'
UI_PROJ=$UI_DIR/project-node
SOURCE=src/greet.mjs
mkdir -p "$UI_PROJ"
cp -R "$UI_PROJECT/." "$UI_PROJ/"
ui_new_session ui
ui_run_console
ui_wait_for "1 Functions"
every_state serverless.yml lambdeck.json
ui_pass "Serverless project: serverless.yml, lambdeck.json"
