# scale.sh - wait limits for shell tests that hold on a sanitizer build and a loaded machine.
# ctest exports LAMBDECK_TEST_SCALE (2 in a sanitizer build, else 1; see cmake/tests.cmake).
#
#   . "$LAMBDECK_SRC/tests/lib/scale.sh"
#   lk_scaled 10                           # prints 20 when the scale is 2 (whole seconds)
#   lk_wait_until 10 test -s "$file"       # polls every 0.1 s; status 1 after 10 s x scale

# lk_scaled SECONDS : SECONDS times LAMBDECK_TEST_SCALE, rounded up to whole seconds.
lk_scaled() {
	awk -v s="$1" -v k="${LAMBDECK_TEST_SCALE:-1}" \
		'BEGIN { v = s * k; r = int(v); if (r < v) r++; if (r < 1) r = 1; print r }'
}

# lk_wait_until SECONDS COMMAND... : runs COMMAND every 0.1 s until it succeeds (status 0)
# or SECONDS (scaled) have passed (status 1).
lk_wait_until() {
	local end=$((SECONDS + $(lk_scaled "$1")))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}
