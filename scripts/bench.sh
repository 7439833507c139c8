#!/usr/bin/env bash
# Benchmarks of the crypto core: native (criterion, release) and in headless
# Chromium (wasm-bindgen-test timing runs, release). Prints numbers; never fails on
# a slow machine. docs/BENCHMARKS.md quotes runs of this script, each with its date.
#
#   scripts/bench.sh            everything (about 15 minutes on 2 cores)
#   scripts/bench.sh native     criterion only
#   scripts/bench.sh browser    Chromium only
#   scripts/bench.sh signin     server sign-ins per second (load generator) and
#                               the app's sign-in time in Chromium (Playwright)
#   scripts/bench.sh transfer   a 256 MiB upload and download through the app in
#                               Chromium against a plain transfer of the same bytes
#                               with as many requests in flight (TRANSFER_MIB=n):
#                               both rates and their ratio
#   scripts/bench.sh revocation removing a doctor from a folder of 1000 files in
#                               Chromium: time and requests (REVOKE_FILES=n)
#   scripts/bench.sh biglist    opening a record of 10,000 files in Chromium: from
#                               the click on Records to the first rows and to the
#                               whole list (300 files at the top), then the folder
#                               of the other 9,700, and coming back to Records,
#                               with where the time went (BIGLIST_ITEMS, RUNS)
#   scripts/bench.sh bulk       1000 files of 10 KiB chosen at once in Chromium,
#                               until every row says Uploaded: time and
#                               requests (BULK_FILES=n)
#   scripts/bench.sh chunks     record content on the server: chunk GETs and
#                               durable PUTs per second, RSS during a 1 GiB
#                               upload, store size over stored bytes
#   scripts/bench.sh chunkget   GETs of a stored 100 KiB chunk from 32 connections
#                               (wrk), against nginx serving the same bytes in the
#                               same run: requests/s, p99 and the ratio
#   scripts/bench.sh overload   2000 connections fetching 100 KiB chunks and 200
#                               uploading 1 MiB chunks at once against the release
#                               server: answers, 503s, p99 and the server's RSS
#                               during and a minute after (OVERLOAD_SECONDS,
#                               OVERLOAD_AFTER_SECONDS, OVERLOAD_GET_CONNS,
#                               OVERLOAD_PUT_CONNS)
#   scripts/bench.sh scale      sign-ins and chunk GETs per second on sled, on
#                               PostgreSQL with one server and with two, with the
#                               servers' and PostgreSQL's CPU per request
#                               (SCALE_SECONDS, SCALE_CLIENTS, SCALE_CONNS)
#   scripts/bench.sh size       the release WASM (trunk build --release): raw, gzip
#                               and brotli sizes against the 400 KB budget, and the
#                               common-password list fetched lazily beside it
#   scripts/bench.sh wire       bytes on the wire for a first visit in Chromium
#                               (fresh context, release app and server) next to
#                               the WASM's brotli size
set -euo pipefail
cd "$(dirname "$0")/.."

which="${1:-all}"
if [[ $which == all || $which == chunkget ]]; then
  scripts/setup.sh --bench
else
  scripts/setup.sh --test
fi
export PATH="$HOME/.cargo/bin:/usr/sbin:$PATH"

if [[ $which == all || $which == native ]]; then
  echo "==> native (criterion, release)"
  cargo bench --locked -p medvault-crypto --bench hpke --bench opaque --bench stream
  cargo bench --locked -p shared --bench keyring
fi

if [[ $which == all || $which == browser ]]; then
  echo "==> headless Chromium (wasm32, release)"
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
  export CHROMEDRIVER=/usr/bin/chromedriver
  export WASM_BINDGEN_TEST_TIMEOUT=900
  cargo test --locked -p medvault-crypto --release --target wasm32-unknown-unknown \
    --test browser_opaque_bench --test browser_stream_bench \
    -- --include-ignored --nocapture
  cargo test --locked -p shared --release --target wasm32-unknown-unknown \
    --test browser_audit_bench -- --include-ignored --nocapture
fi

if [[ $which == all || $which == chunks ]]; then
  echo "==> server: record chunks (release server, load generator)"
  cargo build --locked --release -p server --bin medvault-server
  MEDVAULT_SERVER_BIN="$PWD/target/release/medvault-server" \
    cargo bench --locked -p server --bench chunk_load
fi

if [[ $which == all || $which == overload ]]; then
  echo "==> server: overload (release server, load generator)"
  # 2200 sockets on each side, beside the store's files.
  ulimit -n 8192 2>/dev/null || echo "ulimit -n stays $(ulimit -n): connections beyond it fail"
  cargo build --locked --release -p server --bin medvault-server
  echo "load before: $(uptime)"
  MEDVAULT_SERVER_BIN="$PWD/target/release/medvault-server" \
    cargo bench --locked -p server --bench overload
  echo "load after: $(uptime)"
fi

if [[ $which == all || $which == chunkget ]]; then
  echo "==> server: chunk GETs against nginx (release server, wrk, nginx)"
  cargo build --locked --release -p server --bin medvault-server
  echo "load before: $(uptime)"
  MEDVAULT_SERVER_BIN="$PWD/target/release/medvault-server" \
    cargo bench --locked -p server --bench chunk_get
  echo "load after: $(uptime)"
fi

if [[ $which == all || $which == scale ]]; then
  echo "==> server: sled against PostgreSQL with one and two servers (release server)"
  cargo build --locked --release -p server --bin medvault-server
  echo "load before: $(uptime)"
  MEDVAULT_SERVER_BIN="$PWD/target/release/medvault-server" \
    cargo bench --locked -p server --bench scale_load
  echo "load after: $(uptime)"
fi

if [[ $which == all || $which == signin ]]; then
  echo "==> server: OPAQUE sign-ins per second (release server, load generator)"
  cargo build --locked --release -p server --bin medvault-server
  echo "load before: $(uptime)"
  MEDVAULT_SERVER_BIN="$PWD/target/release/medvault-server" \
    cargo bench --locked -p server --bench signin_load
  echo "load after: $(uptime)"
  echo "==> browser: click on Sign in to the signed-in page (release app, Chromium)"
  export PATH="$PWD/tools/node_modules/.bin:$PATH"
  trunk build --release
  cargo build --locked --release -p server --bin medvault-server
  (cd end2end && MEDVAULT_SERVER_BIN="$PWD/../target/release/medvault-server" \
    npx playwright test --config playwright.bench.config.ts signin)
fi

if [[ $which == all || $which == transfer ]]; then
  echo "==> browser: 256 MiB upload and download, encrypted against plain (release app and server)"
  export PATH="$PWD/tools/node_modules/.bin:$PATH"
  trunk build --release
  cargo build --locked --release -p server --bin medvault-server
  (cd end2end && MEDVAULT_SERVER_BIN="$PWD/../target/release/medvault-server" \
    npx playwright test --config playwright.bench.config.ts bench/transfer.bench.ts)
fi

if [[ $which == all || $which == bulk ]]; then
  echo "==> browser: ${BULK_FILES:-1000} files of 10 KiB chosen at once (release app and server)"
  export PATH="$PWD/tools/node_modules/.bin:$PATH"
  trunk build --release
  cargo build --locked --release -p server --bin medvault-server
  (cd end2end && MEDVAULT_SERVER_BIN="$PWD/../target/release/medvault-server" \
    MEDVAULT_E2E_MAX_BODY=1048576 \
    npx playwright test --config playwright.bench.config.ts bulk.bench)
fi

if [[ $which == all || $which == revocation ]]; then
  echo "==> browser: removing a doctor from a folder of ${REVOKE_FILES:-1000} files (release app and server)"
  export PATH="$PWD/tools/node_modules/.bin:$PATH"
  trunk build --release
  cargo build --locked --release -p server --bin medvault-server
  (cd end2end && MEDVAULT_SERVER_BIN="$PWD/../target/release/medvault-server" \
    npx playwright test --config playwright.bench.config.ts revocation)
fi

if [[ $which == all || $which == biglist ]]; then
  echo "==> browser: opening a record of ${BIGLIST_ITEMS:-10000} files (release app and server)"
  export PATH="$PWD/tools/node_modules/.bin:$PATH"
  trunk build --release
  cargo build --locked --release -p server --bin medvault-server
  # The generator the Playwright script runs (server/benches/biglist_seed.rs,
  # a debug build: the server does the work; with the test suite's feature, so
  # the debug server binary the suite runs stays as scripts/test.sh built it).
  cargo test --locked -p server --features test-clock --bench biglist_seed --no-run
  (cd end2end && MEDVAULT_SERVER_BIN="$PWD/../target/release/medvault-server" \
    npx playwright test --config playwright.bench.config.ts bench/biglist)
fi

if [[ $which == all || $which == size ]]; then
  echo "==> release WASM size (trunk build --release)"
  export PATH="$PWD/tools/node_modules/.bin:$PATH"
  trunk build --release
  scripts/wasm-size.sh
fi

if [[ $which == all || $which == wire ]]; then
  echo "==> browser: bytes on the wire for a first visit (release app and server)"
  export PATH="$PWD/tools/node_modules/.bin:$PATH"
  trunk build --release
  cargo build --locked --release -p server --bin medvault-server
  (cd end2end && MEDVAULT_SERVER_BIN="$PWD/../target/release/medvault-server" \
    npx playwright test --config playwright.bench.config.ts wire)
fi
