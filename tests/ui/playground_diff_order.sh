#!/bin/bash
# playground_diff_order.sh - the response diff (=) prints a changed line's "-" (previous)
# before its "+" (this one), as diff(1) and git do.
. "$LAMBDECK_SRC/tests/lib/ui.sh"
ui_python_function Counter <<'PY'
n = 0


def handler(event, context):
    global n
    n += 1
    return {"count": n, "same": "kept"}
PY
mkdir -p "$UI_PROJECT/events/Counter"
echo '{}' >"$UI_PROJECT/events/Counter/e.json"
ui_start
ui_keys 3
ui_wait_for "Counter  RequestResponse"
ui_keys s
ui_wait_line "200  Counter/e " 60
ui_keys s
ui_wait_for '"count": 2'
ui_keys h
ui_wait_line "History \(all functions\) 2"
ui_keys =
ui_wait_for "diff Counter/e: previous (-) -> this (+)"
ui_wait_line '^[│┃]- +"count": 1,'
screen=$(ui_screen)
minus=$(grep -n '^[│┃]- *"count": 1,' <<<"$screen" | cut -d: -f1)
plus=$(grep -n '^[│┃]+ *"count": 2,' <<<"$screen" | cut -d: -f1)
[ -n "$minus" ] && [ -n "$plus" ] || ui_fail "no -/+ lines for the changed count"
[ "$minus" -lt "$plus" ] || ui_fail "the + line ($plus) comes before the - line ($minus)"
ui_assert_contains '"same": "kept"'
ui_pass "the diff prints - before +"
ui_quit
