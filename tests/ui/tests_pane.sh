# tests_pane.sh - the Tests pane on examples/hello-python (its real unittest suite), as a
# person would use it: the first run at start, save a failing test -> a run starts by itself
# and the failure is listed with file:line, Enter -> the editor (a recording script) at that
# line, watch off -> saves do nothing, r runs now, c cancels a hanging run.
. "$LAMBDECK_SRC/tests/lib/ui.sh"

# A recording editor named "vi" (so the console passes +LINE the way it does for vi).
mkdir -p "$UI_DIR/bin"
cat >"$UI_DIR/bin/vi" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >> "$UI_DIR/editor.log"
EOF
chmod +x "$UI_DIR/bin/vi"
UI_ENV="EDITOR=$UI_DIR/bin/vi"

ui_start
ui_keys 4
ui_wait_line "Tests +. [0-9]+ passed" 30
ui_wait_for "console start"
ui_wait_for "watch on"
ui_assert_contains "python3 -m unittest discover"
ui_assert_contains 'chosen by: lambdeck.json "test"'
ui_pass "first run at start, result and command in the title, the rule that chose it"

# Save a failing test: the watcher starts a run by itself.
cat >"$UI_PROJ/tests/test_refund.py" <<'EOF'
import unittest


class TestRefund(unittest.TestCase):
    def test_refund(self):
        self.assertEqual(200, 500)
EOF
ui_wait_for "on save: tests/test_refund.py" 30
ui_wait_line "1 failed, [0-9]+ passed" 30
ui_wait_for "tests/test_refund.py:6  test_refund"
ui_assert_contains "AssertionError: 200 != 500"
ui_pass "save -> run -> failing test listed with file:line"

# Enter on the failure (the cursor is on it after a run) opens the editor there.
ui_keys Enter
lk_wait_until 10 test -s "$UI_DIR/editor.log"
[ -s "$UI_DIR/editor.log" ] || ui_fail "the editor was not started"
grep -qx "+6 $UI_PROJ/tests/test_refund.py" "$UI_DIR/editor.log" ||
	ui_fail "editor got: $(cat "$UI_DIR/editor.log")"
ui_wait_for "4 Tests"
ui_pass "Enter -> editor at tests/test_refund.py line 6"

# Watch off: a save does not start a run; r does.
ui_keys w
ui_wait_for "watch off"
cat >"$UI_PROJ/tests/test_refund.py" <<'EOF'
import unittest


class TestRefund(unittest.TestCase):
    def test_refund(self):
        self.assertEqual(500, 500)
EOF
# Same size, maybe the same second as the first version: Python would trust its cached
# bytecode (mtime + size) and run the old test.
rm -rf "$UI_PROJ/tests/__pycache__"
sleep 1.5
ui_assert_contains "1 failed"
ui_keys r
ui_wait_for "manual" 30
ui_wait_gone "1 failed" 30
ui_wait_line "✓ [0-9]+ passed"
ui_pass "watch toggle, run now"

# A hanging test: c cancels it (the whole process group).
cat >"$UI_PROJ/tests/test_hang.py" <<'EOF'
import time
import unittest


class TestHang(unittest.TestCase):
    def test_hang(self):
        import os
        with open("hang.pid", "w") as f:
            f.write(str(os.getpid()))
        print("hanging now", flush=True)
        time.sleep(300)
EOF
ui_keys r
ui_wait_for "hanging now" 30
ui_assert_contains "running"
ui_keys c
ui_wait_for "cancelled" 15
pid=$(cat "$UI_PROJ/hang.pid")
i=0
while [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
	ui_fail "the cancelled test process $pid is still running"
fi
ui_pass "cancel"

# Only pytest-style tests left: unittest runs none. A warning with the cause, not a pass.
mkdir -p "$UI_DIR/parked"
mv "$UI_PROJ"/tests/test_*.py "$UI_DIR/parked/"
printf 'def test_plain():\n    assert 1 + 1 == 2\n' >"$UI_PROJ/tests/test_plain.py"
rm -rf "$UI_PROJ/tests/__pycache__"
ui_keys r
ui_wait_for "no tests ran" 30
ui_wait_for "unittest discovered none"
ui_assert_contains "(tests/test_plain.py)" # the tree as it is after the run
ui_assert_not_contains "✓"
ui_pass "no tests ran: a warning naming the likely cause"

# History: the runs listed, Esc back.
ui_keys H
ui_wait_line "#[0-9]+ +[0-9:]+ +.*manual"
ui_keys Escape
ui_wait_for "watch off"

ui_quit
