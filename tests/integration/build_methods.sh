#!/bin/bash
# build_methods.sh - SAM BuildMethod makefile (`make build-<LogicalId>` with ARTIFACTS_DIR, only
# the artifacts are packaged, rerun only when a source changed), a TypeScript handler that
# nothing builds is a discovery problem naming the fix, an unsupported BuildProperties key
# fails the build saying so, Serverless package.patterns shape the zip, and constructs
# lambdeck does not understand (plugins, serverless-lift constructs, BuildMethods, !If) are
# notes with file:line, never a crash.
set -u
. "$LAMBDECK_SRC/tests/lib/check.sh"
PY=/usr/bin/python3
L=$LAMBDECK
. "$LAMBDECK_SRC/tests/lib/emu.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/lk-build-methods.XXXXXX")
trap 'emu__exit; [ -n "${LK_KEEP:-}" ] || rm -rf "$T"' EXIT
jget() { $PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

# ---- makefile
P=$T/mk
mkdir -p "$P/src"
cat >"$P/template.yaml" <<'YAML'
Transform: AWS::Serverless-2016-10-31
Resources:
  MakeFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
    Metadata:
      BuildMethod: makefile
YAML
printf 'import version\n\ndef handler(event, context):\n    return {"built": version.BUILT}\n' >"$P/src/app.py"
printf 'not packaged\n' >"$P/src/notes.txt"
# a recipe line starts with a tab
printf 'build-MakeFn:\n\tcp app.py "$(ARTIFACTS_DIR)/"\n\techo "BUILT = \\"by make\\"" > "$(ARTIFACTS_DIR)/version.py"\n\techo ran >> "%s/make-runs"\n' "$T" >"$P/src/Makefile"
cd "$P" || exit 1
"$L" functions --json >"$T/mk.fns.json"
check "makefile: no problem" test "$(jget "$T/mk.fns.json" 'j["functions"][0]["problem"]')" = None
"$L" build >"$T/mk.b1" 2>"$T/mk.b1.err"
check "makefile: build exit 0" test $? = 0 || cat "$T/mk.b1" "$T/mk.b1.err"
check "makefile: make build-MakeFn ran" grep -q '\$ make -f .*/src/Makefile build-MakeFn' "$T/mk.b1.err"
check "makefile: only ARTIFACTS_DIR is packaged" \
	test "$(unzip -Z1 .lambdeck/build/MakeFn/code.zip | sort | tr '\n' ' ')" = "app.py version.py "
"$L" build >"$T/mk.b2" 2>&1
check "makefile: nothing changed: make not rerun" test "$(wc -l <"$T/make-runs")" = 1
check "makefile: nothing changed: unchanged" grep -q "unchanged" "$T/mk.b2"
echo "# edit" >>src/app.py
"$L" build >"$T/mk.b3" 2>&1
check "makefile: a source edit reruns make" test "$(wc -l <"$T/make-runs")" = 2
EMU_STATE=$P/.lambdeck/emulator emu_start
"$L" invoke MakeFn --json >"$T/mk.i.json" 2>"$T/mk.i.err"
check "makefile: invoke exit 0" test $? = 0
check "makefile: the built code answers" test "$(jget "$T/mk.i.json" 'j["payload"]["built"]')" = "by make"
emu_stop
# a failing Makefile: the build fails with make's message, the previous artifact stays
cp .lambdeck/build/MakeFn/code.zip "$T/mk.zip"
printf 'build-MakeFn:\n\t@echo "no compiler here" >&2; exit 3\n' >"$P/src/Makefile"
"$L" build >"$T/mk.b4" 2>&1
check "makefile: failing make: exit 1" test $? = 1
check "makefile: failing make: says so" grep -q "make build-MakeFn failed (exit status 2): no compiler here" "$T/mk.b4"
check "makefile: failing make: previous artifact kept" cmp -s .lambdeck/build/MakeFn/code.zip "$T/mk.zip"

# ---- TypeScript with no build step; unsupported BuildProperties
P=$T/ts
mkdir -p "$P/src"
cat >"$P/template.yaml" <<'YAML'
Resources:
  Plain:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: nodejs20.x
  Odd:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: nodejs20.x
      Environment:
        Variables:
          PICK: !If [IsProd, a, b]
    Metadata:
      BuildMethod: esbuild
      BuildProperties:
        EntryPoints: [app.ts]
        Bogus: 1
  Rusty:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: nodejs20.x
    Metadata:
      BuildMethod: rust-cargolambda
YAML
printf 'export const handler = async (): Promise<number> => 1;\n' >"$P/src/app.ts"
cd "$P" || exit 1
"$L" functions --json >"$T/ts.fns.json"
check "ts: discovery exit 0" test $? = 0
check "ts: TypeScript with no build step is a problem naming the fix" \
	grep -q 'the handler is TypeScript (app.ts) and nothing builds it: add \\"Metadata: BuildMethod: esbuild\\"' "$T/ts.fns.json"
check "ts: an unknown construct is a note with file:line" \
	grep -q 'template.yaml:16:17: PICK is !If \[IsProd, a, b\]: not understood locally' "$T/ts.fns.json"
check "ts: an unsupported BuildMethod is a note with file:line" \
	grep -q 'template.yaml:29:20: BuildMethod rust-cargolambda is not supported by lambdeck' "$T/ts.fns.json"
"$L" build Odd >"$T/ts.b" 2>&1
check "ts: unsupported BuildProperties: build fails saying which" grep -q "BuildProperties Bogus is not supported by lambdeck" "$T/ts.b"

# ---- serverless.yml: package patterns, plugins, lift constructs, variables
P=$T/sls
mkdir -p "$P/src" "$P/tests" "$P/docs"
cat >"$P/serverless.yml" <<'YAML'
service: shop
provider:
  name: aws
  runtime: python3.12
  environment:
    TABLE: ${self:custom.tables.${sls:stage}}
    QUEUE: ${construct:jobs.queueUrl}
    REF: !Ref OrdersTable
package:
  patterns:
    - '!tests/**'
    - '!docs/**'
    - 'docs/keep.md'
    - '!**/*.log'
custom:
  tables:
    dev: orders-dev
    prod: orders-prod
plugins:
  - serverless-lift
  - serverless-offline
constructs:
  jobs:
    type: queue
functions:
  api:
    handler: src/app.handler
resources:
  Resources:
    OrdersTable:
      Type: AWS::DynamoDB::Table
YAML
printf 'def handler(e, c):\n    return 1\n' >"$P/src/app.py"
printf 'x\n' >"$P/tests/test_x.py"
printf 'x\n' >"$P/docs/keep.md"
printf 'x\n' >"$P/src/debug.log"
cd "$P" || exit 1
"$L" functions --json >"$T/sls.fns.json"
check "sls: discovery exit 0" test $? = 0
check "sls: nested variable" test "$(jget "$T/sls.fns.json" 'j["functions"][0]["environment"]["TABLE"]')" = "orders-dev"
check "sls: a lift construct variable gets a stand-in, never a missing variable" \
	test "$(jget "$T/sls.fns.json" 'j["functions"][0]["environment"]["QUEUE"]')" = ""
check "sls: ... and a note saying why" grep -q "QUEUE is \${construct:jobs.queueUrl} (\${construct:jobs.queueUrl} is a serverless-lift construct's output" "$T/sls.fns.json"
check "sls: !Ref of a resource in resources.Resources: its stand-in" \
	test "$(jget "$T/sls.fns.json" 'j["functions"][0]["environment"]["REF"]')" = "OrdersTable"
check "sls: unsupported plugin named (serverless-offline is fine)" grep -q 'plugins not run by lambdeck: serverless-lift (' "$T/sls.fns.json"
check "sls: lift constructs are noted with file:line" grep -q 'serverless.yml:23:3: serverless-lift constructs are not created locally' "$T/sls.fns.json"
"$L" functions --json --stage prod >"$T/sls.prod.json"
check "sls: --stage selects the nested key" test "$(jget "$T/sls.prod.json" 'j["functions"][0]["environment"]["TABLE"]')" = "orders-prod"
"$L" build >"$T/sls.b" 2>&1
check "sls: build exit 0" test $? = 0
unzip -Z1 .lambdeck/build/api/code.zip | sort >"$T/sls.list"
check "sls: package.patterns: !tests/** excluded" sh -c "! grep -q '^tests/' '$T/sls.list'"
check "sls: package.patterns: !**/*.log excluded" sh -c "! grep -q 'debug.log' '$T/sls.list'"
check "sls: package.patterns: the code is packaged" grep -qx "src/app.py" "$T/sls.list"

# ---- bad input never crashes: broken override syntax and env.json are file:line errors
"$L" functions --parameter-overrides "=oops" >"$T/bad1" 2>&1
check "bad --parameter-overrides: exit 1" test $? = 1
check "bad --parameter-overrides: says what is expected" grep -q "expected NAME=VALUE" "$T/bad1"
printf '{\n  "api": {"A": 1},\n  "Parameters": [1]\n}\n' >"$T/env.json"
"$L" functions --env-vars "$T/env.json" >"$T/bad2" 2>&1
check "bad env.json: exit 1" test $? = 1
check "bad env.json: file:line:col" grep -q 'env.json:3:3: "Parameters" must be an object of variables' "$T/bad2"

# constructs not understood: notes with file:line, or a clear error, never a crash
P=$T/cond
mkdir -p "$P/src"
printf 'def handler(e, c):\n    return 1\n' >"$P/src/app.py"
cat >"$P/template.yaml" <<'YAML'
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Conditions:
  IsProd: !Equals [!Ref AWS::AccountId, "1"]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.12}
  Fn::ForEach::Topics:
    - Name
    - [A, B]
    - Topic${Name}: {Type: AWS::SNS::Topic}
YAML
"$L" --project "$P" functions --json >"$T/cond.json" 2>&1
check "Condition on a function: a note with file:line" grep -q 'template.yaml:7:16: Condition IsProd is not evaluated locally' "$T/cond.json"
check "Fn::ForEach: a note with file:line" grep -q 'template.yaml:9:3: Fn::ForEach::Topics (AWS::LanguageExtensions) is not expanded' "$T/cond.json"
P=$T/slsfile
mkdir -p "$P"
printf 'service: x\nprovider:\n  name: aws\n  runtime: python3.12\nfunctions: ${file(./functions.yml)}\n' >"$P/serverless.yml"
"$L" --project "$P" functions >"$T/slsfile.out" 2>&1
check "functions from \${file()}: exit 1 with file:line and what to do" \
	grep -q 'serverless.yml:5:12: functions is ${file(./functions.yml)}: lambdeck does not read variables from other files' "$T/slsfile.out"
check_exit
