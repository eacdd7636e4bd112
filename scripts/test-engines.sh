#!/usr/bin/env bash
# `npm run test:engines`: the engine smoke on every engine and mixed pair (each on a lab of its own), then
# the compose corpus with compose v2 2.40 (Debian sid's plugin, from the 28.5 engine tree) on the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export RELEASEFLOW_TEST_ENGINES=${RELEASEFLOW_TEST_ENGINES:-all}
node --import tsx scripts/run-tests.ts lab engines
bash lab/lab.sh engines fetch 28.5 >/dev/null
bash lab/lab.sh demo-up >/dev/null
CORPUS_COMPOSE_PLUGIN="${LAB_CACHE:-/var/cache/releaseflow-lab}/engines/28.5/usr/libexec/docker/cli-plugins/docker-compose" \
  node --import tsx scripts/run-tests.ts lab compose-corpus
