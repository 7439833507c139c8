// Not a test: screenshots of the sharing pages (patient and doctor) at desktop
// and phone width for a person to look at (`npx playwright test --config
// playwright.bench.config.ts sharing-screens`; SHOTS_DIR sets where they go).
import { test, expect, type Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { certifyAdmin, createAdminInvite, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { openFolder, openRecords, upload } from '../helpers/records';

const out = process.env.SHOTS_DIR ?? '/tmp/shots';

async function both(page: Page, name: string) {
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.screenshot({ path: `${out}/${name}.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${out}/${name}-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1100, height: 900 });
}

async function nav(page: Page, name: string) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
}

test('screenshots of the sharing pages', async ({ browser, baseURL }, info) => {
  test.setTimeout(180_000);
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signUp(admin, uniqueName('admin'), strongPassword('admin'), createAdminInvite(baseURL!));
  // Needs an app built with the org key's fingerprint (as scripts/test.sh does).
  await certifyAdmin(admin);
  await admin.getByLabel('Role').selectOption('doctor');
  await admin.getByRole('button', { name: 'Create invite link' }).click();
  const link = (await admin.locator('.invite-link__url code').innerText()).trim();

  const dr = await (await browser.newContext()).newPage();
  const drName = uniqueName('dr.okafor');
  await signUp(dr, drName, strongPassword('doctor'), link);
  await admin.getByRole('link', { name: 'Home' }).click();
  await admin.getByRole('link', { name: 'Admin' }).click();
  await admin.getByRole('button', { name: `Verify ${drName}` }).click();
  await admin.getByLabel('Licence id').fill('GMC-7654321');
  await admin.getByRole('button', { name: 'Show safety number' }).click();
  await admin.getByRole('button', { name: 'Sign certificate' }).click();
  await adminContext.close();

  const page = await (await browser.newContext()).newPage();
  const maria = uniqueName('maria');
  await signUp(page, maria, strongPassword('shots'));
  await openRecords(page);
  await openFolder(page, 'Lab results');
  const txt = info.outputPath('Ferritin, March.txt');
  writeFileSync(txt, 'Ferritin 18 ug/L (low). Repeat in 3 months.\n');
  await upload(page, [txt], ['Ferritin, March.txt']);

  await nav(dr, 'Patients');
  await both(dr, 'patients-empty');
  await dr.getByLabel("Patient's username").fill(maria);
  await dr.getByLabel('Reason').fill('Follow-up of your ferritin before our appointment on Tuesday.');
  await dr.getByRole('button', { name: 'Send request' }).click();
  await expect(dr.getByText('Waiting for an answer')).toBeVisible();

  await nav(page, 'Sharing');
  await both(page, 'sharing-request');
  await page.getByRole('button', { name: 'Approve…' }).click();
  await page.getByRole('region', { name: 'Requests from doctors' }).getByLabel('Share').selectOption({ label: 'Lab results' });
  await both(page, 'sharing-approve');
  await page.getByRole('button', { name: 'Approve and share' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'can now read' })).toBeVisible();
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(drName);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Notes' });
  await share.getByLabel('Permission').selectOption({ label: 'Read and write' });
  await both(page, 'sharing-lookup');
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'can now read and add to' })).toBeVisible();
  await page.getByRole('region', { name: 'Doctors with access' }).getByRole('button', { name: /Remove/ }).first().click();
  await both(page, 'sharing-remove');

  await nav(dr, 'Patients');
  await both(dr, 'patients');
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: maria }).first().click();
  await expect(dr.getByRole('heading', { level: 1 })).toBeVisible();
  await both(dr, 'shared-record');
  await nav(dr, 'Patients');
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('listitem').filter({ hasText: 'Read and write' }).getByRole('link').click();
  await expect(dr.getByText(/to read and to add to/)).toBeVisible();
  const letter = info.outputPath('Referral letter.txt');
  writeFileSync(letter, 'Referral to haematology: low ferritin, fatigue.\n');
  await dr.getByLabel('Add files to Notes').setInputFiles([letter]);
  await expect(dr.getByRole('status').filter({ hasText: 'signed by you' })).toBeVisible();
  await both(dr, 'shared-record-write');
  await openRecords(page);
  await openFolder(page, 'Notes');
  await expect(page.getByText(`Added by ${drName}`)).toBeVisible();
  await both(page, 'records-added-by');

  // Emergency access: the patient names the doctor; the doctor asks.
  await nav(page, 'Sharing');
  const emergency = page.getByRole('region', { name: 'Emergency contact' });
  await emergency.getByLabel("Contact's username").fill(drName);
  await emergency.getByRole('button', { name: 'Look up contact' }).click();
  await expect(emergency.getByLabel('Waiting period')).toBeVisible();
  await both(page, 'sharing-emergency-form');
  await emergency.getByRole('button', { name: 'Name as emergency contact' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'is your emergency contact' })).toBeVisible();
  await dr.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Emergency' }).click();
  await expect(dr.getByRole('heading', { level: 1, name: 'Emergency access' })).toBeVisible();
  await both(dr, 'emergency-standby');
  await dr.getByLabel('Why you need the record now').fill('Admitted to A&E unconscious; need allergies and medication.');
  await dr.getByRole('button', { name: 'Ask for emergency access' }).click();
  await expect(dr.getByRole('status').filter({ hasText: 'has been told' })).toBeVisible();
  await both(dr, 'emergency-waiting');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await expect(page.getByText('asked for emergency access')).toBeVisible();
  await both(page, 'home-emergency');
  await nav(page, 'Sharing');
  await both(page, 'sharing-emergency-alert');
});
