// The audit log in the browser: a patient's Access history (with filters and the
// CSV download), the admin console's system events and audit key, and the
// auditor verifying the whole chain in the browser. Fresh usernames per test.
import { readFileSync, writeFileSync } from 'node:fs';
import { test, expect } from '../fixtures/app';
import {
  createAdminInvite,
  openFromAccountMenu,
  signUp,
  strongPassword,
  uniqueName,
} from '../helpers/accounts';
import { actions, openFolder, openRecords, uploadOne } from '../helpers/records';

test('a patient reads their access history, filters it and downloads it as CSV', async ({
  page,
  problems,
}) => {
  const username = uniqueName('hist');
  await signUp(page, username, strongPassword('hist'));
  // The first visit creates the record; the second looks at its list of items.
  await openRecords(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await openRecords(page);
  await openFromAccountMenu(page, 'Access history');
  await expect(page.getByRole('heading', { level: 1, name: 'Access history' })).toBeVisible();
  const table = page.getByRole('table');
  await expect(table.getByRole('row').filter({ hasText: 'Created the account' })).toHaveCount(1);
  await expect(table.getByRole('row').filter({ hasText: 'Created the account' })).toContainText('You');
  // Looking at the list of items is logged, and shown when asked for.
  const views = table.getByRole('row').filter({ hasText: 'Viewed the list of items' });
  await expect(views).toHaveCount(0);
  await page.getByLabel('Include views of lists (folders, versions)').check();
  await expect(views.first()).toContainText('You');
  await page.getByLabel('Include views of lists (folders, versions)').uncheck();
  await expect(views).toHaveCount(0);

  // A date range that ends before today hides everything; clearing it brings it back.
  await page.getByLabel('To', { exact: true }).fill('2020-01-01');
  await expect(page.getByText('0 events')).toBeVisible();
  await page.getByLabel('To', { exact: true }).fill('');
  await expect(table.getByRole('row').filter({ hasText: 'Created the account' })).toHaveCount(1);

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download as CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('medvault-access-history.csv');
  const csv = readFileSync((await file.path())!, 'utf8');
  expect(csv.split('\r\n')[0]).toBe('time (UTC),person,action,item');
  expect(csv).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z,You,Created the account,/m);
  expect(problems.csp).toEqual([]);
});

test('the admin sees system events and the audit key; the auditor verifies the chain', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  await signUp(page, uniqueName('admin'), strongPassword('admin'), createAdminInvite(baseURL!));
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByLabel('Role', { exact: true }).selectOption('auditor');
  await page.getByRole('button', { name: 'Create invite link' }).click();
  const link = (await page.locator('.invite-link__url code').innerText()).trim();

  const events = page.getByRole('region', { name: 'System events' });
  // The console loaded before the invite; come back to see the new event.
  await page.getByRole('link', { name: 'Home' }).click();
  await page.getByRole('link', { name: 'Admin' }).click();
  await expect(events.getByRole('row').filter({ hasText: 'Created an invite' }).first()).toBeVisible();
  const adminKey = (await events.locator('.audit-key code').innerText()).trim();
  expect(adminKey).toMatch(/^[A-Za-z0-9_-]{43}$/);

  const auditorContext = await browser.newContext();
  const auditor = await auditorContext.newPage();
  const name = uniqueName('auditor');
  await signUp(auditor, name, strongPassword('auditor'), link);
  await auditor.getByRole('link', { name: 'Audit log' }).click();
  await expect(auditor.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
  // The auditor sees the same key the admin console shows.
  await expect(auditor.locator('.audit-key code')).toHaveText(adminKey);
  await auditor.getByRole('button', { name: 'Verify the log' }).click();
  await expect(auditor.getByRole('status').filter({ hasText: /^Verified \d+ events\./ })).toBeVisible({
    timeout: 60_000,
  });
  const verified = Number(
    (await auditor.getByText(/^Verified \d+ events\./).innerText()).match(/Verified (\d+)/)![1],
  );
  // At least: the admin's account, the invite, the auditor's account.
  expect(verified).toBeGreaterThanOrEqual(3);

  // The auditor reads no record and has no admin console.
  await auditor.getByRole('link', { name: 'Home' }).click();
  await expect(auditor.getByRole('link', { name: 'Admin' })).toHaveCount(0);
  await auditorContext.close();
  expect(problems.csp).toEqual([]);
});

test('the admin and the auditor get nothing when they try to open a patient’s file', async ({
  page,
  browser,
  baseURL,
  problems,
}, info) => {
  // A patient with one file.
  await signUp(page, uniqueName('patient'), strongPassword('patient'));
  await openRecords(page);
  await openFolder(page, 'Lab results');
  const path = info.outputPath('blood-count.txt');
  writeFileSync(path, 'Haemoglobin 141 g/L, marker PRIVATE-5d1e');
  const { nodeId, version } = await uploadOne(page, path, 'blood-count.txt');

  // An admin, and an auditor the admin invites.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signUp(admin, uniqueName('admin'), strongPassword('admin'), createAdminInvite(baseURL!));
  await admin.getByRole('link', { name: 'Admin' }).click();
  await admin.getByLabel('Role', { exact: true }).selectOption('auditor');
  await admin.getByRole('button', { name: 'Create invite link' }).click();
  const link = (await admin.locator('.invite-link__url code').innerText()).trim();
  const auditorContext = await browser.newContext();
  const auditor = await auditorContext.newPage();
  await signUp(auditor, uniqueName('auditor'), strongPassword('auditor'), link);

  for (const who of [admin, auditor]) {
    // Neither has a way to the records in the app; going there in the app
    // (as a link would, keeping the keys unlocked) says why.
    await expect(who.getByRole('link', { name: 'Records' })).toHaveCount(0);
    await who.evaluate(() => {
      history.pushState({}, '', '/records');
      dispatchEvent(new PopStateEvent('popstate'));
    });
    await expect(who.getByText('Only patients keep a record in medvault.')).toBeVisible();
    await expect(who.getByText('blood-count.txt')).toHaveCount(0);

    // Asking the server directly for the patient's file, with a valid session:
    // the same not_found as an id that does not exist, on every route.
    const answers = await who.evaluate(
      async ({ nodeId, version }) => {
        const get = async (url: string) => {
          const r = await fetch(url, { headers: { 'x-medvault-request': '1' } });
          return { status: r.status, body: await r.text() };
        };
        const post = async (url: string, body: unknown) => {
          const r = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-medvault-request': '1' },
            body: JSON.stringify(body),
          });
          return { status: r.status, body: await r.text() };
        };
        return {
          chunk: await get(`/api/records/chunk/${nodeId}/${version}/0`),
          versions: await get(`/api/records/versions?node_id=${nodeId}`),
          tree: await get('/api/records/tree'),
          restore: await post('/api/records/node/restore', { request: { node_id: nodeId } }),
          trash: await post('/api/records/node/trash', { request: { node_id: nodeId, revision: 1 } }),
        };
      },
      { nodeId, version },
    );
    for (const key of ['chunk', 'versions', 'restore', 'trash'] as const) {
      expect(answers[key].status, key).toBe(404);
      expect(JSON.parse(answers[key].body).code, key).toBe('not_found');
      expect(answers[key].body, key).not.toContain('PRIVATE-5d1e');
    }
    // Their own record: none.
    expect(answers.tree.status).toBe(200);
    expect(JSON.parse(answers.tree.body)).toBeNull();
  }

  // The patient's file is untouched and still theirs.
  await expect(actions(page, 'blood-count.txt')).toBeVisible();
  await adminContext.close();
  await auditorContext.close();
  expect(problems.csp).toEqual([]);
});
