#!/bin/bash
# Project discovery benchmark: a generated SAM template with 200 functions (Globals, intrinsic
# tags, per-function code dirs and handler files), discovered by lambdeck's project_load()
# and, in the same run, by a Python + PyYAML (LibYAML C loader) implementation of the same
# work. Also times the whole `lambdeck functions --json` process against the Python script
# run as a process. Writes bench/results/project.md.
# Usage: bench/project.sh [BUILD_DIR]   (default build-rel: a non-sanitised build)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-rel}
n=${N:-100}
py=/usr/bin/python3
if [ ! -x "$build/tests-bench-project/bench_project" ]; then
	cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLAMBDECK_SANITIZE=OFF >/dev/null
	cmake --build "$build" -j2 --target bench_project lambdeck >/dev/null
fi
$py -c 'import yaml' || { echo "bench/project.sh: needs python3-yaml for the baseline" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Generate the project.
$py - "$tmp" <<'PY'
import os, sys
d = sys.argv[1]
lines = ["AWSTemplateFormatVersion: '2010-09-09'", "Transform: AWS::Serverless-2016-10-31",
         "Parameters:", "  Stage:", "    Type: String", "    Default: dev",
         "Globals:", "  Function:", "    Runtime: python3.12", "    Timeout: 10",
         "    MemorySize: 256", "    Environment:", "      Variables:",
         "        STAGE: !Ref Stage", "        LOG_LEVEL: INFO",
         "    Layers:", "      - !Ref CommonLayer", "Resources:"]
for i in range(200):
    os.makedirs(f"{d}/src/fn{i:03d}", exist_ok=True)
    with open(f"{d}/src/fn{i:03d}/app.py", "w") as f:
        f.write("import json\nimport os\n\n\n" + "".join(
            f"def helper{k}(x):\n    return x + {k}\n\n\n" for k in range(20)) +
            "def lambda_handler(event, context):\n    return {'statusCode': 200}\n")
    lines += [f"  Function{i:03d}:", "    Type: AWS::Serverless::Function", "    Properties:",
              f"      CodeUri: src/fn{i:03d}/", "      Handler: app.lambda_handler",
              "      Environment:", "        Variables:",
              f"          TABLE: !Ref Table{i:03d}", f"          NAME: !Sub '${{Stage}}-fn{i:03d}'",
              f"  Table{i:03d}:", "    Type: AWS::DynamoDB::Table",
              "    Properties:", "      BillingMode: PAY_PER_REQUEST"]
open(f"{d}/template.yaml", "w").write("\n".join(lines) + "\n")
PY
size=$(wc -c <"$tmp/template.yaml")

c_line=$("$build/tests-bench-project/bench_project" "$tmp" "$n")
py_line=$($py "$src/bench/project_baseline.py" "$tmp" "$n")
get() { sed -n "s/.*$2=\([^ ]*\).*/\1/p" <<<"$1"; }
c_med=$(get "$c_line" median_ms)
py_med=$(get "$py_line" median_ms)

# Whole processes, 20 runs each, medians.
proc_median() {
	$py - "$@" <<'PY'
import statistics, subprocess, sys, time
ts = []
for _ in range(20):
    t0 = time.perf_counter()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
    ts.append(time.perf_counter() - t0)
print("%.2f" % (statistics.median(ts) * 1000))
PY
}
c_proc=$(proc_median "$build/lambdeck" --project "$tmp" functions --json)
py_proc=$(proc_median $py "$src/bench/project_baseline.py" "$tmp" 1)

ratio=$(awk -v a="$py_med" -v b="$c_med" 'BEGIN { printf "%.1f", a / b }')
pratio=$(awk -v a="$py_proc" -v b="$c_proc" 'BEGIN { printf "%.1f", a / b }')
mkdir -p "$src/bench/results"
cat >"$src/bench/results/project.md" <<MD
## Project discovery (issue 3)

Generated SAM template: 200 \`AWS::Serverless::Function\` resources (+ 200 DynamoDB tables),
Globals merge, \`!Ref\`/\`!Sub\` tags, one code directory and a 100-line \`app.py\` per function;
template $size bytes. Both sides do the same work: parse, merge Globals, resolve CodeUri, find
each handler file and the line of its \`def\`. Machine: $(nproc) cores, $(uname -sr), load
average at the end of the run: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: the minimum
shows the unloaded cost; the ratio compares both sides under the same load).

| what | lambdeck (C, libyaml) | Python 3 + PyYAML ($(get "$py_line" loader)) | ratio |
|---|---|---|---|
| discovery in-process, median of $n | **$c_med ms** (min $(get "$c_line" min_ms), p90 $(get "$c_line" p90_ms)) | $py_med ms (min $(get "$py_line" min_ms), p90 $(get "$py_line" p90_ms)) | ${ratio}x |
| whole process, median of 20 | $c_proc ms (\`lambdeck functions --json\`) | $py_proc ms (\`python3 project_baseline.py\`) | ${pratio}x |

Target (issue 3): discovery of a 200-function template ≤ 20 ms — measured $c_med ms.

Reproduce: \`bench/project.sh\` (builds build-rel with -DCMAKE_BUILD_TYPE=Release if needed;
N=100 iterations; needs python3-yaml for the baseline).
MD
cat "$src/bench/results/project.md"
