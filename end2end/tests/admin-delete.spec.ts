// An admin deletes an account (issue 21): the wrong username is refused and
// nothing changes; the right one removes the account, its session ends in
// the person's own browser, and the name cannot sign in again. Admin and
// patient side by side.
import { test, expect } from '../fixtures/app';
import { certifyAdmin, createAdminInvite, signIn, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { openRecords } from '../helpers/records';

test('an admin deletes an account after typing its username; its session ends', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(120_000);
  const patient = uniqueName('pat');
  const password = strongPassword('patient');
  await signUp(page, patient, password);
  await openRecords(page);

  const adminContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  await signUp(admin, uniqueName('admin'), strongPassword('admin'), createAdminInvite(baseURL!));
  await certifyAdmin(admin);
  const search = admin.getByRole('search', { name: 'Find accounts' });
  await search.getByLabel('Username starts with').fill(patient);
  await search.getByRole('button', { name: 'Search' }).click();
  const accounts = admin.getByRole('table', { name: 'Every account' });
  await accounts.getByRole('button', { name: `Delete ${patient}` }).click();
  const panel = admin.getByRole('region', { name: `Delete ${patient}` });
  await expect(panel).toContainText('Their whole record');
  await expect(admin.getByLabel('Their username, to confirm')).toBeFocused();

  await panel.getByLabel('Their username, to confirm').fill(`${patient}-not`);
  await panel.getByRole('button', { name: 'Delete account' }).click();
  await expect(panel.getByRole('alert')).toContainText("Type the account's username exactly as shown to confirm. Nothing was deleted.");
  await expect(accounts.getByRole('row', { name: new RegExp(patient) })).toBeVisible();

  await panel.getByLabel('Their username, to confirm').fill(patient);
  await panel.getByRole('button', { name: 'Delete account' }).click();
  await expect(admin.getByRole('status').filter({ hasText: `${patient} is deleted` })).toBeVisible();
  await expect(accounts.getByRole('row', { name: new RegExp(patient) })).toHaveCount(0);
  await adminContext.close();

  // The patient's session is over: their next step leads to sign-in, and
  // the password opens nothing any more.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sharing' }).click();
  await expect(page).toHaveURL(/\/signin/);
  await signIn(page, patient, password);
  await expect(page.getByRole('alert')).toContainText('The username or password is not right.');
});
