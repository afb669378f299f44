#!/bin/bash
# bench/playground.sh - key press -> response visible, for a warm local function, in the
# console's Playground pane, next to `aws lambda invoke` (and `lambdeck invoke`) against the
# SAME emulator, in the same run.
#
#   bench/playground.sh [LAMBDECK_BINARY] [N]
#
# The console runs on a pseudo-terminal (bench/playground_pty.py, 160x50); the emulator is
# started once in the project's state dir so the console, `lambdeck invoke` and the AWS CLI
# all talk to it. "key -> response" is from writing 's' to the pty until the first byte of
# the response frame can be read from it (the pane draws nothing on the key itself).
# Prints a Markdown table (medians, ratios).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
LAMBDECK=$(realpath "${1:-$SRC/build-rel/lambdeck}")
N=${2:-20}
AWS=/usr/bin/aws
export LAMBDECK LAMBDECK_SRC=$SRC
[ -x "$LAMBDECK" ] || { echo "no binary $LAMBDECK (cmake -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/lk-bench-pg.XXXXXX")
P=$T/project
bash "$SRC/tests/lib/fixture_copy.sh" examples/hello-python "$P"
. "$SRC/tests/lib/emu.sh"
cleanup() {
	emu_stop || true
	rm -rf "$T" "$EMU_TMP"
}
EMU_STATE=$P/.lambdeck/emulator emu_start
trap cleanup EXIT # after emu_start, which sets its own

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# Warm the function (deploy + cold start) through the CLI once.
(cd "$P" && "$LAMBDECK" invoke HelloFunction --event ada >/dev/null 2>&1)

# --- the console on a pty: key press -> first byte of the response frame
/usr/bin/python3 "$SRC/bench/playground_pty.py" "$LAMBDECK" "$P" "$N" >"$T/console.txt"

# --- lambdeck invoke (a new process each time: start, attach, check deploy, invoke)
: >"$T/cli.txt"
for i in $(seq "$N"); do
	t0=$(now_ns)
	(cd "$P" && "$LAMBDECK" invoke HelloFunction --event ada >/dev/null 2>&1)
	t1=$(now_ns)
	echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$T/cli.txt"
done

# --- aws lambda invoke against the same emulator
: >"$T/aws.txt"
printf '{"name": "Ada"}' >"$T/ada.json"
for i in $(seq "$N"); do
	t0=$(now_ns)
	"$AWS" --endpoint-url "$ENDPOINT" lambda invoke --function-name HelloFunction \
		--cli-binary-format raw-in-base64-out --payload "file://$T/ada.json" "$T/out.json" >/dev/null
	t1=$(now_ns)
	echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$T/aws.txt"
done
grep -q "Hello, Ada" "$T/out.json" || { echo "aws lambda invoke returned: $(cat "$T/out.json")" >&2; exit 1; }

mc=$(median <"$T/console.txt")
ml=$(median <"$T/cli.txt")
ma=$(median <"$T/aws.txt")
echo "| what (warm HelloFunction, local emulator, N=$N) | median ms | vs console |"
echo "|---|---:|---:|"
echo "| console: key press -> response on the terminal | $mc | 1.0x |"
echo "| \`lambdeck invoke\` (new process each time) | $ml | $(echo "scale=1; $ml / $mc" | bc)x |"
echo "| \`aws lambda invoke\` (AWS CLI 2, same emulator) | $ma | $(echo "scale=1; $ma / $mc" | bc)x |"
