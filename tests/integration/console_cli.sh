#!/bin/bash
# Console lifecycle from the command line: --help, --version, unknown option -> usage on
# stderr + exit 2, and the console refusing to start without a terminal.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$LAMBDECK" --help >"$tmp/out" 2>"$tmp/err" || fail "--help exit $?"
grep -q "usage: lambdeck" "$tmp/out" || fail "--help: no usage on stdout"
grep -q -- "--ascii" "$tmp/out" || fail "--help does not list --ascii"
grep -q -- "--keymap FILE" "$tmp/out" || fail "--help does not list --keymap"
[ -s "$tmp/err" ] && fail "--help wrote to stderr"

"$LAMBDECK" --version >"$tmp/out" || fail "--version exit $?"
grep -qE "^lambdeck [0-9]+\.[0-9]+\.[0-9]+" "$tmp/out" || fail "--version: $(cat "$tmp/out")"

rc=0
"$LAMBDECK" --no-such-option >"$tmp/out" 2>"$tmp/err" || rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc, want 2"
grep -q "unknown option '--no-such-option'" "$tmp/err" || fail "no error on stderr"
grep -q "usage: lambdeck" "$tmp/err" || fail "no usage on stderr"
[ -s "$tmp/out" ] && fail "unknown option wrote to stdout"

rc=0
"$LAMBDECK" --project "$LAMBDECK_SRC/examples/hello-python" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
[ $rc -eq 2 ] || fail "console without a tty: exit $rc, want 2"
grep -q "needs a terminal" "$tmp/err" || fail "console without a tty: $(cat "$tmp/err")"
echo "ok: --help, --version, unknown option, no tty"
