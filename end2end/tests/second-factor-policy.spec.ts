// `--require-second-factor admin`: an admin without a second factor is led to
// set it up right after sign-up, every other page leads back there, the server
// refuses everything else, and once it is on everything opens. A private
// server, since the suite's own has no such policy.
import { test, expect } from '../fixtures/app';
import { strongPassword, totpCode, uniqueName } from '../helpers/accounts';
import { OwnServer } from '../helpers/server';

test('an admin is led to set up a second factor first, and nothing else opens until it is on', async ({ page }) => {
  const server = new OwnServer(['--require-second-factor', 'admin']);
  await server.start();
  try {
    const username = uniqueName('admin');
    const password = strongPassword('policy');
    await page.goto(server.adminInvite());
    await page.getByLabel('Username', { exact: true }).fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByLabel('Confirm password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByRole('heading', { name: 'Save your recovery code' })).toBeVisible({ timeout: 30_000 });
    await page.getByLabel('I have saved my recovery code somewhere safe').check();
    await page.getByRole('button', { name: 'Continue' }).click();

    // Straight to Account, with the reason, and only the set-up on it.
    const account = page.getByRole('heading', { level: 1, name: 'Your account' });
    await expect(account).toBeVisible();
    await expect(page).toHaveURL(/\/account$/);
    const reason = page.getByRole('status').filter({ hasText: 'Set up a second factor to continue.' });
    await expect(reason).toContainText('for every administrator account');
    await expect(page.getByRole('heading', { name: 'Where you are signed in' })).toHaveCount(0);

    // Another page leads back here.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await expect(account).toBeVisible();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Administration' })).toHaveCount(0);

    // The server refuses the session for anything else, whatever the app does.
    const refused = await page.request.get(`${server.baseURL}/api/account/sessions`, {
      headers: { 'x-medvault-request': '1' },
    });
    expect(refused.status()).toBe(403);
    expect((await refused.json()).message).toContain('requires a second factor');

    // Turning it on opens everything.
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = await page.locator('.secret-key').innerText();
    await page.getByLabel('Authentication code').fill(totpCode(secret, Date.now()));
    await page.getByRole('region', { name: 'Second factor' }).getByLabel('Your password').fill(password);
    await page.getByRole('button', { name: 'Turn on second factor' }).click();
    await expect(page.getByText('Second factor is on.', { exact: false })).toBeVisible();
    await expect(reason).toHaveCount(0);
    await expect(page.getByRole('heading', { name: 'Where you are signed in' })).toBeVisible();
    // The policy keeps it on: no way to turn it off is offered.
    await expect(page.getByText('so it stays on')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Turn off second factor' })).toHaveCount(0);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Administration' })).toBeVisible();
  } finally {
    await server.stop();
  }
});
