// Account journeys beyond the main walk-through in accounts.spec.ts: the failure
// paths a person meets (unknown user, taken name, used invite, wrong codes), what a
// password change does to another browser, that recovery keeps the same keys, the
// changed-key warning, and that the server's disk holds no password or recovery
// code. Every test uses fresh usernames, so the order does not matter.
import { test, expect, appReady } from '../fixtures/app';
import {
  accountMenuButton,
  createAdminInvite,
  dataFiles,
  openFromAccountMenu,
  safetyNumberOf,
  signIn,
  signOut,
  signUp,
  strongPassword,
  totpCode,
  uniqueName,
} from '../helpers/accounts';
import { swapKeysOf } from '../helpers/keys';

const WRONG = 'The username or password is not right.';

test('an unknown username reads exactly like a wrong password', async ({ page, problems }) => {
  const username = uniqueName('pat');
  const password = strongPassword('alpha');
  await signUp(page, username, password);
  await signOut(page);

  await signIn(page, username, `${password}x`);
  await expect(page.getByRole('alert')).toHaveText(WRONG);
  await signIn(page, uniqueName('nobody'), password);
  await expect(page.getByRole('alert')).toHaveText(WRONG);
  await expect(accountMenuButton(page)).toHaveCount(0);

  await signIn(page, username, password);
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
  expect(problems.csp).toEqual([]);
});

test('a taken username, in any case or width, gets a readable message', async ({ page, problems }) => {
  const username = uniqueName('taken');
  await signUp(page, username, strongPassword('delta'));
  await signOut(page);
  await page.goto('/signup');
  await appReady(page);
  // Upper case and full-width letters normalise to the same name.
  const variant = username.toUpperCase().replace('T', '\uFF34');
  await page.getByLabel('Username', { exact: true }).fill(variant);
  await page.getByLabel('Password', { exact: true }).fill(strongPassword('epsilon'));
  await page.getByLabel('Confirm password', { exact: true }).fill(strongPassword('epsilon'));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText('taken');
  expect(problems.http4xx.join('\n')).toContain('409');
});

test('a password change signs out the other browser; only the new password works', async ({
  page,
  browser,
}) => {
  const username = uniqueName('chg');
  const oldPassword = strongPassword('old');
  const newPassword = strongPassword('new');
  await signUp(page, username, oldPassword);

  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, username, oldPassword);
  await expect(otherPage.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();

  await openFromAccountMenu(page, 'Account');
  await page.getByLabel('Current password').fill(oldPassword);
  await page.getByLabel('New password').fill(newPassword);
  await page.getByLabel('Confirm password').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Password changed. 1 other session was signed out.')).toBeVisible({
    timeout: 30_000,
  });
  // The other browser's session is gone on the server.
  const gone = await otherPage.request.get('/api/account/session', { headers: { 'x-medvault-request': '1' } });
  expect(await gone.json()).toBeNull();
  await other.close();

  await signOut(page);
  await signIn(page, username, oldPassword);
  await expect(page.getByRole('alert')).toHaveText(WRONG);
  await signIn(page, username, newPassword);
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
});

test("recovery refuses another account's code, then keeps the very same keys", async ({
  page,
  browser,
}) => {
  // A valid recovery code, but of another account.
  const otherCtx = await browser.newContext();
  const othersCode = await signUp(await otherCtx.newPage(), uniqueName('rec'), strongPassword('x'));
  await otherCtx.close();

  const username = uniqueName('rec');
  const code = await signUp(page, username, strongPassword('first'));
  const before = await safetyNumberOf(page, username);
  await signOut(page);

  await page.goto('/recover');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Recovery code').fill(othersCode);
  await page.getByLabel('New password').fill(strongPassword('second'));
  await page.getByLabel('Confirm password').fill(strongPassword('second'));
  // A fresh recovery code is on offer by default (revocation.spec.ts covers it).
  await page.getByLabel('Make a fresh code for next time', { exact: false }).uncheck();
  await page.getByRole('button', { name: 'Recover account' }).click();
  await expect(page.getByRole('alert')).toBeVisible({ timeout: 30_000 });

  await page.getByLabel('Recovery code').fill(code);
  await page.getByRole('button', { name: 'Recover account' }).click();
  await expect(accountMenuButton(page)).toBeVisible({
    timeout: 30_000,
  });
  expect(await safetyNumberOf(page, username)).toBe(before);

  await signOut(page);
  await signIn(page, username, strongPassword('first'));
  await expect(page.getByRole('alert')).toHaveText(WRONG);
  await signIn(page, username, strongPassword('second'));
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
});

test('a wrong code or a wrong password does not turn the second factor on', async ({ page, problems }) => {
  await signUp(page, uniqueName('totp'), strongPassword('factor'));
  await openFromAccountMenu(page, 'Account');
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  const secret = (await page.locator('.secret-key').innerText()).replace(/\s+/g, '');
  const factor = page.getByRole('region', { name: 'Second factor' });
  // Without the password nothing is sent; with a wrong one the browser says so.
  await page.getByLabel('Authentication code').fill(totpCode(secret));
  await page.getByRole('button', { name: 'Turn on second factor' }).click();
  await expect(page.getByRole('alert')).toContainText('Type your password');
  await factor.getByLabel('Your password').fill(strongPassword('not mine'));
  await page.getByRole('button', { name: 'Turn on second factor' }).click();
  await expect(page.getByRole('alert')).toContainText('The password is not right');
  // The code from half an hour ago is outside the window.
  await factor.getByLabel('Your password').fill(strongPassword('factor'));
  await page.getByLabel('Authentication code').fill(totpCode(secret, Date.now() - 1_800_000));
  await page.getByRole('button', { name: 'Turn on second factor' }).click();
  await expect(page.getByRole('alert')).toContainText('authentication code is not right');
  const session = await (await page.request.get('/api/account/session', { headers: { 'x-medvault-request': '1' } })).json();
  expect(session.totp_enabled).toBe(false);
  expect(problems.http4xx.length).toBeGreaterThan(0);

  // The right password and code turn it on; the server keeps the secret sealed.
  await factor.getByLabel('Your password').fill(strongPassword('factor'));
  await page.getByLabel('Authentication code').fill(totpCode(secret));
  await page.getByRole('button', { name: 'Turn on second factor' }).click();
  await expect(page.getByText('Second factor is on.', { exact: false })).toBeVisible();
  for (const file of dataFiles()) {
    for (const needle of [secret, secret.toLowerCase()]) {
      expect(file.bytes.includes(Buffer.from(needle)), `the TOTP secret found in ${file.path}`).toBe(false);
    }
  }
});

test('a username that mixes alphabets is refused before anything is sent', async ({ page, problems }) => {
  await page.goto('/signup');
  await appReady(page);
  // A Cyrillic о (U+043E) in a Latin name looks like "dr.jones".
  await page.getByLabel('Username', { exact: true }).fill('dr.j\u043enes');
  await page.getByLabel('Password', { exact: true }).fill(strongPassword('mixed'));
  await page.getByLabel('Confirm password', { exact: true }).fill(strongPassword('mixed'));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText('mixes letters from different alphabets');
  expect(problems.http4xx).toEqual([]);
});

test('an admin invite from the command line works once', async ({ page, browser, baseURL, problems }) => {
  const link = createAdminInvite(baseURL!);
  await signUp(page, uniqueName('admin'), strongPassword('admin'), link);
  await expect(page.getByRole('link', { name: 'Admin' })).toBeVisible();

  const again = await browser.newContext();
  const againPage = await again.newPage();
  await againPage.goto(link);
  await expect(againPage.getByRole('alert')).toHaveText(
    'This invite was already used. Ask an administrator for a new one.',
  );
  await expect(againPage.getByRole('button', { name: 'Create account' })).toHaveCount(0);
  await again.close();
  expect(problems.csp).toEqual([]);
});

test('a key that changed since it was saved is flagged plainly', async ({ page }) => {
  const other = uniqueName('known');
  const otherCtx = await page.context().browser()!.newContext();
  await signUp(await otherCtx.newPage(), other, strongPassword('known'));
  await otherCtx.close();

  await signUp(page, uniqueName('looker'), strongPassword('looker'));
  await safetyNumberOf(page, other);
  await expect(page.getByRole('status').filter({ hasText: `First time you see ${other}'s keys` })).toBeVisible();
  await expect(page.getByText('The same keys you saved before.')).toHaveCount(0);
  await page.getByRole('button', { name: 'Look up' }).click();
  await expect(page.getByText('The same keys you saved before.')).toBeVisible();

  // A server that swaps the keys (a user's keys never change in this build:
  // password change and recovery keep them).
  await swapKeysOf(page, other);
  await page.getByRole('button', { name: 'Look up' }).click();
  await expect(page.getByRole('alert')).toContainText(`These keys are different from the ones you saved for ${other}.`);
  await page.getByRole('button', { name: 'Trust the new keys' }).click();
  await expect(page.getByText('The new keys are now saved with your keys.')).toBeVisible();
  await page.getByRole('button', { name: 'Look up' }).click();
  await expect(page.getByText('The same keys you saved before.')).toBeVisible();
});

test('the server keeps no password and no recovery code on disk', async ({ page }) => {
  const password = strongPassword('needle-7d1f');
  const code = await signUp(page, uniqueName('disk'), password);
  const needles = [password, code, code.replace(/-/g, ''), code.replace(/-/g, ' ')];
  for (const file of dataFiles()) {
    for (const needle of needles) {
      expect(file.bytes.includes(Buffer.from(needle)), `${needle} found in ${file.path}`).toBe(false);
    }
  }
});
