#!/bin/bash
# Logs pane with the emulator the console starts for the project (LOCAL mode): the pane
# polls a group that does not exist yet, then serves it live; an invocation's lines appear (START/END folded, REPORT summarised, summary in the
# header); pause counts new lines and resume shows them; local filter; search with n; Enter
# on a Python stack-trace line opens $EDITOR (a recording script) at the file and line.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

# a project with one python function that prints a traceback
mkdir -p "$UI_DIR/bin"
ui_python_function orders <<'EOF'
import traceback
def handler(event, context):
    print("hello from ui", event.get("n"))
    try:
        raise ValueError("boom %s" % event.get("n"))
    except ValueError:
        traceback.print_exc()
    return {"ok": True}
EOF
cat >"$UI_DIR/bin/vi" <<EOS
#!/bin/sh
for a in "\$@"; do printf '%s\n' "\$a"; done > "$UI_DIR/editor.args.tmp"
mv "$UI_DIR/editor.args.tmp" "$UI_DIR/editor.args"
EOS
chmod +x "$UI_DIR/bin/vi"
UI_ENV="EDITOR=$UI_DIR/bin/vi"

ui_start
ui_wait_for "not created yet" 45
ui_pass "the pane follows the console's emulator; the function's group does not exist yet"

# the console's emulator: its endpoint and generated credentials
EP=$UI_PROJ/.lambdeck/emulator/endpoint
ENDPOINT=$(sed -n 's/.*"endpoint": *"\([^"]*\)".*/\1/p' "$EP")
AWS_SHARED_CREDENTIALS_FILE=$(sed -n 's/.*"credentials_file": *"\([^"]*\)".*/\1/p' "$EP")
AWS_REGION=$(sed -n 's/.*"region": *"\([^"]*\)".*/\1/p' "$EP")
export ENDPOINT AWS_SHARED_CREDENTIALS_FILE AWS_REGION AWS_EC2_METADATA_DISABLED=true
[ -n "$ENDPOINT" ] || ui_fail "no emulator endpoint in $EP"
py() {
	/usr/bin/python3 - "$@" <<'EOF'
import io, json, os, sys, zipfile
sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
import botocore.session, configparser
cp = configparser.ConfigParser(); cp.read(os.environ["AWS_SHARED_CREDENTIALS_FILE"])
s = cp["lambdeck-local"]
lam = botocore.session.Session().create_client(
    "lambda", region_name=os.environ["AWS_REGION"], endpoint_url=os.environ["ENDPOINT"],
    aws_access_key_id=s["aws_access_key_id"], aws_secret_access_key=s["aws_secret_access_key"])
if sys.argv[1] == "create":
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.write(os.path.join(sys.argv[2], "app.py"), "app.py")
    lam.create_function(FunctionName="orders", Runtime="python3.12", Handler="app.handler",
                        Role="arn:aws:iam::000000000000:role/x", Code={"ZipFile": b.getvalue()})
else:
    lam.invoke(FunctionName="orders", Payload=json.dumps({"n": int(sys.argv[2])}).encode())
EOF
}
py create "$UI_PROJ/orders" || ui_fail "create function"

ui_keys 2
py invoke 1 || ui_fail "invoke"
# the first invocation starts a python worker: slow on a loaded machine under ASan
ui_wait_for "hello from ui 1" 45
ui_wait_for "live tail (1 group)" 20
ui_pass "the group appeared: served live now"
ui_wait_line "REPORT [0-9.]+ ms"
ui_wait_line "orders: 1 inv +last [0-9.]+ ms"
ui_assert_not_contains "START RequestId"
ui_wait_for "ValueError: boom 1"
ui_pass "invoke -> lines appear, START/END folded, REPORT summarised, header summary"

ui_keys p
ui_wait_for "PAUSED (0 new)"
py invoke 2
ui_wait_line "PAUSED \([1-9][0-9]* new\)"
ui_assert_not_contains "hello from ui 2"
ui_keys p
ui_wait_for "hello from ui 2"
ui_wait_gone "PAUSED"
ui_pass "pause counts new lines, resume shows them"

ui_keys f
ui_type "from ui 2"
ui_keys Enter
ui_wait_gone "hello from ui 1"
ui_assert_contains "hello from ui 2"
ui_keys f
ui_keys C-u
ui_keys Enter
ui_wait_for "hello from ui 1"
ui_pass "local filter and clearing it"

ui_keys f
ui_type "/from ui [2]/"
ui_keys Enter
ui_wait_gone "hello from ui 1"
ui_assert_contains "hello from ui 2"
ui_keys f
ui_keys C-u
ui_keys Enter
ui_wait_for "hello from ui 1"
ui_pass "regex filter"

# search the traceback line of the first invocation and open it in the editor
ui_keys g
ui_keys /
ui_type 'app.py", line 5'
ui_keys Enter
ui_keys Enter
lk_wait_until 10 test -s "$UI_DIR/editor.args"
[ -s "$UI_DIR/editor.args" ] || ui_fail "the editor was not started"
got=$(cat "$UI_DIR/editor.args")
want=$(printf '%s\n' "+5" "$UI_PROJ/orders/app.py")
[ "$got" = "$want" ] || ui_fail "editor argv: got [$got], want [$want]"
sleep 0.5
ui_keys C-l
ui_pass "Enter on a stack-trace line opens the editor at app.py:5"

ui_quit
