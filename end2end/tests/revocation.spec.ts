// Taking secrets back: an admin revokes an invite link that may have leaked, and
// a user makes a new recovery code so that the old one stops working. A share
// that passes its end date gets its folder's keys replaced when the patient
// next opens Sharing, and a key replacement cut off half way is offered again
// after a reload, on another device, until it is done. A file a doctor added
// that the patient had not taken in before the share ended goes to the Trash
// when the record opens, instead of locking the record. Every test uses fresh
// usernames, so the order does not matter.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIRequestContext, Browser, Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import {
  createAdminInvite,
  openFromAccountMenu,
  signIn,
  signOut,
  signUp,
  strongPassword,
  uniqueName,
} from '../helpers/accounts';
import { openPatients, openSharing, verifiedDoctor as verifiedDoctorAt } from '../helpers/sharing';
import { openRecords, writeMarkedFile } from '../helpers/records';

const REVOKED = 'This invite was revoked or has expired. Ask an administrator for a new one.';

test('an admin revokes an open invite and its link then says so', async ({
  page,
  browser,
  baseURL,
}) => {
  await signUp(page, uniqueName('admin'), strongPassword('admin'), createAdminInvite(baseURL!));
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByLabel('Role', { exact: true }).selectOption('doctor');
  await page.getByRole('button', { name: 'Create invite link' }).click();
  const link = (await page.locator('.invite-link__url code').innerText()).trim();
  expect(link).toContain('/signup?invite=');

  const open = page.getByRole('table', { name: 'Open invites' });
  const row = open.getByRole('row').filter({ hasText: 'Doctor' });
  await expect(row).toHaveCount(1);
  await expect(row).not.toContainText(link.split('invite=')[1]);

  // The first click only asks; "Keep" leaves the invite alone.
  await row.getByRole('button', { name: /Revoke the invite for a doctor/ }).click();
  await expect(row.getByText('Revoke this invite? Its link will stop working.')).toBeVisible();
  await row.getByRole('button', { name: 'Keep' }).click();
  await expect(row).toHaveCount(1);

  await row.getByRole('button', { name: /Revoke the invite for a doctor/ }).click();
  await row.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(page.getByText('The invite for a doctor was revoked. Its link no longer works.')).toBeVisible();
  await expect(page.getByText('No open invites.')).toBeVisible();

  const stranger = await browser.newContext();
  const strangerPage = await stranger.newPage();
  await strangerPage.goto(link);
  await expect(strangerPage.getByRole('alert')).toHaveText(REVOKED);
  await expect(strangerPage.getByRole('button', { name: 'Create account' })).toHaveCount(0);
  await stranger.close();
});

test('a new recovery code from the account page works; the old one is refused', async ({
  page,
}) => {
  const username = uniqueName('newcode');
  const password = strongPassword('first');
  const oldCode = await signUp(page, username, password);

  await openFromAccountMenu(page, 'Account');
  const section = page.getByRole('region', { name: 'Recovery code' });
  await section.getByLabel('Your password').fill(password);
  await section.getByRole('button', { name: 'Make a new recovery code' }).click();
  await expect(section.getByRole('heading', { name: 'Save your new recovery code' })).toBeVisible({
    timeout: 30_000,
  });
  const newCode = (await section.getByRole('group', { name: 'Your new recovery code' }).innerText())
    .trim()
    .split(/\s+/)
    .join('-');
  expect(newCode).not.toBe(oldCode);
  await expect(section.getByRole('button', { name: 'Done' })).toBeDisabled();
  await section.getByLabel('I have saved my new recovery code somewhere safe').check();
  await section.getByRole('button', { name: 'Done' }).click();
  await expect(section.getByText('Your new recovery code is in use. The old one no longer works.')).toBeVisible();
  await signOut(page);

  // The old code: refused with a sentence that says what to do.
  await page.goto('/recover');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Recovery code').fill(oldCode);
  await page.getByLabel('New password').fill(strongPassword('second'));
  await page.getByLabel('Confirm password').fill(strongPassword('second'));
  await page.getByRole('button', { name: 'Recover account' }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'This recovery code does not open this account. Check the username and the code.',
    { timeout: 30_000 },
  );

  // The new code works; the recovery offers (checked) yet another code.
  await page.getByLabel('Recovery code').fill(newCode);
  await expect(page.getByLabel('Make a fresh code for next time', { exact: false })).toBeChecked();
  await page.getByRole('button', { name: 'Recover account' }).click();
  await expect(page.getByRole('heading', { name: 'Save your new recovery code' })).toBeVisible({
    timeout: 60_000,
  });
  const third = (await page.getByRole('group', { name: 'Your new recovery code' }).innerText()).trim().split(/\s+/).join('-');
  expect(third).not.toBe(newCode);
  await page.getByLabel('I have saved my new recovery code somewhere safe').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
});

const API = { headers: { 'x-medvault-request': '1' } };

/** A verified doctor on the suite's shared server. */
function verifiedDoctor(browser: Browser, baseURL: string) {
  return verifiedDoctorAt(browser, baseURL, createAdminInvite(baseURL));
}

/** The wrapped key of every node of the caller's record, by node id. */
async function wrappedKeys(request: APIRequestContext): Promise<Map<string, string>> {
  const tree = await (await request.get('/api/records/tree', API)).json();
  return new Map(tree.nodes.map((n: { node_id: string; wrapped_key: string }) => [n.node_id, n.wrapped_key]));
}

/** What the server says is still owed: folders, the rotation under way. */
async function owed(request: APIRequestContext) {
  return (await request.get('/api/sharing/rotation/pending', API)).json();
}

/** The patient shares `folder` with `doctor`, to read, ending at `until` (yyyy-mm-dd) if given. */
async function shareFolder(page: Page, doctor: string, folder: string, until?: string) {
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: folder });
  if (until) await share.getByLabel('End date (optional)').fill(until);
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor} can now read: ${folder}.` })).toBeVisible();
}

test('a share past its end date: opening Sharing replaces the folder keys, and says why', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(180_000);
  const clock = process.env.MEDVAULT_E2E_CLOCK!;
  const doctor = await verifiedDoctor(browser, baseURL!);
  const patient = uniqueName('pat');
  const password = strongPassword('patient');
  await signUp(page, patient, password);
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  const day = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`;
  await shareFolder(page, doctor.name, 'Imaging', day);
  await expect(page.getByRole('region', { name: 'Replacing keys' })).toHaveCount(0);

  // The doctor opens the folder (and so holds its key).
  await openPatients(doctor.page);
  const link = doctor.page.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient });
  const grantId = (await link.getAttribute('href'))!.split('/').pop();
  await link.click();
  await expect(doctor.page.getByRole('heading', { level: 1, name: `${patient}: Imaging` })).toBeVisible();
  const before = await wrappedKeys(page.request);

  try {
    // Three days later by the server's clock: the share has ended, and so has every session.
    writeFileSync(clock, String(3 * 24 * 3600));
    await expect
      .poll(async () => (await page.request.get('/api/sharing/grants', API)).status(), { timeout: 10_000 })
      .toBe(401);
    await signIn(page, patient, password);
    await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${patient}` })).toBeVisible();
    // The server lists nothing as owed (a lie): the browser goes by the grants
    // themselves (app/tests/rekey_tasks.rs plays the server that also calls an
    // expired grant active, against the signed end date).
    await page.route('**/api/sharing/rotation/pending', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ folders: [], under_way: null, uploads: [] }) }),
    );
    await openSharing(page);
    const panel = page.getByRole('region', { name: 'Replacing keys' });
    // It starts by itself; once done, the page says why and what was done.
    const news = page.getByRole('status').filter({ hasText: 'Done: the keys of Imaging were replaced.' });
    await expect(news).toBeVisible({ timeout: 60_000 });
    await expect(news).toContainText(`${doctor.name}'s access ended on`);
    await expect(news).toContainText('replacing the keys of Imaging so that keys they kept open nothing new.');
    await expect(panel).toHaveCount(0);
    await page.unroute('**/api/sharing/rotation/pending');

    // The folder and what is in it have new keys; the rest of the record is as it was.
    const after = await wrappedKeys(page.request);
    const changed = [...after.keys()].filter((id) => after.get(id) !== before.get(id));
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThan(after.size);
    const left = await owed(page.request);
    expect(left.folders).toEqual([]);
    expect(left.under_way).toBeNull();

    // The doctor gets nothing of the folder any more.
    await signIn(doctor.page, doctor.name, strongPassword('doctor'));
    await expect(doctor.page.getByRole('heading', { level: 1, name: `Welcome, ${doctor.name}` })).toBeVisible();
    expect((await doctor.page.request.get(`/api/sharing/shared?grant_id=${grantId}`, API)).status()).toBe(404);

    // Opening Sharing again replaces nothing more.
    await openSharing(page);
    await expect(page.getByRole('region', { name: 'Doctors with access' })).toContainText('Expired');
    await expect(page.getByRole('region', { name: 'Replacing keys' })).toHaveCount(0);
  } finally {
    writeFileSync(clock, '0');
  }
  await doctor.context.close();
  expect(problems.csp).toEqual([]);
});

test('a key replacement cut off half way is offered again after a reload, on another device, and completes', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(180_000);
  const doctor = await verifiedDoctor(browser, baseURL!);
  const patient = uniqueName('pat');
  const password = strongPassword('patient');
  await signUp(page, patient, password);
  await shareFolder(page, doctor.name, 'Lab results');
  const before = await wrappedKeys(page.request);

  // The commit never reaches the server.
  await page.route('**/api/sharing/rotation/commit', (route) =>
    route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ code: 'conflict', message: 'The commit was lost on the way.' }) }),
  );
  const row = page.getByRole('region', { name: 'Doctors with access' }).getByRole('listitem').filter({ hasText: doctor.name });
  await row.getByRole('button', { name: `Remove ${doctor.name}'s access` }).click();
  await row.getByRole('button', { name: 'Yes, remove access' }).click();
  await expect(row.getByRole('alert')).toContainText("replacing the folder's keys did not finish", { timeout: 60_000 });
  // The folder is listed as owing new keys, waiting for a click (not started again by itself).
  const listed = page.getByRole('region', { name: 'Replacing keys' });
  await expect(listed).toContainText(`You removed ${doctor.name}'s access`);
  await expect(listed.getByRole('button', { name: 'Replace the keys of Lab results now' })).toBeVisible();
  await expect(listed.getByRole('progressbar')).toHaveCount(0);
  await page.unroute('**/api/sharing/rotation/commit');
  const cut = await owed(page.request);
  expect(cut.folders.length).toBe(1);
  expect(cut.under_way).toBe(cut.folders[0].node_id);
  expect(await wrappedKeys(page.request)).toEqual(before);

  // After a reload the page offers it again, and says why.
  await page.reload();
  await signIn(page, patient, password);
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${patient}` })).toBeVisible();
  await page.route('**/api/sharing/rotation/commit', (route) =>
    route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ code: 'conflict', message: 'The commit was lost on the way.' }) }),
  );
  await openSharing(page);
  const panel = page.getByRole('region', { name: 'Replacing keys' });
  await expect(panel).toContainText(`You removed ${doctor.name}'s access on`);
  await expect(panel.getByRole('alert')).toContainText('Replacing the keys of Lab results did not finish', { timeout: 60_000 });
  await expect(panel.getByRole('button', { name: 'Replace the keys of Lab results now' })).toBeVisible();
  await page.unroute('**/api/sharing/rotation/commit');

  // On another device, with nothing remembered in its browser, it is offered
  // (from the server's list and the grant's status) and completes.
  const other = await browser.newContext({ baseURL });
  const device = await other.newPage();
  await signIn(device, patient, password);
  await expect(device.getByRole('heading', { level: 1, name: `Welcome, ${patient}` })).toBeVisible();
  await openSharing(device);
  const news = device.getByRole('status').filter({ hasText: 'Done: the keys of Lab results were replaced.' });
  await expect(news).toBeVisible({ timeout: 60_000 });
  await expect(news).toContainText(`You removed ${doctor.name}'s access on`);
  const done = await owed(device.request);
  expect(done.folders).toEqual([]);
  expect(done.under_way).toBeNull();
  expect(await wrappedKeys(device.request)).not.toEqual(before);
  await other.close();

  // The first device, which saw the share end but never a replacement finish,
  // may replace the keys once more (it does not take the server's word that
  // it is done); either way nothing is left owed.
  await openSharing(page);
  await expect(page.getByRole('region', { name: 'Replacing keys' })).toHaveCount(0, { timeout: 60_000 });
  expect((await owed(page.request)).folders).toEqual([]);
  await doctor.context.close();
  expect(problems.csp).toEqual([]);
});

test('an upload still running holds up the replacement: the page says whose, and the patient cancels it', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(240_000);
  const writer = await verifiedDoctor(browser, baseURL!);
  const leaving = await verifiedDoctor(browser, baseURL!);
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  for (const [doctor, permission, said] of [
    [writer.name, 'Read and write', 'can now read and add to'],
    [leaving.name, 'Read only', 'can now read'],
  ]) {
    await share.getByLabel("Doctor's username").fill(doctor);
    await share.getByRole('button', { name: 'Look up' }).click();
    await expect(share.getByText('Verified doctor')).toBeVisible();
    await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Notes' });
    await share.getByLabel('Permission').selectOption({ label: permission });
    await share.getByRole('button', { name: 'Share', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: `${doctor} ${said}: Notes.` })).toBeVisible();
  }

  // The writing doctor starts a new file in Notes and never finishes it (the
  // server checks only the sizes of what it cannot read).
  const dr = writer.page;
  await openPatients(dr);
  const href = (await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).getAttribute('href'))!;
  const scope = await (await dr.request.get(`/api/sharing/shared?grant_id=${href.split('/').pop()}`, API)).json();
  const b64 = (bytes: Buffer) => bytes.toString('base64url');
  const fileId = b64(Buffer.alloc(16, 0x5a));
  const started = await dr.request.post('/api/records/upload/start', {
    headers: { 'x-medvault-request': '1', origin: baseURL! },
    data: {
      request: {
        node_id: fileId,
        new_node: { node_id: fileId, parent_id: scope.nodes[0].node_id, kind: 'file', wrapped_key: b64(Buffer.alloc(61, 1)), metadata: b64(Buffer.alloc(200, 2)) },
        chunk_size: 4096,
        ciphertext_len: 4096 + 16,
      },
    },
  });
  expect(started.status(), await started.text()).toBe(200);

  // Removing the other doctor: the keys cannot be replaced while the upload runs.
  const row = page.getByRole('region', { name: 'Doctors with access' }).getByRole('listitem').filter({ hasText: leaving.name });
  await row.getByRole('button', { name: `Remove ${leaving.name}'s access` }).click();
  await row.getByRole('button', { name: 'Yes, remove access' }).click();
  await expect(row.getByRole('alert')).toContainText(`${writer.name}'s upload into this folder is still running`, { timeout: 60_000 });
  const panel = page.getByRole('region', { name: 'Replacing keys' });
  await expect(panel.getByRole('note')).toContainText('An upload into Notes has not finished');
  await panel.getByRole('button', { name: `Cancel ${writer.name}'s upload` }).click();
  await expect(page.getByRole('status').filter({ hasText: `${writer.name}'s unfinished upload was cancelled.` })).toBeVisible();

  // Now it goes through, from the list, with one click.
  await panel.getByRole('button', { name: 'Replace the keys of Notes now' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Done: the keys of Notes were replaced.' })).toBeVisible({ timeout: 60_000 });
  await expect(panel).toHaveCount(0);
  const left = await owed(page.request);
  expect(left.folders).toEqual([]);
  expect(left.uploads).toEqual([]);
  await writer.context.close();
  await leaving.context.close();
  expect(problems.csp).toEqual([]);
});

test('a file a doctor added that the patient had not taken in before the share ended goes to the Trash, and the record opens', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(180_000);
  const clock = process.env.MEDVAULT_E2E_CLOCK!;
  const writer = await verifiedDoctor(browser, baseURL!);
  const patient = uniqueName('pat');
  const password = strongPassword('patient');
  await signUp(page, patient, password);
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  const day = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`;
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(writer.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Notes' });
  await share.getByLabel('Permission').selectOption({ label: 'Read and write' });
  await share.getByLabel('End date (optional)').fill(day);
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${writer.name} can now read and add to: Notes.` })).toBeVisible();

  // The doctor adds a letter; the patient does not open their record before the share ends.
  const dr = writer.page;
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Notes` })).toBeVisible();
  const letterPath = join(mkdtempSync(join(tmpdir(), 'medvault-late-')), 'late-letter.txt');
  writeMarkedFile(letterPath, 2_000, `LATE-${Date.now()}`);
  await dr.getByLabel('Add files to Notes').setInputFiles([letterPath]);
  await expect(dr.getByRole('status').filter({ hasText: `Saved “late-letter.txt” in ${patient}'s record, signed by you.` })).toBeVisible({ timeout: 60_000 });

  try {
    // Three days later by the server's clock (and the browser's): the share has ended.
    writeFileSync(clock, String(3 * 24 * 3600));
    await page.clock.setFixedTime(Date.now() + 3 * 24 * 3600 * 1000);
    await expect
      .poll(async () => (await page.request.get('/api/sharing/grants', API)).status(), { timeout: 10_000 })
      .toBe(401);
    await signIn(page, patient, password);
    await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${patient}` })).toBeVisible();
    await openRecords(page);
    const notice = page.getByRole('status').filter({ hasText: 'was moved to the Trash unopened' });
    await expect(notice).toContainText(`A file ${writer.name} wrote after their access ended`);
    await expect(notice).toContainText('Look at it there, and delete it or restore it.');
    await expect(page.getByRole('alert')).toHaveCount(0);
    await page.getByRole('link', { name: /^Trash/ }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Trash' })).toBeVisible();
    await expect(page.getByRole('listitem').filter({ hasText: 'late-letter.txt' })).toBeVisible();
  } finally {
    writeFileSync(clock, '0');
  }
  await writer.context.close();
  expect(problems.csp).toEqual([]);
});
