#!/usr/bin/env bash
# Runs every JS benchmark behind the JS00x speed claims in docs/plans/js-ts-go-rules.md.
# Each script prints ns (or us/ms) per op and the ratio the plan quotes; each runs < ~10 s.
# Usage: benchmarks/claims/run_js.sh [script.js ...]   (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/js"
node --version
scripts=("$@")
if [ ${#scripts[@]} -eq 0 ]; then
  scripts=(js*.js rejected_*.js)
fi
for f in "${scripts[@]}"; do
  echo "=== $f"
  nice node "$f"
done
