// A busy server (issue 23): when a class of requests is full the server answers
// 503 with Retry-After. The app waits as asked, longer than its retries for a
// lost connection would last, and the transfer completes with the same bytes.
import { test, expect } from '../fixtures/app';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { downloadHash, openRecords, sha256File, upload, writeRandomFile } from '../helpers/records';

const BUSY =
  'The medvault server is busy right now. Wait a moment and try again; the app retries by itself.';

/** Answers the first `times` requests of `method` for chunk 1 as a full server
 * does: one request refused again and again. */
async function busyFor(page: import('@playwright/test').Page, method: string, times: number) {
  const seen = { refused: 0 };
  await page.route(/\/api\/records\/chunk\/[^/]+\/\d+\/1$/, async (route) => {
    if (route.request().method() === method && seen.refused < times) {
      seen.refused++;
      await route.fulfill({
        status: 503,
        headers: { 'retry-after': '1', 'content-type': 'application/json' },
        body: JSON.stringify({ code: 'unavailable', message: BUSY }),
      });
      return;
    }
    await route.fallback();
  });
  return seen;
}

test('a busy server: uploads and downloads wait as asked and complete', async ({ page, problems }, info) => {
  await signUp(page, uniqueName('patient'), strongPassword('busy server'));
  await openRecords(page);
  const name = 'echocardiogram.bin';
  const path = info.outputPath(name);
  writeRandomFile(path, 3 * 1024 * 1024);

  // Six refusals of the same chunk in a row: more than the four retries after a
  // lost connection would allow.
  const puts = await busyFor(page, 'PUT', 6);
  await upload(page, [path], [name]);
  expect(puts.refused).toBe(6);
  await page.unrouteAll();

  const gets = await busyFor(page, 'GET', 6);
  expect(await downloadHash(page, name)).toBe(sha256File(path));
  expect(gets.refused).toBe(6);

  // Chromium logs each refused request itself; those lines are expected.
  const expected = /status of 503/;
  problems.console.splice(0, problems.console.length, ...problems.console.filter((l) => !expected.test(l)));
});
