// Not a test: upload and download of a 256 MiB file through the real app in
// Chromium over loopback, against a plain transfer of the same number of bytes
// to the same server in the same run (issue 19: encrypted at least 100 MB/s up
// and 150 MB/s down, and at least 0.8 of plain both ways). Prints numbers,
// asserts nothing about speed. `TRANSFER_MIB` changes the size.
//
// Run: `scripts/bench.sh transfer` (release app and server).
//
// Plain upload: the page starts an upload with random stand-ins for the wrapped
// key and metadata (the server cannot tell), then PUTs 1 MiB + 16 byte chunks
// from memory with as many requests in flight as the app (`UP_IN_FLIGHT`, the
// app's `upload::IN_FLIGHT`), without reading a file or encrypting. Plain
// download: the page GETs the encrypted file's chunks with as many requests in
// flight as the app (`DOWN_IN_FLIGHT`, the app's `download::PREFETCH`), without
// checking or decrypting.
import { test, expect } from '@playwright/test';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { actions, openRecords, sha256File, writeRandomFile } from '../helpers/records';

const MIB = Number(process.env.TRANSFER_MIB ?? 256);
// Requests in flight, as in the app (app/src/tasks/upload.rs, download.rs).
const UP_IN_FLIGHT = 4;
const DOWN_IN_FLIGHT = 3;

test('encrypted transfer against plain transfer', async ({ page }, info) => {
  test.setTimeout(1_800_000);
  await signUp(page, uniqueName('bench'), strongPassword('bench'));
  await openRecords(page);
  const name = 'transfer-bench.bin';
  const path = info.outputPath(name);
  writeRandomFile(path, MIB * 1024 * 1024);
  const mb = (MIB * 1024 * 1024) / 1e6;

  // Encrypted upload: from choosing the file to "Uploaded".
  let t = Date.now();
  await page.getByLabel('Upload files').setInputFiles(path);
  const row = page.getByRole('region', { name: 'Uploads' }).getByRole('listitem').filter({ hasText: name });
  await expect(row.getByText('Uploaded', { exact: true })).toBeVisible({ timeout: 1_500_000 });
  const encUp = (Date.now() - t) / 1000;

  const plainUp =
    (await page.evaluate(async ([mib, inFlight]) => {
      const b64 = (u: Uint8Array) =>
        btoa(String.fromCharCode(...u)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const random = (n: number) => {
        const a = new Uint8Array(n);
        for (let o = 0; o < n; o += 65536) crypto.getRandomValues(a.subarray(o, Math.min(n, o + 65536)));
        return a;
      };
      const json = { 'content-type': 'application/json', 'x-medvault-request': '1' };
      const tree = await (await fetch('/api/records/tree', { headers: { 'x-medvault-request': '1' } })).json();
      const size = 1 << 20;
      const node = b64(random(16));
      const start = await fetch('/api/records/upload/start', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          request: {
            node_id: node,
            new_node: {
              node_id: node,
              parent_id: tree.root_id,
              kind: 'file',
              wrapped_key: b64(random(61)),
              metadata: b64(random(256 + 29)),
            },
            chunk_size: size,
            ciphertext_len: mib * (size + 16),
          },
        }),
      });
      if (!start.ok) throw new Error(await start.text());
      const ticket = await start.json();
      // One Blob sent again and again: a new Blob per request piles up in
      // Chromium's blob storage until a garbage collection, and past a few
      // hundred MB its requests fail ("Failed to fetch").
      const body = new Blob([random(size + 16)]);
      const began = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < mib) {
          const i = next++;
          const r = await fetch(`/api/records/chunk/${node}/${ticket.version}/${i}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/octet-stream', 'x-medvault-request': '1' },
            // A Blob, as the app sends: Chromium uploads an ArrayBuffer body
            // about ten times slower (measured: 14.7 against 135 MB/s).
            body,
          });
          if (!r.ok) throw new Error(await r.text());
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      const ms = performance.now() - began;
      await fetch('/api/records/upload/cancel', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ request: { node_id: node, version: ticket.version } }),
      });
      return ms;
    }, [MIB, UP_IN_FLIGHT] as const)) / 1000;

  // Encrypted download: from the click to the browser's save (the app hands
  // the file over only once every chunk is fetched, checked and decrypted;
  // Playwright copying the saved file afterwards is not counted).
  t = Date.now();
  const download = page.waitForEvent('download', { timeout: 1_500_000 });
  await actions(page, name).getByRole('button', { name: 'Download' }).click();
  const saved = await download;
  const encDown = (Date.now() - t) / 1000;
  // Not timed: the bytes saved are the bytes chosen (a fast wrong answer is no
  // answer).
  expect(sha256File(await saved.path())).toBe(sha256File(path));

  const plainDown =
    (await page.evaluate(async (inFlight) => {
      const tree = await (await fetch('/api/records/tree', { headers: { 'x-medvault-request': '1' } })).json();
      type V = { node_id: string; version: number; chunk_size: number; ciphertext_len: number };
      const versions: V[] = tree.nodes.map((n: { current: V | null }) => n.current).filter(Boolean);
      const v = versions.sort((a, b) => b.ciphertext_len - a.ciphertext_len)[0];
      const chunks = Math.ceil(v.ciphertext_len / (v.chunk_size + 16));
      const began = performance.now();
      let next = 0;
      let bytes = 0;
      const worker = async () => {
        while (next < chunks) {
          const i = next++;
          const r = await fetch(`/api/records/chunk/${v.node_id}/${v.version}/${i}`, { headers: { 'x-medvault-request': '1' } });
          if (!r.ok) throw new Error(`chunk ${i}: ${r.status} ${await r.text()}`);
          // Read first: `bytes += await …` would add to a stale value.
          const n = (await r.arrayBuffer()).byteLength;
          bytes += n;
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      if (bytes !== v.ciphertext_len) throw new Error(`read ${bytes} of ${v.ciphertext_len}`);
      return performance.now() - began;
    }, DOWN_IN_FLIGHT)) / 1000;

  const line = (what: string, enc: number, plain: number, floor: number, inFlight: number) =>
    `  ${what}: encrypted ${enc.toFixed(1)} s (${(mb / enc).toFixed(1)} MB/s), plain ${plain.toFixed(1)} s (${(mb / plain).toFixed(1)} MB/s), ${inFlight} requests in flight each: encrypted/plain ${(plain / enc).toFixed(2)} (floor ${floor} MB/s and 0.8)`;
  console.log(`transfer: ${MIB} MiB in Chromium over loopback`);
  console.log(line('upload', encUp, plainUp, 100, UP_IN_FLIGHT));
  console.log(line('download', encDown, plainDown, 150, DOWN_IN_FLIGHT));
});
