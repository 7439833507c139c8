#!/usr/bin/env bash
# The mixed soak (issue 23): simulated patients and doctors sign in, upload,
# download, share and revoke against the release server while it is killed
# with SIGKILL at random moments and restarted; at the end every acknowledged
# upload must download byte for byte, every acknowledged revocation must hold
# and the audit chain must verify. The test is server/tests/soak.rs (CI runs
# it for 20 s in debug as part of `cargo test`).
#
#   scripts/soak.sh              30 minutes
#   scripts/soak.sh 5            5 minutes
#   MEDVAULT_SOAK_PATIENTS=20 MEDVAULT_SOAK_DOCTORS=5 MEDVAULT_SOAK_KILL_EVERY=60 scripts/soak.sh
#   MEDVAULT_SOAK_SEED=123 scripts/soak.sh    replay a run's choices
#
# The full log is kept in the target directory, as soak.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

minutes="${1:-30}"
case "$minutes" in
  '' | *[!0-9]*) echo "minutes must be a whole number, not '$minutes'" >&2; exit 2 ;;
esac
export MEDVAULT_SOAK_SECONDS=$((minutes * 60))
export MEDVAULT_SOAK_PATIENTS="${MEDVAULT_SOAK_PATIENTS:-20}"
export MEDVAULT_SOAK_DOCTORS="${MEDVAULT_SOAK_DOCTORS:-5}"
export MEDVAULT_SOAK_KILL_EVERY="${MEDVAULT_SOAK_KILL_EVERY:-30}"
export MEDVAULT_SOAK_PAUSE_MS="${MEDVAULT_SOAK_PAUSE_MS:-1500}"

target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir"
log="$target_dir/soak.log"

# Built first, so the build's time is not the soak's.
cargo test --locked -p server --release --test soak --no-run
status=0
RUST_BACKTRACE=0 cargo test --locked -p server --release --test soak -- --nocapture \
  2>&1 | tee "$log" || status=$?

summary=$(grep -E '^soak: [0-9]+ s, [0-9]+ kills' "$log" | tail -n 1 || true)
echo "soak: ${summary:-no summary line (did the build or the setup fail?)}"
echo "soak: exit status ${status}; full log in ${log}"
exit "$status"
