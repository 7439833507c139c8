// The list of common passwords is not in the WASM: the app fetches
// /common-passwords.txt when a new password is first typed and uses it only if it
// is the exact file the app was built with (its SHA-256 is pinned in the app).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test, expect, appReady } from '../fixtures/app';

const list = readFileSync(join(resolve(__dirname, '..', '..'), 'shared', 'data', 'common-passwords.txt'), 'utf8');
// Rank 2206 of the list, 15 characters: long enough for every other rule.
const COMMON = 'MailCreated5240';
const FAILED_NOTE = 'The list of common passwords could not be loaded';

test('a common password is refused at sign-up, with the list fetched compressed', async ({ page, problems }) => {
  await page.goto('/signup');
  await appReady(page);
  const fetched = page.waitForResponse((r) => new URL(r.url()).pathname === '/common-passwords.txt');
  await page.getByLabel('Username', { exact: true }).fill('listed.patient');
  await page.getByLabel('Password', { exact: true }).fill(COMMON);
  const response = await fetched;
  expect(response.status()).toBe(200);
  expect(response.headers()['content-encoding']).toBe('br');
  expect(await response.text()).toBe(list);
  await expect(page.getByText('This is one of the most common passwords: choose another')).toBeVisible();
  await expect(page.getByRole('meter', { name: 'Password strength' })).toHaveAttribute('aria-valuenow', '1');
  await page.getByLabel('Confirm password', { exact: true }).fill(COMMON);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'This is one of the 10,000 most common passwords: choose another.',
  );
  await expect(page.getByText(FAILED_NOTE)).toHaveCount(0);
});

test('fail: a list the server altered is not used, and the meter says so', async ({ page }) => {
  // A lying server drops the entry the user is typing: the pinned hash no longer
  // matches, so the app takes none of the list.
  const altered = list.replace('\nmailcreated5240\n', '\n');
  await page.route('**/common-passwords.txt', (route) =>
    route.fulfill({ status: 200, contentType: 'text/plain', body: altered }),
  );
  await page.goto('/signup');
  await appReady(page);
  await page.getByLabel('Username', { exact: true }).fill('altered.list');
  await page.getByLabel('Password', { exact: true }).fill(COMMON);
  await expect(page.getByText(FAILED_NOTE)).toBeVisible();
  await expect(page.getByText('This is one of the most common passwords: choose another')).toHaveCount(0);
});

test('fail: no list at all leaves the other rules, and the meter says so', async ({ page, problems }) => {
  await page.route('**/common-passwords.txt', (route) => route.fulfill({ status: 404, body: 'Not found\n' }));
  await page.goto('/signup');
  await appReady(page);
  await page.getByLabel('Username', { exact: true }).fill('missing.list');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await expect(page.getByText(FAILED_NOTE)).toBeVisible();
  await page.getByLabel('Confirm password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText('at least 15 characters');
  problems.http4xx.length = 0;
});
