#!/bin/bash
# A long function error in the Playground wraps at the pane's width, at word boundaries:
# every word of the errorMessage is on screen (none is cut at the pane's edge), and the
# status bar's reason for a failed send (a dependency install that fails) is cut between
# words with a pointer to the Playground, which shows it whole.
. "$LAMBDECK_SRC/tests/lib/ui.sh"
UI_COLS=100
UI_ROWS=40

ui_python_function orders <<'PY'
def handler(event, context):
    raise RuntimeError("the order service rejected the request because the customer "
                       "account is suspended pending verification of the billing address "
                       "supplied at checkout lastwordofthereason")
PY

ui_start
ui_keys 3
ui_wait_for "s3-put (template)"
ui_keys z s
ui_wait_line "200 Unhandled" 60
ui_wait_for "lastwordofthereason"
ui_wait_for "verification"
ui_pass "the whole errorMessage is readable in the Playground, wrapped"
# A failure before the invoke (the dependency install fails): a long reason.
echo "./wheels/not-there-1.0-py3-none-any.whl" >"$UI_PROJ/orders/requirements.txt"
ui_keys s
ui_wait_line "FAILED  orders/template:s3-put" 60
# the status bar is drawn in the same frame as the FAILED line
ui_screen | tail -n 1 | grep -Eq 'orders/template:s3-put: 0 [a-z ]*[a-z]… \(see Playground\)' ||
	ui_fail "status bar: $(ui_screen | tail -n 1)"
ui_pass "the status bar cuts the reason between words and says where the whole text is"
ui_wait_for "not-there-1.0-py3-none-any.whl"
ui_pass "the Playground shows the whole reason"
ui_quit
