#!/usr/bin/env bash
# `npm test`: set-up, lab up, then lint, type check, unit tests and lab tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "[test] bringing the lab up"
bash lab/lab.sh demo-up >/dev/null
echo "[test] lint"
npx biome check src test bench
echo "[test] type check"
npx tsc --noEmit
echo "[test] unit and lab tests"
# one runner for all files so node prints one summary; lab files share the lab, so no concurrency
node --import tsx --test --test-concurrency=1 test/unit/*.test.ts test/web/*.test.ts test/lab/*.test.ts
