#!/usr/bin/env bash
# `npm run demo`: the seed's release on the built-in lab. PROD runs v1 and TEST v2, both by plain
# `docker run`; releaseflow shows status, checks, plans, releases, and prints history and the log.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== lab: TEST and PROD hosts on this machine (PROD on v1, TEST on v2) =="
bash lab/lab.sh demo-up
LAB_DIR=${LAB_DIR:-/tmp/releaseflow-lab}
export RELEASEFLOW_CONFIG=$LAB_DIR/releaseflow.yml
rf() { echo; echo "\$ releaseflow $*"; node bin/releaseflow.js "$@"; }
rf status
rf doctor
rf plan
rf promote --yes
rf status
rf history
echo
echo "== the [ReleaseFlow] log: $(grep -m1 'file:' "$RELEASEFLOW_CONFIG" | awk '{print $2}') =="
tail -n 40 "$LAB_DIR/tool_log.log"
