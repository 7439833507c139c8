#!/usr/bin/env bash
# kill -9 soak of the store: many crash cycles against one data directory, in
# release mode, and the number of acknowledged writes lost (the target is 0).
#
#   scripts/crash-soak.sh                      1000 cycles
#   MEDVAULT_CRASH_CYCLES=50 scripts/crash-soak.sh
#   MEDVAULT_CRASH_SEED=123 scripts/crash-soak.sh    replay a run's kill times
#
# The full log is kept in the target directory, as crash-soak.log.
set -euo pipefail
cd "$(dirname "$0")/.."

cycles="${MEDVAULT_CRASH_CYCLES:-1000}"
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir"
log="$target_dir/crash-soak.log"

started=$(date +%s)
status=0
MEDVAULT_CRASH_CYCLES="$cycles" \
    cargo test -p server --release --test crash -- --nocapture 2>&1 \
    | tee "$log" || status=$?
elapsed=$(($(date +%s) - started))

summary=$(grep -E '^crash test: [0-9]+ cycles' "$log" | tail -n 1 || true)
lost=$(sed -nE 's/.* ([0-9]+) lost.*/\1/p' <<<"$summary")
echo "crash soak: ${summary:-no summary line (did the build or the test setup fail?)}"
echo "crash soak: lost ${lost:-unknown} acknowledged writes; ${elapsed} s; exit status ${status}"
exit "$status"
