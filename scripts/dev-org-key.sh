#!/usr/bin/env bash
# Prints the fingerprint of the development org key, making the key first if it
# is not there yet. For scripts/run.sh and scripts/test.sh on a developer's
# machine only: a real installation's operator makes the org key offline and
# keeps it off the server (docs/OPERATIONS.md).
#
#   scripts/dev-org-key.sh SERVER_BINARY [KEY_FILE]
#
# KEY_FILE defaults to $MEDVAULT_ORG_KEY_FILE, else .medvault/org.key (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: scripts/dev-org-key.sh SERVER_BINARY [KEY_FILE]}
key=${2:-${MEDVAULT_ORG_KEY_FILE:-.medvault/org.key}}
if [ ! -f "$key" ]; then
  mkdir -p "$(dirname "$key")"
  chmod 700 "$(dirname "$key")" 2>/dev/null || true
  "$bin" org-key init --out "$key" >&2
  echo "made a development org key in $key (for this machine only)" >&2
fi
"$bin" org-key fingerprint --key "$key"
