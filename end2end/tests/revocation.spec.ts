// Taking secrets back: an admin revokes an invite link that may have leaked, and
// a user makes a new recovery code so that the old one stops working. Every test
// uses fresh usernames, so the order does not matter.
import { test, expect } from '../fixtures/app';
import {
  createAdminInvite,
  signOut,
  signUp,
  strongPassword,
  uniqueName,
} from '../helpers/accounts';

const REVOKED = 'This invite was revoked or has expired. Ask an administrator for a new one.';

test('an admin revokes an open invite and its link then says so', async ({
  page,
  browser,
  baseURL,
}) => {
  await signUp(page, uniqueName('admin'), strongPassword('admin'), createAdminInvite(baseURL!));
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByLabel('Role').selectOption('doctor');
  await page.getByRole('button', { name: 'Create invite link' }).click();
  const link = (await page.locator('.invite-link__url code').innerText()).trim();
  expect(link).toContain('/signup?invite=');

  const open = page.getByRole('table', { name: 'Open invites' });
  const row = open.getByRole('row').filter({ hasText: 'Doctor' });
  await expect(row).toHaveCount(1);
  await expect(row).not.toContainText(link.split('invite=')[1]);

  // The first click only asks; "Keep" leaves the invite alone.
  await row.getByRole('button', { name: /Revoke the invite for a doctor/ }).click();
  await expect(row.getByText('Revoke this invite? Its link will stop working.')).toBeVisible();
  await row.getByRole('button', { name: 'Keep' }).click();
  await expect(row).toHaveCount(1);

  await row.getByRole('button', { name: /Revoke the invite for a doctor/ }).click();
  await row.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(page.getByText('The invite for a doctor was revoked. Its link no longer works.')).toBeVisible();
  await expect(page.getByText('No open invites.')).toBeVisible();

  const stranger = await browser.newContext();
  const strangerPage = await stranger.newPage();
  await strangerPage.goto(link);
  await expect(strangerPage.getByRole('alert')).toHaveText(REVOKED);
  await expect(strangerPage.getByRole('button', { name: 'Create account' })).toHaveCount(0);
  await stranger.close();
});

test('a new recovery code from the account page works; the old one is refused', async ({
  page,
}) => {
  const username = uniqueName('newcode');
  const password = strongPassword('first');
  const oldCode = await signUp(page, username, password);

  await page.getByRole('link', { name: 'Account' }).click();
  const section = page.getByRole('region', { name: 'Recovery code' });
  await section.getByLabel('Your password').fill(password);
  await section.getByRole('button', { name: 'Make a new recovery code' }).click();
  await expect(section.getByRole('heading', { name: 'Save your new recovery code' })).toBeVisible({
    timeout: 30_000,
  });
  const newCode = (await section.getByRole('group', { name: 'Your new recovery code' }).innerText())
    .trim()
    .split(/\s+/)
    .join('-');
  expect(newCode).not.toBe(oldCode);
  await expect(section.getByRole('button', { name: 'Done' })).toBeDisabled();
  await section.getByLabel('I have saved my new recovery code somewhere safe').check();
  await section.getByRole('button', { name: 'Done' }).click();
  await expect(section.getByText('Your new recovery code is in use. The old one no longer works.')).toBeVisible();
  await signOut(page);

  // The old code: refused with a sentence that says what to do.
  await page.goto('/recover');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Recovery code').fill(oldCode);
  await page.getByLabel('New password').fill(strongPassword('second'));
  await page.getByLabel('Confirm password').fill(strongPassword('second'));
  await page.getByRole('button', { name: 'Recover account' }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'This recovery code does not open this account. Check the username and the code.',
    { timeout: 30_000 },
  );

  // The new code works; the recovery offers (checked) yet another code.
  await page.getByLabel('Recovery code').fill(newCode);
  await expect(page.getByLabel('Make a fresh code for next time', { exact: false })).toBeChecked();
  await page.getByRole('button', { name: 'Recover account' }).click();
  await expect(page.getByRole('heading', { name: 'Save your new recovery code' })).toBeVisible({
    timeout: 60_000,
  });
  const third = (await page.getByRole('group', { name: 'Your new recovery code' }).innerText()).trim().split(/\s+/).join('-');
  expect(third).not.toBe(newCode);
  await page.getByLabel('I have saved my new recovery code somewhere safe').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
});
