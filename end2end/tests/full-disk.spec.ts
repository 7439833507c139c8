// A full disk, for real, in the browser: this spec runs its own server whose data
// directory is a tmpfs of 24 MiB mounted for it (as root; where mounting is not
// permitted the test is skipped with the reason). A file larger than the room
// left is refused with the server's sentence (507), nothing of it is shown as
// uploaded, and the file stored before still downloads byte for byte.
import { execFileSync } from 'node:child_process';
import { test, expect } from '../fixtures/app';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { actions, downloadHash, openRecords, sha256File, upload, writeRandomFile } from '../helpers/records';
import { OwnServer } from '../helpers/server';

const server = new OwnServer();

const STORAGE_FULL =
  'The medvault server has run out of storage space, so nothing was saved. Try again later, and tell your administrator if it keeps happening.';

test.use({ baseURL: server.baseURL });
test.setTimeout(300_000);

let mounted = false;
let whyNot = '';

test.beforeAll(async () => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', server.data], { stdio: 'pipe' });
    mounted = true;
  } catch (e) {
    whyNot = String((e as { stderr?: Buffer }).stderr ?? e).trim();
    return;
  }
  await server.start();
});

test.afterAll(async () => {
  await server.stop();
  if (mounted) execFileSync('umount', ['-l', server.data]);
});

test('a full disk: the upload is refused with a sentence, and what was stored stays intact', async ({
  page,
  problems,
}, info) => {
  test.skip(!mounted, `mounting a small filesystem is not permitted here: ${whyNot}`);
  await signUp(page, uniqueName('patient'), strongPassword('full disk'));
  await openRecords(page);
  const kept = info.outputPath('blood-panel.pdf');
  writeRandomFile(kept, 300 * 1024);
  await upload(page, [kept], ['blood-panel.pdf']);

  // More than the disk has room for.
  const name = 'mri-series.bin';
  const big = info.outputPath(name);
  writeRandomFile(big, 30 * 1024 * 1024);
  await page.getByLabel('Upload files').setInputFiles(big);
  const row = page.getByRole('region', { name: 'Uploads' }).getByRole('listitem').filter({ hasText: name });
  await expect(row.getByText(STORAGE_FULL)).toBeVisible({ timeout: 120_000 });
  await expect(row.getByText('Uploaded', { exact: true })).toHaveCount(0);
  await expect(actions(page, name)).toHaveCount(0);

  // Reading still works on a full disk, byte for byte.
  expect(await downloadHash(page, 'blood-panel.pdf')).toBe(sha256File(kept));

  // Chromium logs the refused request itself; that one line is expected.
  const expected = /status of 507/;
  problems.console.splice(0, problems.console.length, ...problems.console.filter((l) => !expected.test(l)));
});
