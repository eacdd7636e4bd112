#!/usr/bin/env bash
# `npm run test:engines`: every engine, beyond npm test's smoke.
#  1. the engine smoke on every engine and mixed pair (each case on a lab of its own);
#  2. the compose corpus with compose v2 2.40 (Debian sid's plugin, from the 28.5 engine tree) on the lab;
#  3. the whole lab suite on each engine of RELEASEFLOW_FULL_ENGINES (default: 26.1 28.5 26.1-containerd
#     28.5-containerd; `none` skips), each on labs of its own (LAB_DIR /tmp/rfl-full-ENGINE, LAB_PREFIX rfg,
#     LAB_NET 10.213.80, lanes rfg2/rfg3 on 10.213.82/83; fleet and swarm on their own 4-host labs with
#     that engine). Not engines.test.ts (part 1) nor containerd.test.ts (it pins its own engines).
# Exits 1 if any part failed; every part runs.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
fail=0
export RELEASEFLOW_TEST_ENGINES=${RELEASEFLOW_TEST_ENGINES:-all}
node --import tsx scripts/run-tests.ts lab engines || fail=1
bash lab/lab.sh engines fetch 28.5 >/dev/null || exit 1
bash lab/lab.sh demo-up >/dev/null || exit 1
CORPUS_COMPOSE_PLUGIN="${LAB_CACHE:-/var/cache/releaseflow-lab}/engines/28.5/usr/libexec/docker/cli-plugins/docker-compose" \
  node --import tsx scripts/run-tests.ts lab compose-corpus || fail=1
for e in ${RELEASEFLOW_FULL_ENGINES:-26.1 28.5 26.1-containerd 28.5-containerd}; do
  [[ $e == none ]] && break
  echo "[test] ---- the lab suite on engine $e"
  lab=(env LAB_DIR="/tmp/rfl-full-$e" LAB_PREFIX=rfg LAB_NET=10.213.80 LAB_ENGINE="$e" LAB_CLI= RF_TEST_LANE_PREFIX=rfg RF_TEST_LANE_NET=10.213.8)
  if "${lab[@]}" bash lab/lab.sh demo-up >"/tmp/rfl-full-$e.up.log" 2>&1; then
    # the engine smoke ran above; containerd.test.ts pins its own engines (20.10 -> 28.5-containerd)
    "${lab[@]}" RELEASEFLOW_TEST_ENGINES=none RF_TEST_SKIP="engines containerd" node --import tsx scripts/run-tests.ts lab || fail=1
  else
    echo "[test] ✖ the lab on $e did not come up: /tmp/rfl-full-$e.up.log"; fail=1
  fi
  "${lab[@]}" bash lab/lab.sh down >/dev/null 2>&1
done
exit $fail
