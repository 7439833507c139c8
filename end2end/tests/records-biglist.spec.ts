// A record of a few hundred items (issue 19): the list shows a page of rows at
// first and the rest on request, coming back to Records shows the tree this tab
// already checked and decrypted without fetching it again, a file added in
// another browser is picked up (the record's head moved), and a tree the server
// alters or rolls back after the list was held in memory is refused with the
// alarm's sentence.
//
// The items are made by the native generator (`server/benches/biglist_seed.rs`,
// run here as `cargo test --bench`, a debug build) through the real API: each
// file with its signed state and the owner's next head, as the app makes them.
// The server's answers are altered with `page.route`, as in
// records-freshness.spec.ts.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { signIn, strongPassword, uniqueName } from '../helpers/accounts';
import { itemList, openRecords, upload, writeMarkedFile } from '../helpers/records';

const root = resolve(__dirname, '..', '..');
const TREE = '/api/records/tree';
const SEQ = '/api/records/seq';
// 250 files and the five starter folders at the top, 10 more in the folders.
const ITEMS = 260;
const AT_TOP = 250;
const NEXT = 'Nothing was changed. Do not upload or change anything in this record until this is resolved, and tell your administrator.';

/** Makes a patient with `ITEMS` files through the API (native generator). Built
 * with the suite's `test-clock` feature, so building it leaves the suite's server
 * binary as it is. */
function seed(baseURL: string, username: string, password: string) {
  execFileSync('cargo', ['test', '--locked', '-q', '-p', 'server', '--features', 'test-clock', '--bench', 'biglist_seed'], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      BIGLIST_URL: baseURL,
      BIGLIST_USER: username,
      BIGLIST_PASSWORD: password,
      BIGLIST_ITEMS: String(ITEMS),
      BIGLIST_ROOT: String(AT_TOP),
      BIGLIST_CONNS: '4',
    },
  });
}

/** Signs in as the seeded patient and opens Records. */
async function signInTo(page: Page, username: string, password: string) {
  await signIn(page, username, password);
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible({
    timeout: 30_000,
  });
  await openRecords(page);
}

/** Counts the record trees this page fetches. */
function treeFetches(page: Page): { n: number } {
  const count = { n: 0 };
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === TREE) count.n += 1;
  });
  return count;
}

/** Home, then Records again (in-app links: the keys stay in memory). */
async function backToRecords(page: Page) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Home' }).click();
  await expect(page.getByRole('heading', { level: 1, name: /^Welcome/ })).toBeVisible();
  await nav.getByRole('link', { name: 'Records' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Records' })).toBeVisible();
}

const rows = (page: Page) => itemList(page).locator(':scope > li');

test('a big folder shows a page of rows first, comes back from memory, and picks up a change', async ({
  page,
  browser,
  baseURL,
}, info) => {
  test.setTimeout(300_000);
  const username = uniqueName('many');
  const password = strongPassword('many');
  seed(baseURL!, username, password);
  const trees = treeFetches(page);
  await signInTo(page, username, password);

  // The first page of rows, folders first, and how to see the rest.
  await expect(rows(page)).toHaveCount(200);
  await expect(itemList(page).getByRole('link', { name: 'Imaging', exact: true })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Showing 200 of 255 items.' })).toBeVisible();
  await page.getByRole('button', { name: 'Show 55 more' }).click();
  await expect(rows(page)).toHaveCount(255);
  await expect(page.getByRole('button', { name: /^Show (all|\d+ more)/ })).toHaveCount(0);
  // Focus moves to the first row added (its first button).
  await expect(rows(page).nth(200).getByRole('button').first()).toBeFocused();
  await expect(rows(page).nth(254)).toContainText('scan-00249.dcm');
  expect(trees.n).toBe(1);

  // Another page and back: the tree held in memory, not fetched again.
  await backToRecords(page);
  await expect(rows(page)).toHaveCount(200);
  await expect(page.getByRole('status').filter({ hasText: 'Showing 200 of 255 items.' })).toBeVisible();
  expect(trees.n).toBe(1);

  // A file added in another browser moves the record's head: fetched again.
  const other = await (await browser.newContext()).newPage();
  await signInTo(other, username, password);
  const path = info.outputPath('aaa-new-result.txt');
  writeMarkedFile(path, 2_000, `new-${Date.now()}`);
  await upload(other, [path], ['aaa-new-result.txt']);
  await other.context().close();
  await backToRecords(page);
  await expect(page.getByRole('status').filter({ hasText: 'Showing 200 of 256 items.' })).toBeVisible();
  await expect(itemList(page).getByText('aaa-new-result.txt', { exact: true })).toBeVisible();
  expect(trees.n).toBe(2);
});

test('a big record held in memory, then altered or rolled back by the server, is refused', async ({
  page,
  baseURL,
}, info) => {
  test.setTimeout(300_000);
  const username = uniqueName('alter');
  const password = strongPassword('alter');
  seed(baseURL!, username, password);
  const bodies: string[] = [];
  page.on('response', async (r) => {
    if (new URL(r.url()).pathname === TREE && r.ok()) {
      try {
        bodies.push(await r.text());
      } catch {
        // a navigation dropped it
      }
    }
  });
  await signInTo(page, username, password);
  await expect(rows(page)).toHaveCount(200);
  await expect.poll(() => bodies.length).toBe(1);
  const first = bodies[0];

  // The server says the record changed and swaps two files' sealed names.
  let seq = 1_000_000;
  await page.route(`**${SEQ}*`, (route) =>
    route.fulfill({ contentType: 'application/json', body: String((seq += 1)) }),
  );
  await page.route(`**${TREE}*`, async (route) => {
    const real = await route.fetch();
    const tree = JSON.parse(await real.text());
    const files = tree.nodes.filter((n: { kind: string }) => n.kind === 'file');
    [files[0].metadata, files[1].metadata] = [files[1].metadata, files[0].metadata];
    await route.fulfill({ response: real, body: JSON.stringify(tree) });
  });
  await backToRecords(page);
  const altered = page
    .getByRole('alert')
    .filter({ hasText: 'The server sent an item in this record that nobody allowed to write it has signed.' });
  await expect(altered).toBeVisible();
  await expect(altered).toContainText(NEXT);
  await expect(itemList(page)).toHaveCount(0);
  await page.unrouteAll({ behavior: 'wait' });

  // The real record again; then a change here, and the copy from before it.
  await backToRecords(page);
  await expect(rows(page)).toHaveCount(200);
  const path = info.outputPath('aaa-after.txt');
  writeMarkedFile(path, 2_000, `after-${Date.now()}`);
  await upload(page, [path], ['aaa-after.txt']);
  await page.route(`**${SEQ}*`, (route) =>
    route.fulfill({ contentType: 'application/json', body: String((seq += 1)) }),
  );
  await page.route(`**${TREE}*`, async (route) => {
    const real = await route.fetch();
    await route.fulfill({ response: real, body: first });
  });
  await backToRecords(page);
  const older = page.getByRole('alert').filter({ hasText: 'The server sent an older copy of this record' });
  await expect(older).toBeVisible();
  await expect(older).toContainText(NEXT);
  await expect(itemList(page)).toHaveCount(0);
});
