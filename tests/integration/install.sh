#!/bin/bash
# `cmake --install` puts the binary, the runtime shims, the man page and bash completion in
# place; the man page renders without warnings; the completion script parses and lists the
# functions of a project.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*"
	fail=1
}

cmake --install "$LAMBDECK_BUILD" --prefix "$tmp/prefix" >"$tmp/install.log"
for f in bin/lambdeck share/man/man1/lambdeck.1 share/bash-completion/completions/lambdeck; do
	[ -s "$tmp/prefix/$f" ] && ok "installed $f" || bad "missing $f"
done
ls "$tmp/prefix/share/lambdeck/runtimes/"* >/dev/null 2>&1 && ok "runtime shims installed" ||
	bad "no runtime shims under share/lambdeck/runtimes"

"$tmp/prefix/bin/lambdeck" --version | grep -q '^lambdeck ' && ok "installed binary runs" ||
	bad "installed binary"

if command -v man >/dev/null; then
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$tmp/prefix/share/man/man1/lambdeck.1" 2>&1 >"$tmp/man.txt" || true)
	[ -z "$warn" ] && ok "man page renders without warnings" || bad "man warnings: $warn"
	for cmd in functions build deploy invoke events replay logs test emulate doctor; do
		grep -q "^       $cmd" "$tmp/man.txt" || bad "man page does not describe '$cmd'"
	done
	ok "man page describes every command"
fi

comp=$tmp/prefix/share/bash-completion/completions/lambdeck
bash -n "$comp" && ok "completion parses" || bad "completion syntax"
# _lambdeck_functions asks the installed binary for the project's function names.
names=$(PATH="$tmp/prefix/bin:$PATH" bash -c '
	source "$1"
	COMP_WORDS=(lambdeck --project "$2" invoke "")
	_lambdeck_functions' _ "$comp" "$LAMBDECK_SRC/examples/hello-python" | sort | tr '\n' ' ')
[ "$names" = "HelloFunction OrdersFunction " ] && ok "completion lists the functions" ||
	bad "completion listed: '$names'"
exit $fail
