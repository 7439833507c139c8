#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build the server and the app
# (release WASM, with the fingerprint of the org key in .medvault/org.key, made
# here if missing), and start the server with the app at http://127.0.0.1:8080 on
# the embedded sled store in ./data. A real installation makes its org key offline
# and builds with MEDVAULT_ORG_FINGERPRINT set (docs/OPERATIONS.md); when that
# variable is set, no key is made here.
#
#   MEDVAULT_ADDR=127.0.0.1:9000 MEDVAULT_DATA=/srv/medvault scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"

printf '\033[1;34m==>\033[0m %s\n' "building the server (release)"
cargo build --release -p server --bin medvault-server
if [ -z "${MEDVAULT_ORG_FINGERPRINT:-}" ]; then
  MEDVAULT_ORG_FINGERPRINT=$(scripts/dev-org-key.sh target/release/medvault-server)
  export MEDVAULT_ORG_FINGERPRINT
fi
printf '\033[1;34m==>\033[0m %s\n' "building the app (release WASM, org key fingerprint $MEDVAULT_ORG_FINGERPRINT)"
trunk build --release

exec target/release/medvault-server serve \
  --addr "${MEDVAULT_ADDR:-127.0.0.1:8080}" \
  --data "${MEDVAULT_DATA:-./data}" \
  --site "${MEDVAULT_SITE:-./dist}"
