#!/usr/bin/env bash
# Prints the size of the release WASM as shipped: raw, gzip -9 and brotli -q 11.
# Target for the finished app: at most 400 KB brotli. Build first (trunk build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
wasm=$(ls dist/*.wasm 2>/dev/null | head -n 1 || true)
js=$(ls dist/*.js 2>/dev/null | head -n 1 || true)
if [ -z "$wasm" ]; then
  echo "no dist/*.wasm: run 'trunk build --release' first" >&2
  exit 1
fi
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1000 }'; }
brotli_size() {
  if command -v brotli >/dev/null 2>&1; then
    brotli -c -q 11 "$1" | wc -c
  else
    node -e 'const z=require("zlib"),f=require("fs");const b=z.brotliCompressSync(f.readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}});console.log(b.length)' "$1"
  fi
}
for f in "$wasm" $js; do
  raw=$(wc -c <"$f")
  gz=$(gzip -c -9 "$f" | wc -c)
  br=$(brotli_size "$f")
  printf '%-40s raw %10s   gzip %10s   brotli %10s\n' "$(basename "$f")" "$(kb "$raw")" "$(kb "$gz")" "$(kb "$br")"
done
# What the server sends to a browser that accepts brotli: the copy the build's
# post_build hook wrote (scripts/compress-dist.mjs).
for f in "$wasm" $js; do
  if [ -f "$f.br" ]; then
    printf '%-40s served as %s: %s brotli\n' "$(basename "$f")" "$(basename "$f").br" "$(kb "$(wc -c <"$f.br")")"
  else
    echo "$(basename "$f"): no precompressed copy in dist/ (served uncompressed)" >&2
  fi
done
# Not part of a first visit: fetched when a new password is first typed
# (shared::account::COMMON_PASSWORDS_PATH).
if [ -f dist/common-passwords.txt ]; then
  list=dist/common-passwords.txt
  printf '%-40s raw %10s   brotli %10s   (fetched lazily, not in the WASM)\n' \
    common-passwords.txt "$(kb "$(wc -c <"$list")")" "$(kb "$(brotli_size "$list")")"
fi
br=$(brotli_size "$wasm")
if [ "$br" -gt 400000 ]; then
  echo "WASM is over the 400 KB brotli budget" >&2
fi
