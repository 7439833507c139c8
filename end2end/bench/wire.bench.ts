// Bytes on the wire for a first visit, in Chromium: a fresh browser context (no
// cache) opens the start page, and every response's transferred size (headers
// and body as they came over the connection, CDP Network.loadingFinished
// encodedDataLength) is summed once the app has rendered and the network is
// quiet. Printed next to the brotli size of the WASM alone, the floor of the
// issue's table. Prints numbers; asserts nothing about size.
import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';

const dist = process.env.MEDVAULT_SITE ?? resolve(__dirname, '..', '..', 'dist');

function wasmBrotliSize(): { name: string; raw: number; brotli: number } {
  const name = readdirSync(dist).find((f) => f.endsWith('_bg.wasm'));
  if (!name) throw new Error(`no *_bg.wasm in ${dist}: run 'trunk build --release' first`);
  const raw = statSync(join(dist, name)).size;
  let brotli: number;
  try {
    brotli = statSync(join(dist, `${name}.br`)).size;
  } catch {
    brotli = brotliCompressSync(readFileSync(join(dist, name)), {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
    }).length;
  }
  return { name, raw, brotli };
}

test('bytes on the wire for a first visit', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const urls = new Map<string, string>();
  const encodings = new Map<string, string>();
  const sizes = new Map<string, number>();
  cdp.on('Network.responseReceived', (e) => {
    urls.set(e.requestId, e.response.url);
    const h = e.response.headers as Record<string, string>;
    encodings.set(e.requestId, h['content-encoding'] ?? h['Content-Encoding'] ?? 'identity');
  });
  cdp.on('Network.loadingFinished', (e) => sizes.set(e.requestId, e.encodedDataLength));

  await page.goto('/', { waitUntil: 'networkidle' });
  await expect(page.getByRole('main')).toBeVisible();
  await page.waitForLoadState('networkidle');

  let total = 0;
  const rows: string[] = [];
  for (const [id, bytes] of sizes) {
    total += bytes;
    const url = new URL(urls.get(id) ?? 'about:unknown');
    rows.push(`  ${String(bytes).padStart(9)} B  ${(encodings.get(id) ?? '?').padEnd(8)} ${url.pathname}`);
  }
  const wasm = wasmBrotliSize();
  const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
  console.log(`first visit, fresh context: ${sizes.size} responses\n${rows.join('\n')}`);
  console.log(
    `bytes on the wire for a first visit: ${kb(total)}; the WASM alone: ${kb(wasm.brotli)} brotli ` +
      `(${kb(wasm.raw)} raw, ${wasm.name}); wire / WASM brotli = ${(total / wasm.brotli).toFixed(2)}`,
  );
  await context.close();
});
