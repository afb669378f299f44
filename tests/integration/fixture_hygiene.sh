# fixture_hygiene.sh - tests copy their fixtures from what the repository holds, never from
# what a user's session left in examples/ (issue 17 item 8: the README's command 1 — the
# console on examples/hello-python, a send, a saved snapshot — then command 2 must pass).
# A scratch source tree (a git checkout of examples/hello-python) is dirtied by the real CLI
# (an invoke saving a snapshot: .lambdeck/ history, build and emulator state; a template
# event saved as a new event), then tests/lib/fixture_copy.sh must copy exactly the tracked
# files, also when the tree is not a git checkout (an unpacked archive). Every test copies
# examples/ and tests/fixtures through that helper (checked by a grep).
set -u
. "$LAMBDECK_SRC/tests/lib/check.sh"
FC=$LAMBDECK_SRC/tests/lib/fixture_copy.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-fixhyg.XXXXXX")
trap 'rm -rf "$T"' EXIT
S=$T/src
EX=$S/examples/hello-python

# The scratch tree: tracked example files + CMakeLists.txt, committed; every file an hour old
# (as after a checkout or an unpack), so what the session writes below is newer.
mkdir -p "$S"
bash "$FC" examples/hello-python "$EX" || { echo "FAIL: cannot copy the example"; exit 1; }
cp "$LAMBDECK_SRC/CMakeLists.txt" "$S/"
printf '.lambdeck/\n__pycache__/\n' >"$S/.gitignore"
git -C "$S" init -q && git -C "$S" add -A &&
	git -C "$S" -c user.name=t -c user.email=t@example.invalid commit -qm fixture ||
	{ echo "FAIL: git init of the scratch tree"; exit 1; }
find "$S" -path "$S/.git" -prune -o -exec touch -h -d '1 hour ago' {} +
git -C "$S" ls-files -- examples/hello-python | sed 's|^examples/hello-python/||' | sort >"$T/tracked"

# A user's session, for real: command 1's send + snapshot and a template event saved.
"$LAMBDECK" --project "$EX" invoke HelloFunction --event ada --snapshot ada >"$T/session.out" 2>&1
check "the session saved a snapshot" test -f "$EX/events/HelloFunction/ada.snapshot.json"
check "the session wrote .lambdeck/history.jsonl" test -f "$EX/.lambdeck/history.jsonl"
"$LAMBDECK" --project "$EX" events new HelloFunction upload --template s3-put >>"$T/session.out" 2>&1
check "the session saved events/HelloFunction/upload.json" test -f "$EX/events/HelloFunction/upload.json"
mkdir -p "$EX/hello/__pycache__" && : >"$EX/hello/__pycache__/app.cpython-311.pyc"
# A developer's edit of a tracked file is part of the work tree: it is copied.
echo "# edited" >>"$EX/hello/app.py"

files_of() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort); }

# In a git checkout: exactly the tracked files.
LAMBDECK_SRC=$S bash "$FC" examples/hello-python "$T/out-git"
files_of "$T/out-git" >"$T/got-git"
check "git checkout: exactly the tracked files" diff -u "$T/tracked" "$T/got-git"
check "git checkout: no .lambdeck/" test ! -e "$T/out-git/.lambdeck"
check "git checkout: the edited tracked file keeps the edit" grep -q '^# edited' "$T/out-git/hello/app.py"
check "git checkout: modes kept" test "$(stat -c %a "$EX/hello/app.py")" = "$(stat -c %a "$T/out-git/hello/app.py")"
# Into an existing directory (ui.sh's project directory), absolute source path.
mkdir -p "$T/out-abs"
LAMBDECK_SRC=$S bash "$FC" "$EX" "$T/out-abs"
files_of "$T/out-abs" >"$T/got-abs"
check "absolute path into an existing directory: the tracked files" diff -u "$T/tracked" "$T/got-abs"

# Not a git checkout (an unpacked archive): the same files.
mv "$S/.git" "$T/git-away"
LAMBDECK_SRC=$S bash "$FC" examples/hello-python "$T/out-plain"
files_of "$T/out-plain" >"$T/got-plain"
check "not a git checkout: the same files, no session state" diff -u "$T/tracked" "$T/got-plain"

# A directory outside the source tree (a project the test generated) is copied as it is.
mkdir -p "$T/gen/.lambdeck" && echo x >"$T/gen/a" && echo y >"$T/gen/.lambdeck/h"
LAMBDECK_SRC=$S bash "$FC" "$T/gen" "$T/out-gen"
check "a generated project is copied whole" test -f "$T/out-gen/a" -a -f "$T/out-gen/.lambdeck/h"

# Every test and benchmark copies examples/ and tests/fixtures through the helper.
grep -rnE '(\bcp +-[a-zA-Z]*[rRa]|copytree|rsync)' "$LAMBDECK_SRC/tests" "$LAMBDECK_SRC/bench" \
	--include='*.sh' --include='*.py' --include='*.c' --exclude-dir=fixtures |
	grep -E 'examples|fixtures|FIXTURE' >"$T/raw-copies"
check "no test copies examples/ or tests/fixtures without tests/lib/fixture_copy.sh" \
	test ! -s "$T/raw-copies"
[ -s "$T/raw-copies" ] && cat "$T/raw-copies"
[ "$fails" = 0 ] || { echo "----- session output -----"; cat "$T/session.out"; }
check_exit
