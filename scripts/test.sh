#!/usr/bin/env bash
# Command 2 of the README: install what is missing, then run every check: format,
# lints (native and wasm32), Rust tests, browser tests of WASM code in headless
# Chromium, the release build, and the Playwright suite. Every step runs even if an
# earlier one failed; the summary at the end says which failed, and the exit code
# is non-zero if any did.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! scripts/setup.sh --test; then
  echo "setup failed: the tools above could not be installed" >&2
  exit 1
fi
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-always}"
# wasm-bindgen-test runs the wasm32 test binaries in Debian's headless Chromium.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT=120
# Disk: with line tables and incremental caches this script's builds filled 17 GB,
# more than a CI machine had free. A one-shot run needs neither (assertion
# messages still carry file and line); a caller's own settings win.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-false}"

passed=()
failed=()
step() {
  local name=$1
  shift
  printf '\n\033[1;34m==> %s\033[0m\n' "$name"
  local started=$SECONDS
  if "$@"; then
    passed+=("$name ($((SECONDS - started))s)")
  else
    failed+=("$name ($((SECONDS - started))s)")
  fi
}

# Quick layout rules (docs/ARCHITECTURE.md): file and component sizes, no
# crypto or protocol step in the app's pages.
step "layout (scripts/check-layout.sh)" scripts/check-layout.sh
step "cargo fmt --check" cargo fmt --all -- --check
step "clippy (native: medvault-crypto, shared, server)" cargo clippy --all-targets --locked -- -D warnings
step "clippy (wasm32: app, shared, medvault-crypto)" \
  cargo clippy -p app -p shared -p medvault-crypto --lib --bins --tests --target wasm32-unknown-unknown --locked -- -D warnings
step "Rust tests (native)" cargo test --locked
# The server's integration tests again, every test server on PostgreSQL (a
# throwaway cluster the tests start) instead of sled. The same packages as the
# step above so that cargo resolves the same features and reuses its test
# binaries (`-p server` alone would build all of them a second time); the few
# seconds of crypto and shared tests run again.
step "server tests on PostgreSQL" env MEDVAULT_TEST_STORE=postgres cargo test --locked --tests
step "browser tests of WASM code (wasm-bindgen-test in Chromium)" \
  cargo test -p app -p shared -p medvault-crypto --target wasm32-unknown-unknown --locked
# The end-to-end suite moves the server's clock (--test-clock-file), which only
# the test-clock feature compiles in; release and plain builds lack the flag.
step "server build for end-to-end tests" cargo build --locked -p server --bins --features test-clock
# records-biglist.spec.ts fills a record through this native generator; built
# here, with the same feature, so the suite never waits for a compile.
step "record generator for end-to-end tests" \
  cargo test --locked -p server --features test-clock --bench biglist_seed --no-run
# The app is built with the fingerprint of a development org key (made in
# .medvault/org.key if missing); Playwright certifies its admins with that key.
org_key() {
  MEDVAULT_ORG_KEY_FILE=${MEDVAULT_ORG_KEY_FILE:-$PWD/.medvault/org.key}
  export MEDVAULT_ORG_KEY_FILE
  MEDVAULT_ORG_FINGERPRINT=$(scripts/dev-org-key.sh target/debug/medvault-server "$MEDVAULT_ORG_KEY_FILE") &&
    export MEDVAULT_ORG_FINGERPRINT
}
step "development org key (.medvault/org.key)" org_key
step "app release build (trunk)" trunk build --release
step "Playwright end-to-end (headless Chromium)" bash -c 'cd end2end && npx playwright test'
step "WASM size report" scripts/wasm-size.sh

printf '\n\033[1m==> summary\033[0m\n'
for s in "${passed[@]}"; do printf '  \033[32mPASS\033[0m  %s\n' "$s"; done
for s in "${failed[@]+"${failed[@]}"}"; do printf '  \033[31mFAIL\033[0m  %s\n' "$s"; done
echo "checks: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
