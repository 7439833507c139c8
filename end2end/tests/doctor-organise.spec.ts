// Doctors write and organise under a read-and-write grant (issue 21): a
// doctor adds a vital reading, makes a folder, renames the patient's letter
// and moves it into that folder, each signed in the doctor's browser; the
// patient's browser takes every change in and names the doctor. Patient and
// doctor in their own browser contexts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { createAdminInvite, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { itemList, openFolder, openRecords, upload } from '../helpers/records';
import { openPatients, openSharing, verifiedDoctor } from '../helpers/sharing';
import { enterReading } from '../helpers/vitals';

async function shareWholeRecord(page: Page, doctor: string) {
  await openSharing(page);
  const form = page.getByRole('region', { name: 'Share with a doctor' });
  await form.getByLabel("Doctor's username").fill(doctor);
  await form.getByRole('button', { name: 'Look up' }).click();
  await expect(form.getByText('Verified doctor')).toBeVisible();
  await form.getByLabel('Share', { exact: true }).selectOption({ label: 'Whole record' });
  await form.getByLabel('Permission').selectOption({ label: 'Read and write' });
  await form.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor} can now read and add to: Whole record.` })).toBeVisible();
}

test('a doctor with read and write access adds a reading, makes a folder, renames and moves; the patient sees each, signed by the doctor', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(300_000);
  const doctor = await verifiedDoctor(browser, baseURL!, createAdminInvite(baseURL!));
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));

  // The patient's own reading and letter.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  const own = page.getByRole('region', { name: 'Add a reading' });
  await enterReading(own, 'Pulse', { Pulse: '68' }, '2026-11-30T07:45');
  await expect(own.getByRole('status')).toContainText('Saved: Pulse');
  const dir = mkdtempSync(join(tmpdir(), 'medvault-organise-'));
  writeFileSync(join(dir, 'letter.txt'), 'Referral to cardiology, written by the patient.');
  await openRecords(page);
  await openFolder(page, 'Notes');
  await upload(page, [join(dir, 'letter.txt')], ['letter.txt']);
  await shareWholeRecord(page, doctor.name);

  // The doctor: a reading of their own, shown beside the patient's.
  const dr = doctor.page;
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: whole record` })).toBeVisible();
  await enterReading(dr.getByRole('region', { name: 'Add a reading' }), 'Blood pressure',
    { 'Systolic (upper number)': '142', 'Diastolic (lower number)': '91' }, '2026-12-01T10:20');
  await expect(dr.getByRole('status').filter({ hasText: 'Saved: Blood pressure 142/91 mmHg' })).toContainText('Signed by you');
  const drTable = dr.getByRole('table', { name: "The patient's vital-sign readings, newest first" });
  await expect(drTable.getByRole('columnheader', { name: 'Recorded by' })).toBeVisible();
  await expect(drTable.getByRole('row').nth(1)).toContainText('142/91 mmHg');
  await expect(drTable.getByRole('row').nth(1)).toContainText('You');
  await expect(drTable.getByRole('row').nth(2)).toContainText('Patient');

  // A folder in Notes, then the patient's letter renamed and moved into it.
  await dr.getByRole('button', { name: 'New folder in Notes' }).click();
  const named = dr.getByRole('dialog', { name: 'New folder in Notes' });
  await named.getByLabel('Folder name').fill('Cardiology');
  await named.getByRole('button', { name: 'Create folder' }).click();
  await expect(dr.getByRole('status').filter({ hasText: 'Folder “Cardiology” created.' })).toBeVisible();
  await dr.getByRole('group', { name: 'Organise letter.txt' }).getByRole('button', { name: 'Rename' }).click();
  const rename = dr.getByRole('dialog', { name: 'Rename letter.txt' });
  await expect(rename.getByLabel('New name')).toHaveValue('letter.txt');
  await rename.getByLabel('New name').fill('cardiology-referral.txt');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await expect(dr.getByRole('status').filter({ hasText: '“letter.txt” is now called “cardiology-referral.txt”.' })).toBeVisible();
  await dr.getByRole('group', { name: 'Organise cardiology-referral.txt' }).getByRole('button', { name: 'Move' }).click();
  const moving = dr.getByRole('dialog', { name: 'Move cardiology-referral.txt' });
  const target = moving.getByLabel('Move to');
  // Only folders of the shared part are offered.
  const place = (await target.locator('option', { hasText: 'Cardiology' }).textContent())!;
  expect(place).toMatch(/Notes \/ Cardiology$/);
  await target.selectOption({ label: place });
  await moving.getByRole('button', { name: 'Move' }).click();
  await expect(dr.getByRole('status').filter({ hasText: `“cardiology-referral.txt” was moved to ${place}.` })).toBeVisible();
  const cardiology = dr.getByRole('listitem').filter({ has: dr.getByText('Cardiology', { exact: true }) }).first();
  await expect(cardiology).toContainText('cardiology-referral.txt');

  // The patient's browser takes the doctor's changes in and names the doctor.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  const table = page.getByRole('table', { name: 'Your vital-sign readings, newest first' });
  await expect(table.getByRole('row').nth(1)).toContainText('142/91 mmHg');
  await expect(table.getByRole('row').nth(1)).toContainText(doctor.name);
  await expect(table.getByRole('row').nth(2)).toContainText('You');
  await openRecords(page);
  await openFolder(page, 'Notes');
  await expect(itemList(page).getByRole('link', { name: 'letter.txt', exact: true })).toHaveCount(0);
  await openFolder(page, 'Cardiology');
  await expect(itemList(page)).toContainText('cardiology-referral.txt');
  await expect(page.getByRole('alert')).toHaveCount(0);
});
