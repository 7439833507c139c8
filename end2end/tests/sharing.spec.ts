// Sharing with two people at once, each in their own browser context: a doctor
// (invited and verified by an admin) asks a patient for access; the patient
// approves with a folder, the doctor opens it, previews and downloads a file
// whose signature and chunks are checked in the doctor's browser; a second
// request is denied; the patient shares another folder directly after checking
// the doctor's badge and safety number; removing access ends it at once, even
// for a chunk URL the doctor saw before. The patient's Access history shows the
// doctor's reads, and the server's data directory holds no plaintext. A doctor
// can decline a share (after confirming): it leaves their list and serves
// nothing, and the patient sees it declined, in Sharing and in Access history.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import {
  createAdminInvite,
  dataFiles,
  openFromAccountMenu,
  signIn,
  signUp,
  strongPassword,
  uniqueName,
} from '../helpers/accounts';
import { openPatients, openSharing, verifiedDoctor as verifiedDoctorAt } from '../helpers/sharing';
import { downloadHash, openFolder, openRecords, sha256, sha256File, upload, writeMarkedFile } from '../helpers/records';

/** A verified doctor on the suite's shared server. */
function verifiedDoctor(browser: Browser, baseURL: string) {
  return verifiedDoctorAt(browser, baseURL, createAdminInvite(baseURL));
}

test('request, approve, read, deny, share directly, remove: patient and doctor side by side', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(180_000);
  const doctor = await verifiedDoctor(browser, baseURL!);
  const dr = doctor.page;

  // The patient keeps a lab result and a private prescription.
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  const dir = mkdtempSync(join(tmpdir(), 'medvault-share-'));
  const marker = `MARKER-shared-${Date.now()}`;
  const labPath = join(dir, 'full-blood-count.txt');
  writeMarkedFile(labPath, 40_000, marker);
  const privatePath = join(dir, 'private-script.txt');
  writeMarkedFile(privatePath, 2_000, `${marker}-private`);
  await openRecords(page);
  await openFolder(page, 'Lab results');
  await upload(page, [labPath], ['full-blood-count.txt']);
  await openRecords(page);
  await openFolder(page, 'Prescriptions');
  await upload(page, [privatePath], ['private-script.txt']);

  // The doctor asks, with a reason; an empty reason is refused in the page.
  await openPatients(dr);
  await expect(dr.getByText('No patient has shared their record with you yet.')).toBeVisible();
  await dr.getByLabel("Patient's username").fill(patient);
  await dr.getByRole('button', { name: 'Send request' }).click();
  await expect(dr.getByRole('alert').filter({ hasText: 'why you need access' })).toBeVisible();
  await dr.getByLabel('Reason').fill('Review of your blood count before Tuesday');
  await dr.getByRole('button', { name: 'Send request' }).click();
  await expect(dr.getByRole('status').filter({ hasText: `Your request was sent to ${patient}` })).toBeVisible();
  const myRequests = dr.getByRole('region', { name: 'Your requests' });
  await expect(myRequests.getByText('Waiting for an answer')).toBeVisible();
  // Asking again while waiting is refused with words.
  await dr.getByLabel("Patient's username").fill(patient);
  await dr.getByLabel('Reason').fill('Again');
  await dr.getByRole('button', { name: 'Send request' }).click();
  await expect(dr.getByRole('alert').filter({ hasText: 'already asked' })).toBeVisible();

  // The patient approves with one folder.
  await openSharing(page);
  const requests = page.getByRole('region', { name: 'Requests from doctors' });
  await expect(requests).toContainText('Review of your blood count before Tuesday');
  await requests.getByRole('button', { name: 'Approve…' }).click();
  await requests.getByLabel('Share').selectOption({ label: 'Lab results' });
  await requests.getByRole('button', { name: 'Approve and share' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} can now read: Lab results.` })).toBeVisible();
  const grants = page.getByRole('region', { name: 'Doctors with access' });
  const labRow = grants.getByRole('listitem').filter({ hasText: 'Lab results' });
  await expect(labRow).toContainText(doctor.name);
  await expect(labRow).toContainText('Active');

  // The doctor opens it: the lab result, not the prescription.
  await openPatients(dr);
  await expect(myRequests.getByText('Approved')).toBeVisible();
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Lab results` })).toBeVisible();
  const chunkUrls: string[] = [];
  dr.on('request', (r) => {
    if (r.url().includes('/api/records/chunk/')) chunkUrls.push(r.url());
  });
  await expect(dr.getByText('full-blood-count.txt')).toBeVisible();
  await expect(dr.getByText('private-script.txt')).toHaveCount(0);
  const fileActions = dr.getByRole('group', { name: 'Actions for full-blood-count.txt' });
  await fileActions.getByRole('button', { name: 'Preview' }).click();
  const preview = dr.getByRole('dialog', { name: 'full-blood-count.txt' });
  await expect(preview.getByLabel('Text of full-blood-count.txt')).toContainText(marker);
  await preview.getByRole('button', { name: 'Close' }).click();
  await expect(preview).toBeHidden();
  const download = dr.waitForEvent('download');
  await fileActions.getByRole('button', { name: 'Download' }).click();
  const saved = await download;
  expect(saved.suggestedFilename()).toBe('full-blood-count.txt');
  expect(sha256File((await saved.path())!)).toBe(sha256(readFileSync(labPath)));
  expect(chunkUrls.length).toBeGreaterThan(0);
  const chunkPath = new URL(chunkUrls[0]).pathname;
  expect((await dr.request.get(chunkPath, { headers: { 'x-medvault-request': '1' } })).status()).toBe(200);

  // A second request, denied; the doctor sees the answer.
  await openPatients(dr);
  await dr.getByLabel("Patient's username").fill(patient);
  await dr.getByLabel('Reason').fill('Second opinion on imaging');
  await dr.getByRole('button', { name: 'Send request' }).click();
  await expect(dr.getByRole('status').filter({ hasText: 'Your request was sent' })).toBeVisible();
  await openSharing(page);
  await expect(requests).toContainText('Second opinion on imaging');
  await requests.getByRole('button', { name: 'Deny' }).click();
  await expect(page.getByRole('status').filter({ hasText: `You said no to ${doctor.name}` })).toBeVisible();
  await openPatients(dr);
  await expect(myRequests.getByText('Denied')).toBeVisible();

  // Sharing directly: someone who is not a doctor is refused; the doctor shows
  // the verified badge and a safety number before anything is shared.
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(patient);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByRole('alert').filter({ hasText: 'is not a doctor' })).toBeVisible();
  await share.getByLabel("Doctor's username").fill(doctor.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await expect(share.getByText('GMC-1234567')).toBeVisible();
  await expect(share.getByRole('group', { name: `Safety number of ${doctor.name}` })).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Notes' });
  // A date in the past is refused in the page.
  await share.getByLabel('End date (optional)').fill('2020-01-01');
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(share.getByRole('alert').filter({ hasText: 'already passed' })).toBeVisible();
  const nextYear = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await share.getByLabel('End date (optional)').fill(nextYear);
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} can now read: Notes.` })).toBeVisible();
  await expect(grants.getByRole('listitem').filter({ hasText: 'Notes' })).toContainText('Active');

  // The doctor has the Lab results share open when the patient removes it.
  await openPatients(dr);
  const sharedWithMe = dr.getByRole('region', { name: 'Shared with you' });
  await expect(sharedWithMe.getByRole('listitem')).toHaveCount(2);
  await sharedWithMe.getByRole('listitem').filter({ hasText: 'No end date' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Lab results` })).toBeVisible();

  // Removing access to Lab results: said plainly, ended at once, keys replaced.
  await labRow.getByRole('button', { name: `Remove ${doctor.name}'s access` }).click();
  await expect(labRow).toContainText('cannot be taken back');
  await labRow.getByRole('button', { name: 'Yes, remove access' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} no longer has access to: Lab results.` })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Its keys were replaced' })).toBeVisible();
  await expect(grants.getByRole('listitem').filter({ hasText: 'Lab results' })).toContainText('Removed');
  await expect(grants.getByRole('listitem').filter({ hasText: 'Notes' })).toContainText('Active');

  // The doctor gets nothing from that share any more, not even a chunk URL seen before.
  await fileActions.getByRole('button', { name: 'Download' }).click();
  await expect(dr.getByRole('alert').filter({ hasText: 'Your access to this record has ended' })).toBeVisible();
  expect((await dr.request.get(chunkPath, { headers: { 'x-medvault-request': '1' } })).status()).toBe(404);
  // The patient still reads the file, under its new keys.
  await openRecords(page);
  await openFolder(page, 'Lab results');
  expect(await downloadHash(page, 'full-blood-count.txt')).toBe(sha256(readFileSync(labPath)));

  // The patient's Access history names the doctor's reads.
  await openFromAccountMenu(page, 'Access history');
  const history = page.getByRole('table');
  await expect(history.getByRole('row').filter({ hasText: 'Opened the shared record' }).first()).toContainText(doctor.name);
  await expect(history.getByRole('row').filter({ hasText: 'Opened a file' }).filter({ hasText: doctor.name }).first()).toContainText('full-blood-count.txt');
  await expect(history.getByRole('row').filter({ hasText: "Removed a doctor's access" })).toHaveCount(1);

  // Nothing readable reached the server's disk.
  for (const f of dataFiles()) {
    expect(f.bytes.includes(Buffer.from(marker)), f.path).toBe(false);
    expect(f.bytes.includes(Buffer.from('full-blood-count')), f.path).toBe(false);
  }
  await doctor.context.close();
  expect(problems.csp).toEqual([]);
});

test('at its end date a share stops: the doctor sees it expired and gets nothing', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(180_000);
  const clock = process.env.MEDVAULT_E2E_CLOCK!;
  const doctor = await verifiedDoctor(browser, baseURL!);
  const dr = doctor.page;
  const patient = uniqueName('pat');
  const password = strongPassword('patient');
  await signUp(page, patient, password);
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Imaging' });
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  const day = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`;
  await share.getByLabel('End date (optional)').fill(day);
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} can now read: Imaging.` })).toBeVisible();
  const row = page.getByRole('region', { name: 'Doctors with access' }).getByRole('listitem').filter({ hasText: 'Imaging' });
  await expect(row).toContainText('Active');

  await openPatients(dr);
  const item = dr.getByRole('region', { name: 'Shared with you' }).getByRole('listitem');
  await expect(item).toContainText('Until');
  const link = item.getByRole('link', { name: patient });
  const grantPath = (await link.getAttribute('href'))!;
  await link.click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Imaging` })).toBeVisible();
  await expect(dr.getByText(/Shared with you to read\. Until/)).toBeVisible();

  try {
    // Three days later by the server's clock: every session has ended too.
    writeFileSync(clock, String(3 * 24 * 3600));
    await expect
      .poll(async () => (await dr.request.get(`/api/sharing/shared?grant_id=${grantPath.split('/').pop()}`, { headers: { 'x-medvault-request': '1' } })).status(), {
        timeout: 10_000,
      })
      .toBe(401);
    await signIn(dr, doctor.name, strongPassword('doctor'));
    await openPatients(dr);
    await expect(item).toContainText('Expired');
    await expect(item.getByRole('link')).toHaveCount(0);
    expect((await dr.request.get(`/api/sharing/shared?grant_id=${grantPath.split('/').pop()}`, { headers: { 'x-medvault-request': '1' } })).status()).toBe(404);
    await signIn(page, patient, password);
    await openSharing(page);
    await expect(row).toContainText('Expired');
    await expect(row.getByRole('button', { name: /Remove/ })).toHaveCount(0);
  } finally {
    writeFileSync(clock, '0');
  }
  await doctor.context.close();
  expect(problems.csp).toEqual([]);
});

test('a doctor with read and write adds a file the patient reads as signed by them; a read-only doctor cannot write', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(240_000);
  const writer = await verifiedDoctor(browser, baseURL!);
  const reader = await verifiedDoctor(browser, baseURL!);
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));

  // The patient shares Notes: to read and write with one doctor, to read with the other.
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  for (const [doctor, permission, said] of [
    [writer.name, 'Read and write', 'can now read and add to'],
    [reader.name, 'Read only', 'can now read'],
  ]) {
    await share.getByLabel("Doctor's username").fill(doctor);
    await share.getByRole('button', { name: 'Look up' }).click();
    await expect(share.getByText('Verified doctor')).toBeVisible();
    await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Notes' });
    await share.getByLabel('Permission').selectOption({ label: permission });
    await share.getByRole('button', { name: 'Share', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: `${doctor} ${said}: Notes.` })).toBeVisible();
  }
  const grants = page.getByRole('region', { name: 'Doctors with access' });
  await expect(grants.getByRole('listitem').filter({ hasText: writer.name })).toContainText('Read and write');

  // The writing doctor adds a letter to the shared folder, encrypted and signed in their browser.
  const dr = writer.page;
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Notes` })).toBeVisible();
  await expect(dr.getByText(/Shared with you to read and to add to/)).toBeVisible();
  const dir = mkdtempSync(join(tmpdir(), 'medvault-write-'));
  const marker = `MARKER-by-doctor-${Date.now()}`;
  const letterPath = join(dir, 'referral-letter.txt');
  writeMarkedFile(letterPath, 30_000, marker);
  await dr.getByLabel('Add files to Notes').setInputFiles([letterPath]);
  await expect(dr.getByRole('status').filter({ hasText: `Saved “referral-letter.txt” in ${patient}'s record, signed by you.` })).toBeVisible({ timeout: 60_000 });
  const drFile = dr.getByRole('listitem').filter({ hasText: 'referral-letter.txt' });
  await expect(drFile).toContainText(`Added by ${writer.name}`);
  // The doctor reads it back through the same checks as any reader.
  await dr.getByRole('group', { name: 'Actions for referral-letter.txt' }).getByRole('button', { name: 'Preview' }).click();
  const drPreview = dr.getByRole('dialog', { name: 'referral-letter.txt' });
  await expect(drPreview.getByLabel('Text of referral-letter.txt')).toContainText(marker);
  await drPreview.getByRole('button', { name: 'Close' }).click();

  // The patient sees who added it, and their browser accepts the doctor's signature.
  await openRecords(page);
  await openFolder(page, 'Notes');
  const row = page.getByRole('listitem').filter({ hasText: 'referral-letter.txt' });
  await expect(row).toContainText(`Added by ${writer.name}`);
  expect(await downloadHash(page, 'referral-letter.txt')).toBe(sha256(readFileSync(letterPath)));
  // The export checks the doctor's version the same way and includes it.
  const exporting = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export my record' }).click();
  const zipPath = (await (await exporting).path())!;
  const entry = execFileSync(
    'python3',
    ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = [x for x in z.namelist() if x.endswith("/Notes/referral-letter.txt")]; sys.stdout.buffer.write(z.read(n[0]))', zipPath],
  );
  expect(sha256(entry)).toBe(sha256(readFileSync(letterPath)));

  // The read-only doctor sees the letter but no way to change anything,
  // and the server refuses a write sent by hand.
  const ro = reader.page;
  await openPatients(ro);
  await ro.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(ro.getByRole('heading', { level: 1, name: `${patient}: Notes` })).toBeVisible();
  await expect(ro.getByText(/Shared with you to read\. /)).toBeVisible();
  await expect(ro.getByText('referral-letter.txt')).toBeVisible();
  await expect(ro.getByRole('listitem').filter({ hasText: 'referral-letter.txt' })).toContainText(`Added by ${writer.name}`);
  await expect(ro.getByText('Add files here')).toHaveCount(0);
  await expect(ro.getByRole('button', { name: 'Delete' })).toHaveCount(0);
  for (const write of ['Rename', 'Move', 'New folder']) {
    await expect(ro.getByRole('button', { name: write })).toHaveCount(0);
  }
  await expect(ro.getByText('Upload new version')).toHaveCount(0);
  const downloadId = (await ro.getByRole('group', { name: 'Actions for referral-letter.txt' }).getByRole('button', { name: 'Download' }).getAttribute('id'))!;
  const nodeId = downloadId.replace(/^download-/, '');
  const refused = await ro.request.post('/api/records/node/trash', {
    data: { request: { node_id: nodeId, revision: 1 } },
  });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).code).toBe('forbidden');

  // The writing doctor moves the letter to the patient's Trash; the patient's history names them.
  await drFile.getByRole('button', { name: 'Delete' }).click();
  await dr.getByRole('button', { name: 'Move to Trash' }).click();
  await expect(dr.getByRole('status').filter({ hasText: `“referral-letter.txt” is in ${patient}'s Trash` })).toBeVisible();
  await expect(dr.getByRole('group', { name: 'Actions for referral-letter.txt' })).toHaveCount(0);
  await openFromAccountMenu(page, 'Access history');
  const history = page.getByRole('table');
  await expect(history.getByRole('row').filter({ hasText: writer.name }).first()).toBeVisible();

  for (const f of dataFiles()) {
    expect(f.bytes.includes(Buffer.from(marker)), f.path).toBe(false);
  }
  await writer.context.close();
  await reader.context.close();
  expect(problems.csp).toEqual([]);
});

test('emergency access: a refused request opens nothing; after the waiting period without refusal the contact reads', async ({
  page,
  browser,
  problems,
}) => {
  test.setTimeout(240_000);
  const clock = process.env.MEDVAULT_E2E_CLOCK!;
  const patient = uniqueName('pat');
  const password = strongPassword('patient');
  await signUp(page, patient, password);
  const dir = mkdtempSync(join(tmpdir(), 'medvault-emergency-'));
  const marker = `MARKER-emergency-${Date.now()}`;
  const allergiesPath = join(dir, 'allergies.txt');
  writeMarkedFile(allergiesPath, 3_000, marker);
  await openRecords(page);
  await openFolder(page, 'Notes');
  await upload(page, [allergiesPath], ['allergies.txt']);

  // A relative with their own (patient) account is the emergency contact.
  const kinContext = await browser.newContext();
  const kin = await kinContext.newPage();
  const kinName = uniqueName('kin');
  const kinPassword = strongPassword('kin');
  await signUp(kin, kinName, kinPassword);

  await openSharing(page);
  const section = page.getByRole('region', { name: 'Emergency contact' });
  await section.getByLabel("Contact's username").fill(kinName);
  await section.getByRole('button', { name: 'Look up contact' }).click();
  await expect(section.getByRole('group', { name: `Safety number of ${kinName}` })).toBeVisible();
  await section.getByLabel('Waiting period').selectOption({ label: '1 hour' });
  await section.getByRole('button', { name: 'Name as emergency contact' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${kinName} is your emergency contact` })).toBeVisible();
  const row = page.getByRole('region', { name: 'Doctors with access' }).getByRole('listitem').filter({ hasText: kinName });
  await expect(row).toContainText('Emergency contact');
  await expect(row).toContainText('Not in use');

  // The contact asks; the patient is shown the request and refuses it.
  await kin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Emergency' }).click();
  await expect(kin.getByRole('heading', { level: 1, name: 'Emergency access' })).toBeVisible();
  const record = kin.getByRole('list', { name: 'Records you can ask to open' }).getByRole('listitem').filter({ hasText: patient });
  await record.getByLabel('Why you need the record now').fill('She collapsed at home; the ambulance asks about allergies');
  await record.getByRole('button', { name: 'Ask for emergency access' }).click();
  await expect(kin.getByRole('status').filter({ hasText: `${patient} has been told of your request` })).toBeVisible();
  await expect(record).toContainText('Emergency request waiting');

  await openSharing(page);
  const alert = page.getByRole('alert').filter({ hasText: `${kinName} asked for emergency access` });
  await expect(alert).toContainText('the ambulance asks about allergies');
  await alert.getByRole('button', { name: 'Refuse emergency access' }).click();
  await expect(page.getByRole('status').filter({ hasText: `You refused ${kinName}'s emergency request` })).toBeVisible();
  await expect(row).toContainText('Last request refused');

  await kin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await kin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Emergency' }).click();
  await expect(record).toContainText('Last request refused');
  await expect(record.getByRole('link', { name: `Open ${patient}'s record` })).toHaveCount(0);

  // Asked again and left unanswered past the hour: the record opens to the contact, to read.
  await record.getByLabel('Why you need the record now').fill('Admitted to hospital, unconscious');
  await record.getByRole('button', { name: 'Ask for emergency access' }).click();
  await expect(kin.getByRole('status').filter({ hasText: 'has been told of your request' })).toBeVisible();
  try {
    writeFileSync(clock, String(2 * 3600));
    await expect
      .poll(async () => (await kin.request.get('/api/sharing/grants', { headers: { 'x-medvault-request': '1' } })).status(), { timeout: 10_000 })
      .toBe(401);
    await signIn(kin, kinName, kinPassword);
    await kin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Emergency' }).click();
    await expect(record).toContainText('Open since');
    await record.getByRole('link', { name: `Open ${patient}'s record` }).click();
    await expect(kin.getByRole('heading', { level: 1, name: `${patient}: whole record` })).toBeVisible();
    await expect(kin.getByText(/Shared with you to read\. /)).toBeVisible();
    await expect(kin.getByText('Add files here')).toHaveCount(0);
    await kin.getByRole('group', { name: 'Actions for allergies.txt' }).getByRole('button', { name: 'Preview' }).click();
    const preview = kin.getByRole('dialog', { name: 'allergies.txt' });
    await expect(preview.getByLabel('Text of allergies.txt')).toContainText(marker);
    await preview.getByRole('button', { name: 'Close' }).click();

    // Every step is in the patient's Access history.
    await signIn(page, patient, password);
    await openFromAccountMenu(page, 'Access history');
    const history = page.getByRole('table');
    for (const step of ['Named an emergency contact', 'Asked for emergency access', 'Refused emergency access', 'Opened the record in an emergency']) {
      await expect(history.getByRole('row').filter({ hasText: step }).first()).toBeVisible();
    }
  } finally {
    writeFileSync(clock, '0');
  }
  await kinContext.close();
  expect(problems.csp).toEqual([]);
});

test('a doctor declines a share: it leaves their list, serves nothing, and the patient sees it declined', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(180_000);
  const doctor = await verifiedDoctor(browser, baseURL!);
  const dr = doctor.page;
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Imaging' });
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} can now read: Imaging.` })).toBeVisible();
  const row = page.getByRole('region', { name: 'Doctors with access' }).getByRole('listitem').filter({ hasText: 'Imaging' });
  await expect(row).toContainText('Active');

  await openPatients(dr);
  const shared = dr.getByRole('region', { name: 'Shared with you' });
  const item = shared.getByRole('listitem').filter({ hasText: patient });
  const grantPath = (await item.getByRole('link', { name: patient }).getAttribute('href'))!;
  const grantId = grantPath.split('/').pop();

  // Declining asks first; keeping the share changes nothing.
  await item.getByRole('button', { name: `Decline ${patient}'s share` }).click();
  const confirm = item.getByRole('group', { name: 'Confirm declining' });
  await expect(confirm).toContainText('You will no longer be able to open it');
  await confirm.getByRole('button', { name: 'Keep the share' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(item.getByRole('link', { name: patient })).toBeVisible();

  await item.getByRole('button', { name: `Decline ${patient}'s share` }).click();
  await confirm.getByRole('button', { name: 'Yes, decline' }).click();
  await expect(dr.getByRole('status').filter({ hasText: `You declined ${patient}'s share.` })).toBeVisible();
  await expect(shared.getByRole('listitem')).toHaveCount(0);
  await expect(shared).toContainText('No patient has shared their record with you yet.');
  expect((await dr.request.get(`/api/sharing/shared?grant_id=${grantId}`, { headers: { 'x-medvault-request': '1' } })).status()).toBe(404);

  // The patient sees it declined, with nothing left to remove, and the
  // Access history names the doctor.
  await openSharing(page);
  await expect(row).toContainText('Declined by the doctor');
  await expect(row.getByRole('button', { name: /Remove/ })).toHaveCount(0);
  await openFromAccountMenu(page, 'Access history');
  const history = page.getByRole('table');
  await expect(history.getByRole('row').filter({ hasText: 'Declined a share' })).toHaveCount(1);
  await expect(history.getByRole('row').filter({ hasText: 'Declined a share' })).toContainText(doctor.name);
  await expect(history.getByRole('row').filter({ hasText: 'Declined a share' })).toContainText('Imaging');

  await doctor.context.close();
  expect(problems.csp).toEqual([]);
});
