#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build the app (release WASM)
# and the server, and start the server with the app at http://127.0.0.1:8080 on the
# embedded sled store in ./data.
#
#   MEDVAULT_ADDR=127.0.0.1:9000 MEDVAULT_DATA=/srv/medvault scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"

printf '\033[1;34m==>\033[0m %s\n' "building the app (release WASM)"
trunk build --release
printf '\033[1;34m==>\033[0m %s\n' "building the server (release)"
cargo build --release -p server --bin medvault-server

exec target/release/medvault-server serve \
  --addr "${MEDVAULT_ADDR:-127.0.0.1:8080}" \
  --data "${MEDVAULT_DATA:-./data}" \
  --site "${MEDVAULT_SITE:-./dist}"
