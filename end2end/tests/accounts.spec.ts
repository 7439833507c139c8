// Accounts end to end: the real app in Chromium against the real server. An admin
// from the CLI invite, a doctor invited and verified in the browser, a patient who
// signs up, turns on a second factor, changes the password and recovers the account.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { test, expect, appReady } from '../fixtures/app';
import type { Page } from '@playwright/test';
import { certifyAdmin, openFromAccountMenu, signIn, signOut, totpCode } from '../helpers/accounts';

const root = resolve(__dirname, '..', '..');
const serverBin = process.env.MEDVAULT_SERVER_BIN ?? join(root, 'target', 'debug', 'medvault-server');

/** The six-digit TOTP code `ahead` 30-second steps from now: the server accepts one
 * step of drift and never the same step twice, so a second code in the same half
 * minute is taken from the next step. */
function totp(base32: string, ahead = 0): string {
  return totpCode(base32, Date.now() + ahead * 30_000);
}

/** Signs up through the form; returns the recovery code shown once. */
async function signUp(page: Page, username: string, password: string): Promise<string> {
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await expect(page.getByRole('meter', { name: 'Password strength' })).toBeVisible();
  await page.getByLabel('Confirm password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery code' })).toBeVisible();
  const code = (await page.getByLabel('Your recovery code').innerText()).trim().split(/\s+/).join('-');
  // The code can be saved as a text file (a Blob URL, revoked after the click).
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download recovery code' }).click();
  expect((await download).suggestedFilename()).toBe('medvault-recovery-code.txt');
  const cont = page.getByRole('button', { name: 'Continue' });
  await expect(cont).toBeDisabled();
  await page.getByLabel('I have saved my recovery code somewhere safe').check();
  await cont.click();
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
  return code;
}

test.describe.configure({ mode: 'serial' });

test('admin invites and verifies a doctor; a patient sees the verified badge', async ({ page, problems }) => {
  const link = execFileSync(serverBin, [
    'create-admin-invite',
    '--data', process.env.MEDVAULT_E2E_DATA!,
    '--base-url', `http://127.0.0.1:${process.env.MEDVAULT_E2E_PORT}`,
  ]).toString().trim().split('\n')[0];
  await page.goto(link);
  await appReady(page);
  await expect(page.getByText('This invitation creates an administrator account', { exact: false })).toBeVisible();
  await signUp(page, 'admin.e2e', 'plum tractor violin harbour');
  // The operator certifies the admin with the installation's org key.
  await certifyAdmin(page);

  // Invite a doctor; the link is shown once.
  await page.getByLabel('Role', { exact: true }).selectOption('doctor');
  await page.getByRole('button', { name: 'Create invite link' }).click();
  const doctorLink = (await page.locator('.invite-link__url code').innerText()).trim();
  expect(doctorLink).toContain('/signup?invite=');
  await signOut(page);

  await page.goto(doctorLink);
  await expect(page.getByText('This invitation creates a doctor account', { exact: false })).toBeVisible();
  await signUp(page, 'dr.e2e', 'lantern meadow copper whistle');
  await signOut(page);

  // The admin verifies the doctor's licence and signs the certificate here.
  await signIn(page, 'admin.e2e', 'plum tractor violin harbour');
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('button', { name: 'Verify dr.e2e' }).click();
  await page.getByLabel('Licence id').fill('GMC-7654321');
  await page.getByRole('button', { name: 'Show safety number' }).click();
  await expect(page.getByRole('group', { name: 'Safety number of dr.e2e' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign certificate' }).click();
  const row = page.getByRole('row', { name: /dr\.e2e/ });
  await expect(row.getByText('Verified')).toBeVisible();
  // Disabling and enabling again.
  await row.getByRole('button', { name: 'Disable dr.e2e' }).click();
  await expect(row.getByText('Disabled')).toBeVisible();
  await row.getByRole('button', { name: 'Enable dr.e2e' }).click();
  await expect(row.getByText('Active')).toBeVisible();
  // Finding one account by the start of its username.
  const search = page.getByRole('search', { name: 'Find accounts' });
  await search.getByLabel('Username starts with').fill('DR.');
  await search.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('status').filter({ hasText: '1 account whose username starts with “dr.”.' })).toBeVisible();
  const accounts = page.getByRole('table', { name: 'Every account' });
  await expect(accounts.getByRole('row')).toHaveCount(2);
  await expect(accounts.getByRole('row', { name: /dr\.e2e/ })).toBeVisible();
  await search.getByRole('button', { name: 'Show all' }).click();
  await expect(accounts.getByRole('row', { name: /admin\.e2e/ })).toBeVisible();
  await signOut(page);

  // Open sign-up: a patient finds the doctor and sees the badge.
  await page.goto('/signup');
  await expect(page.getByText('You are creating a patient account.')).toBeVisible();
  await signUp(page, 'pat.badge', 'quiet orange pebble lighthouse');
  await openFromAccountMenu(page, 'Directory');
  await page.getByLabel('Username').fill('dr.e2e');
  await page.getByRole('button', { name: 'Look up' }).click();
  await expect(page.getByText('Verified doctor')).toBeVisible();
  await expect(page.getByText('GMC-7654321')).toBeVisible();
  expect(problems.csp).toEqual([]);
});

test('a patient: wrong password, second factor, password change, recovery, reload', async ({ page }) => {
  await page.goto('/signup');
  await appReady(page);
  // The rules are checked before anything is sent.
  await page.getByLabel('Username', { exact: true }).fill('pat.e2e');
  await page.getByLabel('Password', { exact: true }).fill('too short');
  await page.getByLabel('Confirm password', { exact: true }).fill('too short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText('at least 15 characters');
  const recovery = await signUp(page, 'pat.e2e', 'quiet orange pebble lighthouse');
  await signOut(page);

  // A wrong password fails in the browser with the server's wording.
  await signIn(page, 'pat.e2e', 'not the right password at all');
  await expect(page.getByRole('alert')).toHaveText('The username or password is not right.');
  await page.getByLabel('Password', { exact: true }).fill('quiet orange pebble lighthouse');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome, pat.e2e' })).toBeVisible();

  // Second factor on.
  await openFromAccountMenu(page, 'Account');
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await expect(page.getByRole('img', { name: 'QR code to add medvault to an authenticator app' })).toBeVisible();
  const secret = await page.locator('.secret-key').innerText();
  await page.getByLabel('Authentication code').fill(totp(secret));
  // Turning it on proves the password afresh: the open session is not enough.
  await page.getByRole('region', { name: 'Second factor' }).getByLabel('Your password').fill('quiet orange pebble lighthouse');
  await page.getByRole('button', { name: 'Turn on second factor' }).click();
  await expect(page.getByText('Second factor is on.', { exact: false })).toBeVisible();

  // Password change.
  await page.getByLabel('Current password').fill('quiet orange pebble lighthouse');
  await page.getByLabel('New password').fill('silver canyon maple drum');
  await page.getByLabel('Confirm password').fill('silver canyon maple drum');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText(/Password changed\. \d+ other sessions? (was|were) signed out\./)).toBeVisible();
  await signOut(page);

  // Sign-in asks for the code.
  await signIn(page, 'pat.e2e', 'silver canyon maple drum');
  await page.getByLabel('Authentication code').fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Verify code' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome, pat.e2e' })).toBeVisible();

  // A reload forgets the keys: sign in again to unlock them.
  await page.reload();
  await expect(page.getByText('Sign in again to unlock your keys', { exact: false })).toBeVisible();
  await expect(page.getByLabel('Username', { exact: true })).toHaveValue('pat.e2e');

  // Recovery with the code: new password, second factor off.
  await page.goto('/recover');
  await page.getByLabel('Username', { exact: true }).fill('pat.e2e');
  await page.getByLabel('Recovery code').fill(recovery);
  await page.getByLabel('New password').fill('harvest pencil river falcon');
  await page.getByLabel('Confirm password').fill('harvest pencil river falcon');
  // A fresh recovery code is on offer by default (revocation.spec.ts covers it).
  await page.getByLabel('Make a fresh code for next time', { exact: false }).uncheck();
  await page.getByRole('button', { name: 'Recover account' }).click();
  await expect(page.getByText('second factor (authenticator app) was switched off', { exact: false })).toBeVisible();
});

