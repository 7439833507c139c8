// The idle lock (issue 21): two minutes before the session's idle timeout a
// dialog offers to stay signed in; without an answer the tab forgets the keys
// and shows the sign-in form, and what was typed comes back after signing in
// again. The browser's clock is Playwright's, moved forward by the test.
import { test, expect } from '../fixtures/app';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';

const MINUTE = 60_000;

test('a warning, staying signed in, then the lock; typed input survives the sign-in', async ({
  page,
  problems: _problems,
}) => {
  await page.clock.install();
  const username = uniqueName('patient');
  const password = strongPassword('idle');
  await signUp(page, username, password);

  // Half a form, not saved: a temperature on the vital signs page.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  const form = page.getByRole('region', { name: 'Add a reading' });
  await form.getByLabel('Measurement').selectOption({ label: 'Temperature' });
  await form.getByLabel('Temperature', { exact: true }).fill('37.4');

  // 28½ minutes without activity (the server's idle timeout is 30): the warning.
  await page.clock.fastForward(28.5 * MINUTE);
  const warning = page.getByRole('dialog', { name: 'Are you still there?' });
  await expect(warning).toBeVisible();
  await expect(warning.getByRole('alert')).toContainText('It locks in 1:');
  await expect(warning.getByRole('button', { name: 'Stay signed in' })).toBeFocused();
  await warning.getByRole('button', { name: 'Stay signed in' }).click();
  await expect(warning).toBeHidden();
  await expect(page.getByRole('heading', { level: 1, name: 'Vital signs' })).toBeVisible();

  // Away again: the warning, and two minutes later the lock.
  await page.clock.fastForward(28.5 * MINUTE);
  await expect(warning).toBeVisible();
  await page.clock.fastForward(2 * MINUTE);
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Your keys were locked after 30 minutes without activity.' })).toBeVisible();
  // The keys are gone: no navigation, and the page that needs them sends here.
  await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  await expect(page.getByLabel('Username', { exact: true })).toHaveValue(username);

  // Signing in again, in this tab (a reload would forget what was kept), leads
  // back with the temperature as it was typed.
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Vital signs' })).toBeVisible();
  await expect(form.getByLabel('Measurement')).toHaveValue(/.+/);
  await expect(form.getByLabel('Temperature', { exact: true })).toHaveValue('37.4');
});
