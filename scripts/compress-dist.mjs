// Trunk post_build hook (Trunk.toml): writes a brotli (`.br`, quality 11) and a
// gzip (`.gz`, level 9) copy next to every text or WASM file of the built app, so
// the server sends compressed bytes without compressing anything per request
// (server/src/web.rs picks the copy from the browser's Accept-Encoding).
//
// Works on $TRUNK_STAGING_DIR (Trunk sets it; index.html is already written there)
// or on the directory given as the first argument. Release builds only: a debug
// WASM is tens of megabytes and quality 11 would take minutes, so a debug build
// is served uncompressed. A copy that would not be smaller is not written.
import { brotliCompressSync, gzipSync, constants } from "node:zlib";
import { readdirSync, readFileSync, writeFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error("compress-dist: no directory (run as a Trunk hook, or pass one)");
  process.exit(1);
}
if (!process.argv[2] && process.env.TRUNK_PROFILE !== "release") {
  console.log("compress-dist: debug build, assets stay uncompressed");
  process.exit(0);
}

const COMPRESSIBLE = /\.(wasm|js|mjs|css|html|svg|txt|json|map|webmanifest)$/;

function* files(d) {
  for (const entry of readdirSync(d, { withFileTypes: true })) {
    const path = join(d, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile() && COMPRESSIBLE.test(entry.name)) yield path;
  }
}

function put(path, bytes, original) {
  if (bytes.length < original.length) {
    writeFileSync(path, bytes);
  } else {
    try {
      unlinkSync(path);
    } catch {
      // Nothing there: nothing stale to remove.
    }
  }
}

let raw = 0;
let br = 0;
for (const path of files(dir)) {
  const data = readFileSync(path);
  const brotli = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  const gzip = gzipSync(data, { level: 9 });
  put(`${path}.br`, brotli, data);
  put(`${path}.gz`, gzip, data);
  raw += data.length;
  br += Math.min(brotli.length, data.length);
}
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
console.log(`compress-dist: ${dir}: ${kb(raw)} of assets, ${kb(br)} brotli`);
