#!/usr/bin/env bash
# `npm test`: the fast checks first (lint, types, unit and web tests: about a minute), and only when
# they pass the lab: bring it up, then the lab files in three lanes. Stops at the first failing phase.
# scripts/run-tests.ts prints a line per file as it starts and ends, and a summary with the slowest files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
t0=$SECONDS
phase() { echo "[test] ---- $* ($((SECONDS - t0))s so far)"; }
phase "lint (biome)"
npx biome check src test bench
phase "the house's rules: no import cycle, each layer imports only the layers below (dependency-cruiser)"
npx depcruise src --config .dependency-cruiser.cjs
phase "type check (tsc --noEmit)"
npx tsc --noEmit
phase "unit and web tests"
node --import tsx scripts/run-tests.ts unit
phase "bringing the lab up (bash lab/lab.sh demo-up)"
bash lab/lab.sh demo-up >/dev/null
phase "lab tests"
# lab files run in lanes, each on a lab of its own (scripts/run-tests.ts; RF_TEST_LANES=1: one at a time).
# The engine smoke (test/lab/engines.test.ts: 26.1, 28.5, the containerd store and the mixed pairs, each case
# a job on a lab of its own) is part of npm test; RELEASEFLOW_TEST_ENGINES=none skips it on a machine in a hurry
export RELEASEFLOW_TEST_ENGINES=${RELEASEFLOW_TEST_ENGINES:-all}
node --import tsx scripts/run-tests.ts lab
phase "all passed"
