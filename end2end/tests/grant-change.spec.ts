// Editable shares (issue 21): the patient gives a doctor's share a later end
// date and write access (one signed change, no key replacement), then takes
// write access back (a change that gives less: the folder's keys are
// replaced, with a progress bar). The doctor, in their own browser, sees
// each change and keeps reading; a past end date is refused and changes
// nothing. Patient and doctor side by side.
import { writeFileSync } from 'node:fs';
import type { Browser } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { createAdminInvite, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { openPatients, openSharing, verifiedDoctor as verifiedDoctorAt } from '../helpers/sharing';
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
