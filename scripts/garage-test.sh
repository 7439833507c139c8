#!/usr/bin/env bash
# The chunk store's S3 backend against a real S3 server: Garage, the Rust
# S3-compatible store, on loopback in a temporary directory. Not part of
# scripts/test.sh: building Garage takes longer than CI allows on a fresh
# machine, so CI tests the local-filesystem backend and this script tests S3.
#
#   scripts/garage-test.sh         install Garage if missing (cargo, pinned), run
#                                  the blob conformance suite and every server test
#                                  on PostgreSQL with chunks in a Garage bucket
#   GARAGE_ONLY_BLOBS=1 scripts/garage-test.sh    the blob conformance suite only
set -euo pipefail
cd "$(dirname "$0")/.."
GARAGE_VERSION=2.5.0
export PATH="$HOME/.cargo/bin:$PATH"

# A cargo-built Garage says "garage cargo:2.5.0 [...]", a release "garage v2.5.0".
if ! garage --version 2>/dev/null | grep -qE "^garage (v|cargo:)$GARAGE_VERSION( |$)"; then
  echo "==> installing Garage $GARAGE_VERSION from crates.io (about 30 minutes, once)"
  cargo install garage --version "$GARAGE_VERSION" --locked
fi
scripts/setup.sh --test >/dev/null

dir=$(mktemp -d /tmp/medvault-garage-XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
s3_port=$(free_port)
rpc_port=$(free_port)
admin_port=$(free_port)
cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$(openssl rand -hex 32)"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin_port"
EOF
garage -c "$dir/garage.toml" server >"$dir/garage.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
g() { garage -c "$dir/garage.toml" "$@"; }

for _ in $(seq 1 100); do
  g status >/dev/null 2>&1 && break
  sleep 0.2
done
node=$(g node id -q 2>/dev/null | cut -d@ -f1)
g layout assign -z dc1 -c 1G "$node" >/dev/null
g layout apply --version 1 >/dev/null
g bucket create medvault-test >/dev/null
key=$(g key create medvault-test-key)
g bucket allow --read --write --owner medvault-test --key medvault-test-key >/dev/null

export AWS_ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY
AWS_ACCESS_KEY_ID=$(echo "$key" | awk '/Key ID:/ {print $3}')
AWS_SECRET_ACCESS_KEY=$(echo "$key" | awk '/Secret key:/ {print $3}')
export AWS_ENDPOINT="http://127.0.0.1:$s3_port"
export AWS_REGION=garage
export AWS_ALLOW_HTTP=true
export MEDVAULT_TEST_S3_BUCKET=medvault-test

# Both parts run even if the first fails, and the script fails if either did.
failed=0
echo "==> blob conformance suite against Garage"
cargo test --locked -p server --lib store::blobs -- --include-ignored --nocapture || failed=1
if [ -z "${GARAGE_ONLY_BLOBS:-}" ]; then
  echo "==> every server test on PostgreSQL with chunks in Garage"
  MEDVAULT_TEST_STORE=postgres MEDVAULT_TEST_BLOBS="s3://medvault-test" \
    cargo test --locked -p server --tests || failed=1
fi
if [ "$failed" = 0 ]; then echo "==> Garage: all passed"; else echo "==> Garage: FAILED"; fi
exit "$failed"
