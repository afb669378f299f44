#!/bin/bash
# Logs pane shows what the runtimes write readably: a Python logging line
# ("[INFO]\t<time>\t<request id>\t<message>") as "INFO  message" with the time and request id
# folded away, an uncaught exception's traceback (one log event, '\r'-separated like AWS's
# runtime) as continuation lines under its "[ERROR]" line, and the header's error count
# counts the one exception, not the INFO and print lines that mention "Error"/"Exception".
. "$LAMBDECK_SRC/tests/lib/ui.sh"

ui_python_function orders <<'PY'
import logging
logging.getLogger().setLevel(logging.INFO)
def handler(event, context):
    logging.info("polling ErrorQueue, 0 messages")
    print("Exception handling docs: see README")
    if event.get("fail"):
        raise ValueError("order %s has no items" % event["n"])
    return {"ok": True}
PY

ui_start
ui_wait_for "not created yet" 45
ui_keys 2 z
(cd "$UI_PROJ" && PATH=/usr/bin:/bin "$LAMBDECK" invoke orders --event '{"n": 7, "fail": true}' >/dev/null 2>&1)
ui_wait_for "polling ErrorQueue" 45
ui_wait_line '^[┃│ ]*[0-9:.]+ orders +INFO +polling ErrorQueue, 0 messages *[┃│ ]*$'
ui_assert_not_contains "[INFO]"
ui_pass "a Python logging line is shown as INFO + message (time and request id folded)"
ui_wait_line '^[┃│ ]*[0-9:.]+ orders +ERROR +ValueError: order 7 has no items *[┃│ ]*$'
ui_wait_line '^[┃│ ]{20,}Traceback \(most recent call last\): *[┃│ ]*$'
ui_wait_line '^[┃│ ]{20,}  File "/'
ui_wait_line '^[┃│ ]{20,}    raise ValueError\("order %s has no items"'
ui_pass "the traceback's lines continue under the [ERROR] line, indented"
ui_wait_for "1 err"
ui_assert_not_contains "2 err"
ui_assert_not_contains "3 err"
ui_pass "the header counts one error for one exception"
ui_quit
