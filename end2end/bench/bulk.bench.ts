// Not a test: N files of 10 KiB (default 1000) chosen at once with "Upload
// files" in Chromium, from the choice until every row says Uploaded, and how
// many API requests that took (issue 19: 256 s before batches, floor 20 s,
// goal 5 s). Prints numbers, asserts nothing about speed. `BULK_FILES` changes
// N, `BULK_SIZE` the size of each file in bytes.
//
// Run: `scripts/bench.sh bulk` (release app and server).
import { test, expect } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { openFolder, openRecords } from '../helpers/records';

const FILES = Number(process.env.BULK_FILES ?? 1000);
const SIZE = Number(process.env.BULK_SIZE ?? 10 * 1024);

test('many small files chosen at once', async ({ browser }, info) => {
  test.setTimeout(3_600_000);
  const page = await (await browser.newContext()).newPage();
  await signUp(page, uniqueName('bulk'), strongPassword('bulk'));
  const dir = info.outputPath('files');
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const p = join(dir, `scan-${String(i).padStart(4, '0')}.txt`);
    const body = Buffer.alloc(SIZE, `scan ${i} `);
    writeFileSync(p, body);
    paths.push(p);
  }
  await openRecords(page);
  await openFolder(page, 'Imaging');
  const counts = new Map<string, number>();
  // Where the time goes: each request's time on the wire and in the server
  // (start of the request to the end of the answer), summed per path.
  const busy = new Map<string, number>();
  page.on('requestfinished', (r) => {
    const path = new URL(r.url()).pathname.replace(/\/api\/records\/chunk\/.*/, '/api/records/chunk/…');
    const t = r.timing();
    if (t.responseEnd > 0) busy.set(path, (busy.get(path) ?? 0) + t.responseEnd);
  });
  let requests = 0;
  let sent = 0;
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/api/')) {
      requests += 1;
      sent += r.postDataBuffer()?.length ?? 0;
      const key = path.replace(/\/api\/records\/chunk\/.*/, '/api/records/chunk/…');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  });
  const start = Date.now();
  await page.getByLabel('Upload files').setInputFiles(paths);
  const rowsShown = Date.now();
  await expect(page.locator('.upload__state--done')).toHaveCount(FILES, { timeout: 3_000_000 });
  const done = Date.now();
  console.log(
    `bulk: ${FILES} files of ${SIZE} bytes: every row Uploaded after ${((done - start) / 1000).toFixed(2)} s ` +
      `(input handed over in ${((rowsShown - start) / 1000).toFixed(2)} s), ` +
      `${requests} API requests, ${(sent / 1e6).toFixed(2)} MB sent`,
  );
  for (const [path, n] of [...counts.entries()].sort((a, b) => b[1] - a[1])) {
    const ms = busy.get(path) ?? 0;
    console.log(`  ${n}\t${path}\t${(ms / 1000).toFixed(2)} s in requests (mean ${(ms / n).toFixed(0)} ms)`);
  }
  // Every file is in the folder once the list catches up (a folder shows its
  // first 200 rows, the rest behind "Show all").
  const showAll = page.getByRole('button', { name: /^Show all \d+/ });
  await expect(async () => {
    if (await showAll.isVisible()) await showAll.click();
    await expect(page.getByRole('group', { name: /^Actions for scan-/ })).toHaveCount(FILES, { timeout: 5_000 });
  }).toPass({ timeout: 600_000 });
  await expect(page.getByRole('group', { name: /^Actions for scan-/ })).toHaveCount(FILES, {
    timeout: 600_000,
  });
  console.log(`bulk: the folder listed all ${FILES} after ${((Date.now() - start) / 1000).toFixed(2)} s`);
});
