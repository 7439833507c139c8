// Editable shares (issue 21): the patient gives a doctor's share a later end
// date and write access (one signed change, no key replacement), then takes
// write access back (a change that gives less: the folder's keys are
// replaced, with a progress bar). The doctor, in their own browser, sees
// each change and keeps reading; a past end date is refused and changes
// nothing. Patient and doctor side by side. Then a lying server serves a
// share as it was before a change (an earlier signed revision, rewritten
// with `page.route`): both browsers refuse it.
import { writeFileSync } from 'node:fs';
import type { Browser } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { createAdminInvite, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import {
  doctorAndPatient,
  openPatients,
  openSharing,
  shareFolder,
  verifiedDoctor as verifiedDoctorAt,
} from '../helpers/sharing';
import { downloadHash, openFolder, openRecords, sha256File, upload } from '../helpers/records';

function verifiedDoctor(browser: Browser, baseURL: string) {
  return verifiedDoctorAt(browser, baseURL, createAdminInvite(baseURL));
}

function dayFromNow(days: number): string {
  const d = new Date(Date.now() + days * 24 * 3600 * 1000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

test('a share gets a later end and write access, then loses write access with new keys', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}, info) => {
  test.setTimeout(240_000);
  const doctor = await verifiedDoctor(browser, baseURL!);
  const dr = doctor.page;
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  await openRecords(page);
  await openFolder(page, 'Notes');
  const path = info.outputPath('visit-notes.txt');
  writeFileSync(path, 'Knee: swelling down, keep the brace two more weeks.');
  await upload(page, [path], ['visit-notes.txt']);

  // Read only, for three days.
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Notes' });
  await share.getByLabel('End date (optional)').fill(dayFromNow(3));
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} can now read: Notes.` })).toBeVisible();
  const row = page.getByRole('region', { name: 'Doctors with access' }).getByRole('listitem').filter({ hasText: doctor.name });

  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByText(/Shared with you to read\. Until/)).toBeVisible();

  // A past end date is refused and changes nothing.
  await row.getByRole('button', { name: `Change ${doctor.name}'s share` }).click();
  const form = row.getByRole('form', { name: `Change ${doctor.name}'s share` });
  await expect(form.getByLabel('End date')).toHaveValue(dayFromNow(3));
  await form.getByLabel('End date').fill(dayFromNow(-2));
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect(form.getByRole('alert')).toContainText('The end date has already passed');
  await expect(row).toContainText('Read');

  // More: thirty days and write access. No keys are replaced for that.
  await form.getByLabel('End date').fill(dayFromNow(30));
  await form.getByLabel('Permission').selectOption({ label: 'Read and write' });
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} now has: read and write, until` })).toBeVisible();
  await expect(row).toContainText('Read and write');
  await expect(page.getByRole('progressbar', { name: "Replacing the folder's keys" })).toHaveCount(0);

  await dr.getByRole('link', { name: 'Back to your patients' }).click();
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByText(/Shared with you to read and to add to/)).toBeVisible();
  await expect(dr.getByText('Add files here')).toBeVisible();

  // Less: write access taken back. The folder's keys are replaced, keeping the share.
  await row.getByRole('button', { name: `Change ${doctor.name}'s share` }).click();
  await row.getByRole('form', { name: `Change ${doctor.name}'s share` }).getByLabel('Permission').selectOption({ label: 'Read only' });
  await row.getByRole('form', { name: `Change ${doctor.name}'s share` }).getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('status').filter({ hasText: "The folder's keys were replaced" })).toBeVisible({ timeout: 60_000 });
  await expect(row).toContainText('Read');
  await expect(row).not.toContainText('Read and write');

  // The doctor reads with the new key, and can no longer write.
  await dr.getByRole('link', { name: 'Back to your patients' }).click();
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByText(/Shared with you to read\. Until/)).toBeVisible();
  await expect(dr.getByText('Add files here')).toHaveCount(0);
  expect(await downloadHash(dr, 'visit-notes.txt')).toBe(sha256File(path));
});

test("a share served as it was before the patient's change is refused by both browsers", async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(240_000);
  const { doctor, patient } = await doctorAndPatient(page, browser, baseURL!);
  const dr = doctor.page;
  await shareFolder(page, doctor.name, 'Notes');

  // What the server answers now, with the share as made (revision 0).
  const listed = page.waitForResponse((r) => r.url().includes('/api/sharing/grants'));
  await openSharing(page);
  const madeList = await (await listed).text();
  await openPatients(dr);
  const served = dr.waitForResponse((r) => r.url().includes('/api/sharing/shared'));
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  const madeShare = await (await served).text();
  await expect(dr.getByText(/Shared with you to read\./)).toBeVisible();

  // The patient gives write access: revision 1, no key replacement.
  const row = page.getByRole('region', { name: 'Doctors with access' }).getByRole('listitem').filter({ hasText: doctor.name });
  await row.getByRole('button', { name: `Change ${doctor.name}'s share` }).click();
  const form = row.getByRole('form', { name: `Change ${doctor.name}'s share` });
  await form.getByLabel('Permission').selectOption({ label: 'Read and write' });
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} now has: read and write` })).toBeVisible();

  // The doctor's browser sees the change once, and remembers it.
  await dr.getByRole('link', { name: 'Back to your patients' }).click();
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByText('Add files here')).toBeVisible();

  // The server serves the share as it was made: signed by the patient, but
  // older than what this browser saw. Nothing opens.
  await dr.route('**/api/sharing/shared?*', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: madeShare }),
  );
  await dr.getByRole('link', { name: 'Back to your patients' }).click();
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('alert')).toContainText(
    'The server sent this share as it was before the patient last changed it, so it was not opened.',
  );
  await expect(dr.getByText('Add files here')).toHaveCount(0);

  // The patient's Sharing page, given the list from before the change.
  await page.route('**/api/sharing/grants*', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: madeList }),
  );
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sharing' }).click();
  await expect(page.getByRole('alert')).toContainText('as it was before you last changed it');
  await expect(page.getByRole('region', { name: 'Doctors with access' })).toHaveCount(0);
});
