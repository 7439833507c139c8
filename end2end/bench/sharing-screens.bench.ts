// Not a test: screenshots of the sharing pages (patient and doctor) at desktop
// and phone width for a person to look at (`npx playwright test --config
// playwright.bench.config.ts sharing-screens`; SHOTS_DIR sets where they go).
import { test, expect, type Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { createAdminInvite, signUp, strongPassword, uniqueName } from '../helpers/accounts';
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
  await admin.getByRole('link', { name: 'Admin' }).click();
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
  await both(page, 'sharing-lookup');
  await page.getByRole('region', { name: 'Doctors with access' }).getByRole('button', { name: /Remove/ }).click();
  await both(page, 'sharing-remove');

  await nav(dr, 'Patients');
  await both(dr, 'patients');
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: maria }).click();
  await expect(dr.getByText('Ferritin, March.txt')).toBeVisible();
  await both(dr, 'shared-record');
});
