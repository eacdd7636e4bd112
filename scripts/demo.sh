#!/usr/bin/env bash
# `npm run demo [-- -v]`: the seed's release on the built-in lab. PROD runs v1 and TEST v2, both by plain
# `docker run`; releaseflow checks, plans and releases, and the demo ends with a short summary and the
# commands to try next. Everything each command printed goes to $LAB_DIR/demo.log; -v prints it all here too.
set -euo pipefail
cd "$(dirname "$0")/.."
VERBOSE=0
[[ ${1:-} == -v || ${1:-} == --verbose ]] && VERBOSE=1
export LAB_DIR=${LAB_DIR:-/tmp/releaseflow-lab}
bash scripts/setup.sh
mkdir -p "$LAB_DIR"
DEMO_LOG=$LAB_DIR/demo.log
: >"$DEMO_LOG"

# run a step with its output in the demo log (and here with -v); on failure show its last lines and stop
quiet() {
  echo "\$ $*" >>"$DEMO_LOG"
  if ((VERBOSE)); then "$@" 2>&1 | tee -a "$DEMO_LOG"; return "${PIPESTATUS[0]}"; fi
  "$@" >>"$DEMO_LOG" 2>&1 || { local rc=$?; tail -n 30 "$DEMO_LOG" | sed 's/^/    /'; echo "demo: '$*' failed (exit $rc); full output: $DEMO_LOG" >&2; return "$rc"; }
}
rf() { node bin/releaseflow.js "$@"; }
secs() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1fs", e - s }'; }

echo "== releaseflow demo: a TEST and a PROD host on this machine (lab in $LAB_DIR) =="
t=$(date +%s.%N)
quiet bash lab/lab.sh demo-up
export RELEASEFLOW_CONFIG
RELEASEFLOW_CONFIG=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).config' "$LAB_DIR/lab.json")
echo "lab up in $(secs "$t"): PROD runs v1, TEST runs v2, both started by plain docker run"

quiet rf doctor
echo "\$ releaseflow doctor        $(grep -E '^[0-9]+ passed' "$DEMO_LOG" | tail -n1)"
quiet rf plan
echo "\$ releaseflow plan          $(grep -cE '^step [0-9]+/' "$DEMO_LOG") steps, each with its commands and cause (in $DEMO_LOG)"
echo "\$ releaseflow promote --yes"
mark=$(wc -l <"$DEMO_LOG")
quiet rf promote --yes
# the step results and the result line; the plan, commands and outputs stay in the logs
((VERBOSE)) || tail -n +"$((mark + 1))" "$DEMO_LOG" | grep -E '^\[ReleaseFlow\] (step [0-9]+/[0-9]+ .* (ok|FAILED)|result:)' | sed 's/^\[ReleaseFlow\] /    /' || true
history_json=$(rf history --json)
echo "\$ releaseflow history --json" >>"$DEMO_LOG" && echo "$history_json" >>"$DEMO_LOG"
node scripts/demo-summary.mjs "$RELEASEFLOW_CONFIG" "$DEMO_LOG" <<<"$history_json"
