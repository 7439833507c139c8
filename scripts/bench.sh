#!/usr/bin/env bash
# Benchmarks of the crypto core: native (criterion, release) and in headless
# Chromium (wasm-bindgen-test timing runs, release). Prints numbers; never fails on
# a slow machine. The README's "Measurements" section quotes a run of this script.
#
#   scripts/bench.sh            everything (about 15 minutes on 2 cores)
#   scripts/bench.sh native     criterion only
#   scripts/bench.sh browser    Chromium only
#   scripts/bench.sh signin     server sign-ins per second (load generator) and
#                               the app's sign-in time in Chromium (Playwright)
#   scripts/bench.sh records    server chunk uploads and downloads per second,
#                               memory during a 1 GiB upload, store size
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test
export PATH="$HOME/.cargo/bin:$PATH"
which="${1:-all}"

if [[ $which == all || $which == native ]]; then
  echo "==> native (criterion, release)"
  cargo bench --locked -p shared --bench keyring --bench hpke --bench opaque --bench stream
fi

if [[ $which == all || $which == browser ]]; then
  echo "==> headless Chromium (wasm32, release)"
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
  export CHROMEDRIVER=/usr/bin/chromedriver
  export WASM_BINDGEN_TEST_TIMEOUT=900
  cargo test --locked -p shared --release --target wasm32-unknown-unknown \
    --test browser_opaque_bench --test browser_stream_bench \
    -- --include-ignored --nocapture
fi

if [[ $which == all || $which == signin ]]; then
  echo "==> server: OPAQUE sign-ins per second (release server, load generator)"
  cargo build --locked --release -p server --bin medvault-server
  MEDVAULT_SERVER_BIN="$PWD/target/release/medvault-server" \
    cargo bench --locked -p server --bench signin_load
  echo "==> browser: click on Sign in to the signed-in page (release app, Chromium)"
  export PATH="$PWD/tools/node_modules/.bin:$PATH"
  trunk build --release
  cargo build --locked -p server --bin medvault-server
  (cd end2end && MEDVAULT_SERVER_BIN="$PWD/../target/release/medvault-server" \
    npx playwright test --config playwright.bench.config.ts)
fi

if [[ $which == all || $which == records ]]; then
  echo "==> server: record chunks (release server, load generator)"
  cargo build --locked --release -p server --bin medvault-server
  MEDVAULT_SERVER_BIN="$PWD/target/release/medvault-server" \
    cargo bench --locked -p server --bench records_load
fi
