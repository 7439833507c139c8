// Signed records with freshness (issue 17): a server that answers with an older
// copy of the record, leaves a file out, slips in an entry nobody allowed to
// write, or replays the record from before a key rotation is refused in the
// browser with the alarm's sentence, and the record is not shown.
//
// The server's answers are altered with `page.route`, as a malicious server
// would send them: the record tree (`records/tree`) is replaced by an earlier
// answer or edited, and its change counter (`records/seq`) moved on so that the
// browser fetches the tree again. The injected entry is a copy of a real
// reading under a new id: the server cannot make a signature for it, so it
// stands for an entry written by anyone not allowed to (a read-only doctor
// working with the server has no write grant, and its signature would be
// refused the same way).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { createAdminInvite, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { actions, itemList, openFolder, openRecords, upload, writeMarkedFile } from '../helpers/records';
import { openSharing, verifiedDoctor } from '../helpers/sharing';

const TREE = '/api/records/tree';
const SEQ = '/api/records/seq';
const NEXT = 'Nothing was changed. Do not upload or change anything in this record until this is resolved, and tell your administrator.';

/** Keeps the body of every record tree the server sent. */
function treeAnswers(page: Page): string[] {
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
  return bodies;
}

/** From now on the server answers `records/tree` with `body(real answer)` and
 * says the record changed, so the browser fetches it. */
async function serveTree(page: Page, body: (real: string) => string) {
  let seq = 1_000_000;
  await page.route(`**${SEQ}*`, (route) => route.fulfill({ contentType: 'application/json', body: String((seq += 1)) }));
  await page.route(`**${TREE}*`, async (route) => {
    const real = await route.fetch();
    await route.fulfill({ response: real, body: body(await real.text()) });
  });
}

/** The Records page refuses the record with `sentence` and shows no item. */
async function refusedOnRecords(page: Page, sentence: string | RegExp) {
  // From Home, so that the Records page opens afresh.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Records' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Records' })).toBeVisible();
  const alert = page.getByRole('alert').filter({ hasText: sentence });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText(NEXT);
  await expect(page.getByRole('list', { name: 'Folders and files' })).toHaveCount(0);
}

async function rename(page: Page, from: string, to: string) {
  await actions(page, from).getByRole('button', { name: 'Rename' }).click();
  const dialog = page.getByRole('dialog', { name: `Rename “${from}”` });
  await dialog.getByLabel('New name').fill(to);
  await dialog.getByRole('button', { name: 'Rename' }).click();
  await expect(itemList(page).getByRole('link', { name: to, exact: true })).toBeVisible();
}

test('an older copy of the record, replayed after a rename, is refused', async ({ page }) => {
  await signUp(page, uniqueName('fresh'), strongPassword('fresh'));
  const trees = treeAnswers(page);
  await openRecords(page);
  await expect(itemList(page).getByRole('link', { name: 'Imaging', exact: true })).toBeVisible();
  const before = trees[trees.length - 1];
  expect(before).toBeTruthy();
  await rename(page, 'Imaging', 'Scans');

  // The server serves the copy from before the rename.
  await serveTree(page, () => before);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /The server sent an older copy of this record \(change 1; this browser has already seen change 2\)\./ })).toBeVisible();
  await refusedOnRecords(page, 'The server sent an older copy of this record');
  await expect(page.getByText('Imaging')).toHaveCount(0);
});

test('a file the server leaves out is noticed', async ({ page }) => {
  await signUp(page, uniqueName('hide'), strongPassword('hide'));
  const dir = mkdtempSync(join(tmpdir(), 'medvault-fresh-'));
  const path = join(dir, 'biopsy.txt');
  writeMarkedFile(path, 3_000, `hidden-${Date.now()}`);
  await openRecords(page);
  await openFolder(page, 'Lab results');
  await upload(page, [path], ['biopsy.txt']);

  // The server drops the file's node from the tree.
  await serveTree(page, (real) => {
    const tree = JSON.parse(real);
    tree.nodes = tree.nodes.filter((n: { kind: string }) => n.kind !== 'file');
    return JSON.stringify(tree);
  });
  await refusedOnRecords(page, 'The server left out an item of this record that its signed summary lists.');
});

test('an entry nobody allowed to write it signed is refused', async ({ page }) => {
  await signUp(page, uniqueName('inject'), strongPassword('inject'));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  const form = page.getByRole('region', { name: 'Add a reading' });
  await form.getByLabel('Measurement').selectOption({ label: 'Temperature' });
  await form.getByLabel('Temperature', { exact: true }).fill('37.2');
  await form.getByLabel('Date and time').fill('2026-02-28T08:15');
  await form.getByRole('button', { name: 'Save reading' }).click();
  await expect(form.getByRole('status')).toContainText('Saved: Temperature');

  // The server adds a reading: a copy of the real one under a new id, which
  // no signature of anyone allowed to write covers.
  await serveTree(page, (real) => {
    const tree = JSON.parse(real);
    const entry = tree.nodes.find((n: { kind: string }) => n.kind === 'entry');
    const forged = { ...entry, node_id: entry.node_id.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A')) };
    tree.nodes.push(forged);
    return JSON.stringify(tree);
  });
  await refusedOnRecords(page, 'The server sent an item in this record that nobody allowed to write it has signed.');
});

test('the record from before a key rotation, replayed, is refused', async ({ page, browser, baseURL }) => {
  test.setTimeout(180_000);
  const doctor = await verifiedDoctor(browser as Browser, baseURL!, createAdminInvite(baseURL!));
  await signUp(page, uniqueName('rotate'), strongPassword('rotate'));
  const trees = treeAnswers(page);

  // Lab results shared directly with the doctor.
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Lab results' });
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} can now read: Lab results.` })).toBeVisible();
  const before = trees[trees.length - 1];
  expect(before).toBeTruthy();

  // Removing the doctor replaces the keys under Lab results.
  const grants = page.getByRole('region', { name: 'Doctors with access' });
  const row = grants.getByRole('listitem').filter({ hasText: 'Lab results' });
  await row.getByRole('button', { name: `Remove ${doctor.name}'s access` }).click();
  await row.getByRole('button', { name: 'Yes, remove access' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Its keys were replaced' })).toBeVisible();

  // The server replays the tree from before, whose keys the doctor holds.
  await serveTree(page, () => before);
  await refusedOnRecords(page, 'The server sent an older copy of this record');
  await doctor.context.close();
});
