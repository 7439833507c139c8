// Steps the sharing journeys share: a verified doctor in a browser context of
// their own, and opening the patient's and the doctor's sharing pages.
import { expect, type Browser, type Page } from '@playwright/test';
import { certifyAdmin, createAdminInvite, signUp, strongPassword, uniqueName } from './accounts';

/**
 * An admin (signed up with `adminInvite`, then certified with the org key)
 * invites a doctor, the doctor signs
 * up in a context of their own, and the admin verifies the licence. The
 * contexts talk to `baseURL`.
 */
export async function verifiedDoctor(browser: Browser, baseURL: string, adminInvite: string) {
  const adminContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  await signUp(admin, uniqueName('admin'), strongPassword('admin'), adminInvite);
  await certifyAdmin(admin);
  await admin.getByLabel('Role', { exact: true }).selectOption('doctor');
  await admin.getByRole('button', { name: 'Create invite link' }).click();
  const link = (await admin.locator('.invite-link__url code').innerText()).trim();

  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const name = uniqueName('dr');
  await signUp(page, name, strongPassword('doctor'), link);

  await admin.getByRole('link', { name: 'Home' }).click();
  await admin.getByRole('link', { name: 'Admin' }).click();
  await admin.getByRole('button', { name: `Verify ${name}` }).click();
  await admin.getByLabel('Licence id').fill('GMC-1234567');
  await admin.getByRole('button', { name: 'Show safety number' }).click();
  await admin.getByRole('button', { name: 'Sign certificate' }).click();
  await expect(admin.getByRole('row', { name: new RegExp(name.replace('.', '\\.')) }).getByText('Verified')).toBeVisible();
  await adminContext.close();
  return { context, page, name };
}

/** Opens the patient's Sharing page through the header; from Home, so that it loads afresh. */
export async function openSharing(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sharing' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sharing' })).toBeVisible();
}

/** Opens the doctor's Patients page the same way. */
export async function openPatients(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Patients' })).toBeVisible();
}

/** A verified doctor whose admin came from a command-line invite. */
export function invitedDoctor(browser: Browser, baseURL: string) {
  return verifiedDoctor(browser, baseURL, createAdminInvite(baseURL));
}

/** A verified doctor in a browser of their own, and a new patient signed up in `page`. */
export async function doctorAndPatient(page: Page, browser: Browser, baseURL: string) {
  const doctor = await invitedDoctor(browser, baseURL);
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  return { doctor, patient };
}

/** The patient shares `folder` with `doctor` to read, from the Sharing page. */
export async function shareFolder(page: Page, doctor: string, folder: string) {
  await shareItem(page, doctor, folder, folder, false);
}

/**
 * The patient shares the item offered as `option` (a folder's path, or a
 * file's path with " (file)") with `doctor`, to read or (`write`) to read
 * and add to; the page then names it `shown`.
 */
export async function shareItem(page: Page, doctor: string, option: string, shown: string, write: boolean) {
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: option });
  await share.getByLabel('Permission').selectOption({ label: write ? 'Read and write' : 'Read only' });
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  const said = write ? 'can now read and add to' : 'can now read';
  await expect(page.getByRole('status').filter({ hasText: `${doctor} ${said}: ${shown}.` })).toBeVisible();
}
