// Tampering with stored files while the server is stopped: the app must refuse
// them with its one sentence and show or save nothing.
//
// This spec runs its own server (own port, own data directory) because it stops
// and restarts it. The chunks to change are found in the data directory by
// their ciphertext, as fetched through the API before the stop.
//
// Where things are on disk: every sealed chunk is a file of its own under
// `blob-files/` (raw ciphertext, no checksum), so a chunk is changed in place.
// `edit` still keeps a sled blob's CRC-32 consistent if the chunk is ever found
// inside one (sled's `blobs/<lsn>` files start with the little-endian CRC-32 of
// the rest, and sled refuses a blob whose CRC fails, which would only ever reach
// the app as a server failure); that is what an attacker with the disk would do.
// Manifests sit inside sled's log segments, whose framing is not worth
// reproducing byte by byte: the manifest case goes through the store with the
// `store_tamper` tool (manifest-copy), as an attacker with the disk and our
// code would, and puts another file's genuine, owner-signed manifest in place.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { signIn, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { actions, downloadHash, openRecords, sha256File, uploadOne, writeRandomFile } from '../helpers/records';

const root = resolve(__dirname, '..', '..');
const serverBin = process.env.MEDVAULT_SERVER_BIN ?? join(root, 'target', 'debug', 'medvault-server');
const site = process.env.MEDVAULT_SITE ?? join(root, 'dist');
const tamperBin = join(resolve(serverBin, '..'), 'store_tamper');
const port = 40000 + Math.floor(Math.random() * 20000);
const data = mkdtempSync(join(tmpdir(), 'medvault-tamper-'));
const base = `http://127.0.0.1:${port}`;

const TAMPERED =
  'This file was changed outside medvault and cannot be trusted. Restore an earlier version, or ask your administrator.';

test.use({ baseURL: base });
test.setTimeout(300_000);

let server: ChildProcess | undefined;

async function startServer() {
  server = spawn(
    serverBin,
    ['serve', '--addr', `127.0.0.1:${port}`, '--data', data, '--site', site, '--max-body-bytes', '65536'],
    { env: { ...process.env, MEDVAULT_LOG: 'warn' }, stdio: 'ignore' },
  );
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the tamper test server did not start');
}

async function stopServer() {
  if (!server || server.exitCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  await exited;
}

test.beforeAll(startServer);
test.afterAll(stopServer);

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

/** Whether a file is a sled blob: its first four bytes are the CRC of the rest. */
function isBlob(bytes: Buffer): boolean {
  return bytes.length > 5 && bytes.readUInt32LE(0) === crc32(bytes.subarray(4)) >>> 0;
}

/** Every (file, offset) where `needle` is stored. */
function locate(needle: Buffer): { path: string; at: number }[] {
  const found: { path: string; at: number }[] = [];
  for (const path of allFiles(data)) {
    const bytes = readFileSync(path);
    for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) {
      found.push({ path, at });
    }
  }
  return found;
}

/** Rewrites a file after `change`, keeping a sled blob's CRC consistent. */
function edit(path: string, change: (bytes: Buffer) => void) {
  const bytes = readFileSync(path);
  const blob = isBlob(bytes);
  change(bytes);
  if (blob) bytes.writeUInt32LE(crc32(bytes.subarray(4)) >>> 0, 0);
  writeFileSync(path, bytes);
}

type Stored = { nodeId: string; version: number; chunks: Buffer[] };

/** Uploads a file and returns its node id, version and sealed chunks as the API serves them. */
async function uploadAndFetch(page: Page, path: string, name: string): Promise<Stored> {
  const { nodeId, version, count } = await uploadOne(page, path, name);
  const chunks = await page.evaluate(
    async ({ nodeId, version, count }) => {
      const out: number[][] = [];
      for (let i = 0; i < count; i++) {
        const r = await fetch(`/api/records/chunk/${nodeId}/${version}/${i}`, { headers: { 'x-medvault-request': '1' } });
        out.push(Array.from(new Uint8Array(await r.arrayBuffer())));
      }
      return out;
    },
    { nodeId, version, count },
  );
  return { nodeId, version, chunks: chunks.map((c) => Buffer.from(c)) };
}

async function expectRefused(page: Page, name: string) {
  let saved = false;
  page.on('download', () => (saved = true));
  await actions(page, name).getByRole('button', { name: 'Download' }).click();
  await expect(page.getByRole('alert').filter({ hasText: TAMPERED })).toHaveText(TAMPERED);
  expect(saved).toBe(false);
  // Preview shows nothing either.
  const preview = actions(page, name).getByRole('button', { name: 'Preview' });
  if (await preview.count()) {
    await preview.click();
    await expect(page.getByRole('alert').filter({ hasText: TAMPERED })).toBeVisible();
    await expect(page.getByRole('dialog')).toHaveCount(0);
  }
}

test('a changed byte, swapped chunks or a replaced manifest: the app refuses the file', async ({ page, problems }, info) => {
  const username = uniqueName('patient');
  const password = strongPassword('tamper');
  await signUp(page, username, password);
  await openRecords(page);

  const files: Record<string, string> = {};
  for (const name of ['flipped.bin', 'swapped.bin', 'replaced.bin', 'intact.bin']) {
    files[name] = info.outputPath(name);
    writeRandomFile(files[name], 2_500_000);
  }
  const flipped = await uploadAndFetch(page, files['flipped.bin'], 'flipped.bin');
  const swapped = await uploadAndFetch(page, files['swapped.bin'], 'swapped.bin');
  const replaced = await uploadAndFetch(page, files['replaced.bin'], 'replaced.bin');
  const intact = await uploadAndFetch(page, files['intact.bin'], 'intact.bin');
  expect(flipped.chunks.length).toBe(3);

  await stopServer();
  // One byte in the middle of the second chunk.
  const target = flipped.chunks[1];
  const places = locate(target.subarray(0, 32)).filter(({ path, at }) =>
    readFileSync(path).subarray(at, at + target.length).equals(target),
  );
  expect(places.length, 'the chunk is stored somewhere').toBeGreaterThan(0);
  for (const { path, at } of places) edit(path, (b) => (b[at + 500_000] ^= 0x01));
  // The first two chunks of another file trade places (both 1 MiB + 16 bytes).
  const [c0, c1] = swapped.chunks;
  expect(c0.length).toBe(c1.length);
  const at0 = locate(c0).map((p) => ({ ...p, chunk: 0 }));
  const at1 = locate(c1).map((p) => ({ ...p, chunk: 1 }));
  expect(at0.length).toBeGreaterThan(0);
  expect(at1.length).toBeGreaterThan(0);
  for (const { path, at, chunk } of [...at0, ...at1]) {
    edit(path, (b) => (chunk === 0 ? c1 : c0).copy(b, at));
  }
  await startServer();

  await page.goto('/signin');
  await signIn(page, username, password);
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
  await openRecords(page);
  await expectRefused(page, 'flipped.bin');
  await expectRefused(page, 'swapped.bin');
  expect(await downloadHash(page, 'intact.bin')).toBe(sha256File(files['intact.bin']));

  // A manifest replaced by another genuine one: the owner's signature, over
  // another file of the same size. The file's signed state names the hash of
  // its current version, manifest included, so the whole record is refused
  // as soon as it is opened (signed records, issue 17).
  await stopServer();
  const said = execFileSync(
    tamperBin,
    [data, 'manifest-copy', intact.nodeId, String(intact.version), replaced.nodeId, String(replaced.version)],
    { encoding: 'utf8' },
  );
  expect(said).toContain('now holds that of');
  await startServer();
  await page.goto('/signin');
  await signIn(page, username, password);
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Records' }).click();
  await expect(
    page.getByRole('alert').filter({ hasText: 'The server sent an item in this record that nobody allowed to write it has signed.' }),
  ).toBeVisible();
  await expect(page.getByRole('list', { name: 'Folders and files' })).toHaveCount(0);
  expect(problems.console).toEqual([]);
});
