# ninja_generator.sh - the build also works with CMake's Ninja generator (issue 17): a
# configure with -G Ninja, then ninja's own check of the build graph (a dry run: no two
# rules for one output, no phony target named like a file, e.g. a custom target named like
# the binary it builds). Ninja is not needed to build lambdeck; without it (scripts/deps
# --test installs it) this says so and passes.
set -u
if ! command -v ninja >/dev/null; then
	echo "ninja is not installed (scripts/deps --test): nothing to check"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-ninja.XXXXXX")
trap 'rm -rf "$T"' EXIT
if ! cmake -G Ninja -S "$LAMBDECK_SRC" -B "$T/b" >"$T/configure.log" 2>&1; then
	echo "FAIL: cmake -G Ninja"
	cat "$T/configure.log"
	exit 1
fi
# -w phonycycle=err: a custom target named like its output is only a warning by default,
# but the same name then has two rules (the error CMake's generated graph ran into).
if ! ninja -C "$T/b" -n -w phonycycle=err -w dupbuild=err >"$T/dry.log" 2>&1; then
	echo "FAIL: ninja refuses the generated build graph"
	grep -E 'error|warning' "$T/dry.log"
	exit 1
fi
if grep -E '^ninja: (warning|error)' "$T/dry.log"; then
	echo "FAIL: ninja warns about the generated build graph"
	exit 1
fi
echo "ok: cmake -G Ninja configures and ninja accepts the build graph"
