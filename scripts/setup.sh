#!/usr/bin/env bash
# Installs whatever is missing to build (and, with --test, to test) medvault, and
# skips what is already there, so a second run is quick. Every tool comes from
# crates.io, npm or Debian's apt: nothing is downloaded from anywhere else.
#
#   scripts/setup.sh          build tools: wasm32 target, Trunk, wasm-bindgen, wasm-opt
#   scripts/setup.sh --test   also Chromium + ChromeDriver, PostgreSQL and nginx
#                             (Debian) and Playwright (npm)
#   scripts/setup.sh --bench  --test's tools, and wrk (Debian) for the benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132
# The wasm-bindgen CLI must equal the library in Cargo.lock to the last digit.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)

want_test=false
want_bench=false
[ "${1:-}" = "--test" ] && want_test=true
if [ "${1:-}" = "--bench" ]; then
  want_test=true
  want_bench=true
fi

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "installing Trunk $TRUNK_VERSION (about 10 minutes, once)"
  # 0.22 needs a newer rustc than this machine's; --locked keeps its dependencies as tested.
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes, once)"
  # Not --locked: its lock file pins a crate the index no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  say "installing wasm-opt (binaryen $BINARYEN_VERSION from npm)"
  (cd tools && npm ci --no-audit --no-fund)
fi

if $want_test; then
  # Chromium drives the browser tests; openssl and curl make and check a TLS
  # certificate in the server's tests; unzip checks the record export.
  # PostgreSQL: the store's second backend runs the same tests on a
  # throwaway cluster (scripts/pg-test-cluster.sh); nginx fronts two servers in
  # end2end/tests/scale-out.spec.ts. Neither is set up system-wide.
  # aiosmtpd (Debian's, run as /usr/bin/python3 -m aiosmtpd) is the SMTP sink
  # of the notification e-mail test (server/tests/sharing/notices.rs).
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] \
    || ! command -v openssl >/dev/null || ! command -v curl >/dev/null \
    || ! command -v unzip >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    || [ ! -x /usr/sbin/nginx ] || ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
    say "installing Chromium, ChromeDriver, openssl, curl, unzip, PostgreSQL, nginx and aiosmtpd from Debian"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y chromium chromium-driver openssl curl unzip \
      postgresql nginx python3-aiosmtpd
  fi
  # npm writes node_modules/.package-lock.json last, so it is newer than the
  # lock file exactly when the install matches it.
  if [ ! -x end2end/node_modules/.bin/playwright ] \
    || [ ! end2end/node_modules/.package-lock.json -nt end2end/package-lock.json ]; then
    say "installing Playwright (npm; it uses Debian's Chromium, never its own download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi

if $want_bench; then
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] || ! command -v wrk >/dev/null; then
    say "installing nginx and wrk from Debian (benchmarks only)"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y nginx wrk
  fi
fi

say "tools ready: $(trunk --version), $(wasm-bindgen --version), wasm-opt $BINARYEN_VERSION"
