# The HelloBash function: called by bootstrap with the event JSON as $1.
# Prints the response JSON; log lines go to stderr. Fails on an event {"fail": true}.
handler() {
	local event="$1"
	echo "received ${#event} bytes" >&2
	case "$event" in
	*'"fail": true'* | *'"fail":true'*)
		echo "asked to fail" >&2
		return 3
		;;
	esac
	printf '{"message": "hello from bash", "event": %s}\n' "${event:-null}"
}
