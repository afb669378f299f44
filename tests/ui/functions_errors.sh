#!/bin/bash
# Functions pane with bad input: a malformed template shows file:line:col in the pane while
# the console stays up, and fixing the file reloads the tree; a function with a missing
# handler file is marked while the others work; dependency folders are one node; a project
# with no functions says how to add one.
. "$LAMBDECK_SRC/tests/lib/ui.sh"
UI_PROJECT="$LAMBDECK_SRC/tests/fixtures/project/broken-yaml"
ui_start
ui_wait_for "template.yaml:6:6: did not find expected key"
ui_wait_for "Fix the file"
ui_wait_for "1 Functions  error"
ui_assert_contains "2 Logs"
ui_pass "parse error shown with file:line:col, console up"

# Fix the template: the project reloads by itself (watch on the project directory).
mkdir -p "$UI_PROJ/good" "$UI_PROJ/other"
printf 'def handler(event, context):\n    return 1\n' >"$UI_PROJ/good/app.py"
mkdir -p "$UI_PROJ/good/node_modules/left-pad" "$UI_PROJ/good/node_modules/lodash" "$UI_PROJ/good/__pycache__"
touch "$UI_PROJ/good/__pycache__/app.cpython-312.pyc" "$UI_PROJ/good/stale.pyc"
cat >"$UI_PROJ/template.yaml.new" <<'YAML'
Resources:
  Good:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: good/, Handler: app.handler, Runtime: python3.12}
  Broken:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: other/, Handler: gone.handler, Runtime: python3.12}
YAML
mv "$UI_PROJ/template.yaml.new" "$UI_PROJ/template.yaml"
ui_wait_for "2 functions"
ui_wait_gone "Fix the file"
ui_wait_line "▸ Good +py3.12"
ui_wait_line "▸ Broken +py3.12(→3\.[0-9]+)? +✗"
ui_pass "fixing the file reloads the tree; the broken function is marked"

ui_keys Right
ui_wait_line "^┃ +app\.py +handler:1"
ui_wait_line "^┃ +node_modules/ \(2 entries\)"
ui_assert_not_contains "__pycache__"
ui_assert_not_contains "stale.pyc"
ui_assert_not_contains "left-pad"
ui_pass "dependency folder collapsed to one node; caches skipped"
ui_keys Left Down Right
ui_wait_for "✗ handler file gone.py not found"
ui_pass "problem shown under the function"
ui_quit

# No functions at all: a hint how to add one.
mkdir -p "$UI_DIR/empty"
ui_run_console --project "$UI_DIR/empty"
ui_wait_for "1 Functions  0 functions"
ui_wait_for "No functions found. Add one"
ui_wait_for "AWS::Serverless::Function"
ui_quit
ui_pass "functions_errors"
