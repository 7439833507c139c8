// Many files at once (issue 19): small files go in batches (`records/batch`,
// one record head for each batch), and a folder picked as a whole keeps its
// tree. A batch the server refuses is sent again file by file, so the files
// still arrive; a server that claims a batch was stored when it was not is
// caught by the browser's check of the record's head.
import { test, expect } from '../fixtures/app';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataFiles, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { actions, downloadHash, itemList, openFolder, openRecords, sha256File } from '../helpers/records';

/** A folder `visit-<tag>` with files at three levels; the paths by name. */
function writeVisit(root: string, tag: string): { top: string; files: Record<string, string> } {
  const top = join(root, `visit-${tag}`);
  mkdirSync(join(top, 'labs', 'bloodwork'), { recursive: true });
  const files: Record<string, string> = {
    [`summary-${tag}.txt`]: join(top, `summary-${tag}.txt`),
    [`panel-${tag}.csv`]: join(top, 'labs', `panel-${tag}.csv`),
    [`ferritin-${tag}.txt`]: join(top, 'labs', 'bloodwork', `ferritin-${tag}.txt`),
  };
  for (const [name, path] of Object.entries(files)) {
    writeFileSync(path, `${name}: secret-${tag} `.repeat(300));
  }
  return { top, files };
}

async function waitUploaded(page: import('@playwright/test').Page, count: number) {
  const uploads = page.getByRole('region', { name: 'Uploads' });
  await expect(uploads.getByText('Uploaded', { exact: true })).toHaveCount(count, { timeout: 120_000 });
}

test('a folder picked as a whole keeps its tree, downloads intact, and the server holds no names', async ({ page }, info) => {
  await signUp(page, uniqueName('folders'), strongPassword('folders'));
  await openRecords(page);
  await openFolder(page, 'Notes');
  const tag = uniqueName('t').replace(/[^a-z0-9]/gi, '');
  const { top, files } = writeVisit(info.outputPath('pick'), tag);
  await page.getByLabel('Upload a folder').setInputFiles(top);
  await waitUploaded(page, 3);
  await expect(page.getByRole('status').filter({ hasText: '3 folders made.' })).toBeVisible();

  await openFolder(page, `visit-${tag}`);
  await expect(actions(page, `summary-${tag}.txt`)).toBeVisible();
  await openFolder(page, 'labs');
  await expect(actions(page, `panel-${tag}.csv`)).toBeVisible();
  await openFolder(page, 'bloodwork');
  await expect(itemList(page).getByRole('listitem')).toHaveCount(1);
  expect(await downloadHash(page, `ferritin-${tag}.txt`)).toBe(sha256File(files[`ferritin-${tag}.txt`]));

  for (const f of dataFiles()) {
    for (const needle of [`visit-${tag}`, `ferritin-${tag}`, `secret-${tag}`, 'bloodwork']) {
      expect(f.bytes.includes(Buffer.from(needle)), `${needle} in ${f.path}`).toBe(false);
    }
  }
});

test('many small files chosen at once go in batches, each row turns to Uploaded', async ({ page }, info) => {
  await signUp(page, uniqueName('many'), strongPassword('many'));
  await openRecords(page);
  await openFolder(page, 'Imaging');
  const dir = info.outputPath('many');
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < 40; i++) {
    const p = join(dir, `slice-${String(i).padStart(2, '0')}.txt`);
    writeFileSync(p, `slice ${i} `.repeat(200));
    paths.push(p);
  }
  let batches = 0;
  let finishes = 0;
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path === '/api/records/batch') batches += 1;
    if (path === '/api/records/upload/finish') finishes += 1;
  });
  await page.getByLabel('Upload files').setInputFiles(paths);
  await waitUploaded(page, 40);
  await expect(page.getByRole('group', { name: /^Actions for slice-/ })).toHaveCount(40);
  expect(batches).toBeGreaterThan(0);
  expect(batches).toBeLessThan(40);
  expect(finishes).toBe(0);
  expect(await downloadHash(page, 'slice-07.txt')).toBe(sha256File(paths[7]));
});

test('a batch the server refuses is sent file by file, and the files arrive', async ({ page }, info) => {
  await signUp(page, uniqueName('refused'), strongPassword('refused'));
  await openRecords(page);
  await openFolder(page, 'Notes');
  await page.route('**/api/records/batch', (route) =>
    route.fulfill({
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ code: 'bad_request', message: 'Not today.' }),
    }),
  );
  const dir = info.outputPath('refused');
  mkdirSync(dir, { recursive: true });
  const paths = [0, 1, 2].map((i) => {
    const p = join(dir, `note-${i}.txt`);
    writeFileSync(p, `note ${i}`);
    return p;
  });
  await page.getByLabel('Upload files').setInputFiles(paths);
  await waitUploaded(page, 3);
  await expect(page.getByRole('group', { name: /^Actions for note-/ })).toHaveCount(3);
});

test('a server that says a batch was stored when it was not is caught', async ({ page }, info) => {
  await signUp(page, uniqueName('lied'), strongPassword('lied'));
  await openRecords(page);
  await openFolder(page, 'Notes');
  // The server answers as if it had stored the batch, and drops it.
  await page.route('**/api/records/batch', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ used_bytes: 0, quota_bytes: 10737418240, max_file_bytes: 2147483648 }),
    }),
  );
  const p = join(info.outputPath('lied'), 'dropped.txt');
  mkdirSync(info.outputPath('lied'), { recursive: true });
  writeFileSync(p, 'dropped');
  await page.getByLabel('Upload files').setInputFiles([p]);
  // The browser signed the head of the batch and remembers it; the record
  // the server serves next is older.
  await expect(page.getByRole('alert').filter({ hasText: 'The server sent an older copy of this record' })).toBeVisible({
    timeout: 60_000,
  });
});
