// Single-document shares (issue 21): the patient shares one file, not its
// folder; the doctor (in a browser of their own) opens that file and sees
// nothing beside it, downloads it and gets the same bytes; the patient
// removes the share, the file's keys are replaced, and the doctor's share is
// gone. The server never learns the file's name or content.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '../fixtures/app';
import { dataFiles } from '../helpers/accounts';
import { doctorAndPatient, openPatients, openSharing, shareItem } from '../helpers/sharing';
import { actions, downloadHash, openFolder, openRecords, sha256File, upload, writeMarkedFile } from '../helpers/records';

test('a patient shares one file; the doctor opens that file alone; removing it replaces its keys', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(180_000);
  const { doctor, patient } = await doctorAndPatient(page, browser, baseURL!);
  const dir = mkdtempSync(join(tmpdir(), 'medvault-share-file-'));
  const marker = `one-file-${Date.now()}`;
  const shared = join(dir, 'ferritin.txt');
  writeMarkedFile(shared, 30_000, marker);
  const beside = join(dir, 'private-letter.txt');
  writeMarkedFile(beside, 3_000, `${marker}-beside`);
  await openRecords(page);
  await openFolder(page, 'Lab results');
  await upload(page, [shared], ['ferritin.txt']);
  await upload(page, [beside], ['private-letter.txt']);

  // Files are offered beside folders, and say they are files.
  await shareItem(page, doctor.name, 'Lab results / ferritin.txt (file)', 'Lab results / ferritin.txt', false);
  await expect(page.getByRole('region', { name: 'Doctors with access' })).toContainText('Lab results / ferritin.txt');

  // The doctor sees the one file, and nothing of the folder around it.
  const dr = doctor.page;
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: ferritin.txt` })).toBeVisible();
  const card = dr.getByRole('region', { name: 'Shared file' });
  await expect(card.getByRole('listitem')).toHaveCount(1);
  await expect(card).toContainText('ferritin.txt');
  await expect(dr.getByText('private-letter.txt')).toHaveCount(0);
  expect(await downloadHash(dr, 'ferritin.txt')).toBe(sha256File(shared));
  await expect(actions(dr, 'ferritin.txt').getByRole('button', { name: 'Download' })).toBeVisible();

  // Neither the name nor the content is anywhere in the data directory.
  for (const f of dataFiles()) {
    expect(f.bytes.includes(Buffer.from(marker)), f.path).toBe(false);
    expect(f.bytes.includes(Buffer.from('ferritin.txt')), f.path).toBe(false);
  }

  // Removing the share replaces the file's keys; the doctor's share is gone.
  await openSharing(page);
  const doctors = page.getByRole('region', { name: 'Doctors with access' });
  await doctors.getByRole('button', { name: `Remove ${doctor.name}'s access` }).click();
  await expect(doctors.getByRole('group', { name: 'Confirm removal' })).toContainText(
    `Remove ${doctor.name}'s access to Lab results / ferritin.txt?`,
  );
  await doctors.getByRole('button', { name: 'Yes, remove access' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} no longer has access to: Lab results / ferritin.txt. Its keys were replaced` })).toBeVisible({ timeout: 60_000 });
  await openPatients(dr);
  await expect(dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient })).toHaveCount(0);

  // The patient's own copy opens as before, under its new key.
  await openRecords(page);
  await openFolder(page, 'Lab results');
  expect(await downloadHash(page, 'ferritin.txt')).toBe(sha256File(shared));
});

test('a doctor with write access to one file adds a version of it, and nothing else', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(180_000);
  const { doctor, patient } = await doctorAndPatient(page, browser, baseURL!);
  const dir = mkdtempSync(join(tmpdir(), 'medvault-share-file-rw-'));
  const first = join(dir, 'care-plan.txt');
  writeMarkedFile(first, 5_000, `plan-v1-${Date.now()}`);
  await openRecords(page);
  await openFolder(page, 'Notes');
  await upload(page, [first], ['care-plan.txt']);

  await shareItem(page, doctor.name, 'Notes / care-plan.txt (file)', 'Notes / care-plan.txt', true);

  const dr = doctor.page;
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: care-plan.txt` })).toBeVisible();
  // A new version, yes; a new file, a folder, renaming, moving or deleting, no.
  await expect(dr.getByText('Add files here')).toHaveCount(0);
  for (const write of ['Rename', 'Move', 'Delete', 'New folder']) {
    await expect(dr.getByRole('button', { name: write })).toHaveCount(0);
  }
  const second = join(mkdtempSync(join(tmpdir(), 'medvault-share-file-v2-')), 'care-plan.txt');
  writeMarkedFile(second, 6_000, `plan-v2-${Date.now()}`);
  await dr.getByLabel('Upload a new version of care-plan.txt').setInputFiles([second]);
  await expect(
    dr.getByRole('status').filter({ hasText: `Saved “care-plan.txt” in ${patient}'s record, signed by you.` }),
  ).toBeVisible({ timeout: 60_000 });

  // The patient's browser takes the doctor's version in, signed by them.
  await openRecords(page);
  await openFolder(page, 'Notes');
  await expect(page.getByRole('listitem').filter({ hasText: 'care-plan.txt' })).toContainText(`Added by ${doctor.name}`);
  expect(await downloadHash(page, 'care-plan.txt')).toBe(sha256File(second));
});
