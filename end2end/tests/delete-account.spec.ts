// A patient deletes their account (issue 21): refused with a wrong
// password or username, saying nothing was deleted; then, with both right,
// the account, the record and the shares are gone: the chunk files of the
// patient's upload leave the data directory, the doctor's access ends, and
// the old password signs in to nothing. Patient and doctor side by side.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { openFromAccountMenu, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { invitedDoctor, openPatients, shareFolder } from '../helpers/sharing';
import { openFolder, openRecords, upload, writeRandomFile } from '../helpers/records';

/** The chunk files of the server's data directory, by path. */
function chunkFiles(): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.add(p);
    }
  };
  walk(join(process.env.MEDVAULT_E2E_DATA!, 'blob-files'));
  return out;
}

async function deleteWith(page: Page, username: string, password: string) {
  const card = page.getByRole('region', { name: 'Delete your account' });
  await card.getByLabel('Your username, to confirm').fill(username);
  await card.getByLabel('Password').fill(password);
  await card.getByRole('button', { name: 'Delete my account and record' }).click();
  return card;
}

test('a patient deletes their account: the record, the shares and the chunk files go', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}, info) => {
  test.setTimeout(180_000);
  const doctor = await invitedDoctor(browser, baseURL!);
  const dr = doctor.page;
  const patient = uniqueName('pat');
  const password = strongPassword('patient');
  await signUp(page, patient, password);
  await openRecords(page);
  await openFolder(page, 'Notes');
  const before = chunkFiles();
  const path = info.outputPath('scan.bin');
  writeRandomFile(path, 300_000);
  await upload(page, [path], ['scan.bin']);
  const mine = [...chunkFiles()].filter((f) => !before.has(f));
  expect(mine.length).toBeGreaterThan(0);

  await shareFolder(page, doctor.name, 'Notes');
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByText('scan.bin')).toBeVisible();

  // Refused, nothing deleted: a wrong password, then a wrong username.
  await openFromAccountMenu(page, 'Account');
  let card = await deleteWith(page, patient, 'not my password at all');
  await expect(card.getByRole('alert')).toContainText('The password is not right');
  card = await deleteWith(page, `${patient}x`, password);
  await expect(card.getByRole('alert')).toContainText('Type your username exactly as shown to confirm. Nothing was deleted.');
  expect([...chunkFiles()].filter((f) => mine.includes(f))).toHaveLength(mine.length);

  // Both right: gone.
  await deleteWith(page, patient, password);
  await expect(page).toHaveURL(/\/signin/);
  await expect(page.getByRole('status').filter({ hasText: 'Your account and your record are deleted' })).toContainText(
    'The one share you had made ended with it.',
  );
  expect([...chunkFiles()].filter((f) => mine.includes(f))).toEqual([]);

  // The doctor's access ended with it.
  await dr.getByRole('link', { name: 'Back to your patients' }).click();
  await expect(dr.getByRole('heading', { level: 1, name: 'Patients' })).toBeVisible();
  await expect(dr.getByRole('link', { name: patient })).toHaveCount(0);

  // The old password opens nothing.
  await page.getByLabel('Username', { exact: true }).fill(patient);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('The username or password is not right.');
});
