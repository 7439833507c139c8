// Resumable uploads: an upload that loses its connection keeps what the server
// acknowledged, and the same file picked again into the same folder sends only
// the chunks the server does not hold, then downloads byte for byte. A
// different file of the same name and size starts over. The chunk PUTs are
// counted with page.route; the network failure is `route.abort`.
import { mkdirSync } from 'node:fs';
import { test, expect } from '../fixtures/app';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { downloadHash, openRecords, sha256File, writeRandomFile } from '../helpers/records';

test.setTimeout(300_000);

const CHUNKS = '**/api/records/chunk/**';

/** The chunk index a PUT names. */
const indexOf = (url: string) => Number(url.split('/').pop());

test('an interrupted upload continues from the chunks the server holds; another file of the same name and size starts over', async ({
  page,
  problems,
}, info) => {
  await signUp(page, uniqueName('patient'), strongPassword('resume'));
  await openRecords(page);
  const uploads = page.getByRole('region', { name: 'Uploads' });
  const rowOf = (name: string) => uploads.getByRole('listitem').filter({ hasText: name }).last();
  const starts: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/records/upload/start')) starts.push(r.url());
  });

  // The connection dies after five chunks went through: every later PUT fails.
  const name = 'long-scan.bin';
  const first = info.outputPath(name);
  writeRandomFile(first, 12 * 1024 * 1024);
  const stored = new Set<number>();
  await page.route(CHUNKS, async (route) => {
    const req = route.request();
    if (req.method() !== 'PUT') return route.continue();
    if (stored.size < 5 && !stored.has(indexOf(req.url()))) {
      stored.add(indexOf(req.url()));
      return route.continue();
    }
    return route.abort('connectionreset');
  });
  await page.getByLabel('Upload files').setInputFiles(first);
  await expect(rowOf(name).getByRole('alert')).toContainText('choose the same file again to continue', {
    timeout: 60_000,
  });
  expect(starts).toHaveLength(1);
  await page.unroute(CHUNKS);

  // Another file of the same name and size into the same folder: a new upload
  // from chunk 0 (interrupted too, so the first one's note is still there).
  const otherDir = info.outputPath('other');
  const other = `${otherDir}/${name}`;
  mkdirSync(otherDir, { recursive: true });
  writeRandomFile(other, 12 * 1024 * 1024);
  const otherPuts: number[] = [];
  await page.route(CHUNKS, async (route) => {
    const req = route.request();
    if (req.method() !== 'PUT') return route.continue();
    otherPuts.push(indexOf(req.url()));
    return route.abort('connectionreset');
  });
  await page.getByLabel('Upload files').setInputFiles(other);
  await expect(rowOf(name).getByRole('alert')).toContainText('choose the same file again', { timeout: 60_000 });
  expect(starts).toHaveLength(2);
  expect(otherPuts).toContain(0);
  await page.unroute(CHUNKS);

  // The first file again: no new start, only the chunks not stored are sent,
  // each once, and the row says it is continuing.
  const resumedPuts: number[] = [];
  await page.route(CHUNKS, async (route) => {
    const req = route.request();
    if (req.method() !== 'PUT') return route.continue();
    resumedPuts.push(indexOf(req.url()));
    // Slow enough to read the row while it runs.
    await new Promise((r) => setTimeout(r, 200));
    return route.continue();
  });
  await page.getByLabel('Upload files').setInputFiles(first);
  await expect(rowOf(name)).toContainText('Continuing from 5 MB of 12 MB');
  await expect(rowOf(name).getByText('Uploaded', { exact: true })).toBeVisible({ timeout: 120_000 });
  expect(starts).toHaveLength(2);
  for (const index of resumedPuts) expect(stored.has(index)).toBe(false);
  expect(new Set(resumedPuts).size).toBe(resumedPuts.length);
  const all = [...stored, ...resumedPuts].sort((a, b) => a - b);
  expect(all).toEqual(all.map((_, i) => i));
  await page.unroute(CHUNKS);
  expect(await downloadHash(page, name)).toBe(sha256File(first));

  // Chromium logs every aborted request; they are the point of this test.
  problems.console.splice(0, problems.console.length, ...problems.console.filter((l) => !l.includes('net::ERR_')));
});

test('a server that claims chunks it does not hold cannot make the file look uploaded; the file then uploads whole', async ({
  page,
  problems,
}, info) => {
  await signUp(page, uniqueName('patient'), strongPassword('resume-lie'));
  await openRecords(page);
  const uploads = page.getByRole('region', { name: 'Uploads' });
  const rowOf = (name: string) => uploads.getByRole('listitem').filter({ hasText: name }).last();

  // Interrupted after three chunks.
  const name = 'claimed-scan.bin';
  const path = info.outputPath(name);
  writeRandomFile(path, 6 * 1024 * 1024);
  let through = 0;
  await page.route(CHUNKS, async (route) => {
    if (route.request().method() !== 'PUT') return route.continue();
    if (through < 3) {
      through += 1;
      return route.continue();
    }
    return route.abort('connectionreset');
  });
  await page.getByLabel('Upload files').setInputFiles(path);
  await expect(rowOf(name).getByRole('alert')).toContainText('choose the same file again to continue', {
    timeout: 60_000,
  });
  await page.unroute(CHUNKS);

  // The same file again, and the server's status claims every chunk: the
  // browser sends none, and the finish is refused, so nothing is shown as
  // uploaded.
  const puts: string[] = [];
  await page.route(CHUNKS, async (route) => {
    if (route.request().method() === 'PUT') puts.push(route.request().url());
    return route.continue();
  });
  await page.route('**/api/records/upload/status', async (route) => {
    const response = await route.fetch();
    const status = await response.json();
    status.held = Array.from({ length: status.chunk_count }, (_, i) => i);
    await route.fulfill({ response, json: status });
  });
  await page.getByLabel('Upload files').setInputFiles(path);
  await expect(rowOf(name).getByRole('alert')).toContainText('chunks have arrived', { timeout: 60_000 });
  await expect(rowOf(name).getByText('Uploaded', { exact: true })).toHaveCount(0);
  expect(puts).toHaveLength(0);
  await page.unroute('**/api/records/upload/status');
  await page.unroute(CHUNKS);

  // Picked again with an honest answer: the refused upload was dropped, so
  // the file goes up whole and downloads byte for byte.
  await page.getByLabel('Upload files').setInputFiles(path);
  await expect(rowOf(name).getByText('Uploaded', { exact: true })).toBeVisible({ timeout: 120_000 });
  expect(await downloadHash(page, name)).toBe(sha256File(path));

  problems.console.splice(0, problems.console.length, ...problems.console.filter((l) => !l.includes('net::ERR_')));
});
