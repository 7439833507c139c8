// Not a test: screenshots of every account page for a person to look at
// (`npx playwright test --config playwright.bench.config.ts screens`).
import { test, expect } from '@playwright/test';
import {
  createAdminInvite,
  openFromAccountMenu,
  strongPassword,
  uniqueName,
} from '../helpers/accounts';

const out = process.env.SHOTS_DIR ?? '/tmp/shots';

test('screenshots of the account pages', async ({ page, baseURL }) => {
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.goto('/signup');
  await page.getByLabel('Username', { exact: true }).fill('maria.lopez');
  await page.getByLabel('Password', { exact: true }).fill('quiet lantern');
  await page.screenshot({ path: `${out}/signup.png`, fullPage: true });
  await page.goto('/signin');
  await page.screenshot({ path: `${out}/signin.png`, fullPage: true });
  await page.goto('/recover');
  await page.screenshot({ path: `${out}/recover.png`, fullPage: true });

  const link = createAdminInvite(baseURL!);
  await page.goto(link);
  await page.getByLabel('Username', { exact: true }).fill(uniqueName('admin'));
  await page.getByLabel('Password', { exact: true }).fill(strongPassword('shots'));
  await page.getByLabel('Confirm password', { exact: true }).fill(strongPassword('shots'));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery code' })).toBeVisible();
  await page.screenshot({ path: `${out}/recovery-code.png`, fullPage: true });
  await page.getByLabel('I have saved my recovery code somewhere safe').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Welcome');
  await page.screenshot({ path: `${out}/home.png`, fullPage: true });
  await openFromAccountMenu(page, 'Account');
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await page.screenshot({ path: `${out}/account.png`, fullPage: true });
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByLabel('Role').selectOption('doctor');
  await page.getByRole('button', { name: 'Create invite link' }).click();
  await page.screenshot({ path: `${out}/admin.png`, fullPage: true });
  await openFromAccountMenu(page, 'Directory');
  await page.getByLabel('Username', { exact: true }).fill(
    (await page.getByRole('navigation', { name: 'Main' }).innerText()).match(/admin-\S+/)![0],
  );
  await page.getByRole('button', { name: 'Look up' }).click();
  await page.screenshot({ path: `${out}/directory.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${out}/directory-phone.png`, fullPage: true });
});

test('screenshots of the audit pages', async ({ page, browser, baseURL }) => {
  await page.setViewportSize({ width: 1100, height: 900 });
  const signUpHere = async (p: typeof page, url: string, name: string) => {
    await p.goto(url);
    await p.getByLabel('Username', { exact: true }).fill(name);
    await p.getByLabel('Password', { exact: true }).fill(strongPassword('shots'));
    await p.getByLabel('Confirm password', { exact: true }).fill(strongPassword('shots'));
    await p.getByRole('button', { name: 'Create account' }).click();
    await p.getByLabel('I have saved my recovery code somewhere safe').check();
    await p.getByRole('button', { name: 'Continue' }).click();
    await expect(p.getByRole('heading', { level: 1 })).toContainText('Welcome');
  };
  await signUpHere(page, createAdminInvite(baseURL!), uniqueName('admin'));
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByLabel('Role').selectOption('auditor');
  await page.getByRole('button', { name: 'Create invite link' }).click();
  const link = (await page.locator('.invite-link__url code').innerText()).trim();
  await openFromAccountMenu(page, 'Access history');
  await expect(page.getByRole('table')).toBeVisible();
  await page.screenshot({ path: `${out}/history.png`, fullPage: true });
  await page.getByRole('link', { name: 'Admin' }).click();
  await expect(page.getByRole('region', { name: 'System events' }).getByRole('table')).toBeVisible();
  await page.screenshot({ path: `${out}/admin-events.png`, fullPage: true });

  const auditor = await (await browser.newContext()).newPage();
  await auditor.setViewportSize({ width: 1100, height: 900 });
  await signUpHere(auditor, link, uniqueName('auditor'));
  await auditor.getByRole('link', { name: 'Audit log' }).click();
  await auditor.getByRole('button', { name: 'Verify the log' }).click();
  await expect(auditor.getByText(/^Verified \d+ events\./)).toBeVisible({ timeout: 60_000 });
  await auditor.screenshot({ path: `${out}/audit.png`, fullPage: true });
  await auditor.setViewportSize({ width: 390, height: 844 });
  await auditor.screenshot({ path: `${out}/audit-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await openFromAccountMenu(page, 'Access history');
  await page.screenshot({ path: `${out}/history-phone.png`, fullPage: true });
});
