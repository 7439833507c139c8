#!/usr/bin/env bash
# Benchmarks of the crypto core: native (criterion, release) and in headless
# Chromium (wasm-bindgen-test timing runs, release). Prints numbers; never fails on
# a slow machine. The README's "Measurements" section quotes a run of this script.
#
#   scripts/bench.sh            everything (about 15 minutes on 2 cores)
#   scripts/bench.sh native     criterion only
#   scripts/bench.sh browser    Chromium only
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
