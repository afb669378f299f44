#!/bin/bash
# fixture_copy.sh - copy a test fixture out of the source tree without the state a user's
# session left in it:  bash tests/lib/fixture_copy.sh DIR DEST
#
# DIR is a directory of the source tree (absolute, or relative to $LAMBDECK_SRC), e.g.
# examples/hello-python or tests/fixtures/real/cfg-sam-python; its contents are copied into
# DEST (created if missing). Running the console or the CLI on examples/ writes
# .lambdeck/ (history, builds, the emulator's state), saved events and snapshots there; a
# test must start from what the repository holds, so:
#   - in a git checkout (also a worktree) only the files git tracks under DIR are copied
#     (as they are in the work tree: an edited tracked file is copied with the edit);
#   - in a tree that is not a git checkout (an unpacked archive), everything is copied except
#     .lambdeck/, __pycache__/, *.pyc, node_modules/, *.snapshot.json and files under
#     events/ that are newer than $LAMBDECK_SRC/CMakeLists.txt (an unpacked archive gives
#     every file the same time; events a session saved later are newer).
# A DIR outside the source tree (a project a test generated) is copied as it is.
# Used by every shell (directly), python (cli.copy_fixture) and C test that
# copies a fixture, and by the benchmarks.
set -eu
[ $# = 2 ] || { echo "usage: fixture_copy.sh DIR DEST" >&2; exit 2; }
: "${LAMBDECK_SRC:?LAMBDECK_SRC must point at the source tree (ctest sets it)}"
from=$1 dest=$2
case $from in /*) ;; *) from=$LAMBDECK_SRC/$from ;; esac
[ -d "$from" ] || { echo "fixture_copy.sh: $from is not a directory" >&2; exit 1; }
from=$(cd "$from" && pwd -P)
src=$(cd "$LAMBDECK_SRC" && pwd -P)
mkdir -p "$dest"
dest=$(cd "$dest" && pwd -P)

case $from/ in
"$src"/*) ;;
*)
	cp -R "$from/." "$dest/"
	exit 0
	;;
esac

# Tracked files of DIR, NUL-separated, relative to DIR; empty when DIR is not in a git
# checkout (or git is missing). safe.directory: the checkout may belong to another user
# (CI containers); listing its files is read-only.
tracked() {
	command -v git >/dev/null || return 0
	git -c safe.directory='*' -C "$from" rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
	git -c safe.directory='*' -C "$from" ls-files -z --cached -- . 2>/dev/null
}

list=$(mktemp "${TMPDIR:-/tmp}/lk-fixture.XXXXXX")
trap 'rm -f "$list"' EXIT
tracked >"$list"
if [ -s "$list" ]; then
	# Tracked files deleted in the work tree are skipped, not an error.
	(cd "$from" && while IFS= read -r -d '' f; do
		if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
	done <"$list" | xargs -0 -r cp -P --preserve=mode --parents -t "$dest")
	exit 0
fi

cp -R "$from/." "$dest/"
find "$dest" \( -name .lambdeck -o -name __pycache__ -o -name node_modules \) -prune \
	-exec rm -rf {} +
find "$dest" -type f \( -name '*.pyc' -o -name '*.snapshot.json' \) -delete
# events/ files newer than the tree itself were saved by a session.
(cd "$from" && find . -path '*/events/*' -type f -newer "$src/CMakeLists.txt" -print0) |
	(cd "$dest" && xargs -0 -r rm -f)
