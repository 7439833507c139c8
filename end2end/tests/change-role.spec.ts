// An admin changes a non-patient's role (issue 21): a verified doctor with a
// patient's share becomes an auditor. The admin sees what the change does
// before confirming; the share ends (the patient sees it declined), the
// former doctor's session ends, and at their next sign-in their browser
// signs the new role, which the patient's browser then reads from the
// directory. A server that tells a patient's browser it is now a doctor is
// refused with a sentence, and nothing is signed. Admin, doctor and patient
// each in their own browser.
import { test, expect } from '../fixtures/app';
import { certifyAdmin, createAdminInvite, signIn, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { doctorAndPatient, openSharing, shareFolder } from '../helpers/sharing';
import { openRecords } from '../helpers/records';

test('an admin makes a doctor an auditor; shares end and the new role is signed at sign-in', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(180_000);
  const { doctor, patient } = await doctorAndPatient(page, browser, baseURL!);
  await openRecords(page);
  await shareFolder(page, doctor.name, 'Notes');

  const adminContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  await signUp(admin, uniqueName('admin'), strongPassword('admin'), createAdminInvite(baseURL!));
  await certifyAdmin(admin);
  const search = admin.getByRole('search', { name: 'Find accounts' });
  await search.getByLabel('Username starts with').fill(doctor.name);
  await search.getByRole('button', { name: 'Search' }).click();
  const accounts = admin.getByRole('table', { name: 'Every account' });
  const row = accounts.getByRole('row', { name: new RegExp(doctor.name.replace('.', '\\.')) });
  await expect(row.getByText('Verified')).toBeVisible();
  // Patients' roles never change: no such button on a patient's row.
  await search.getByLabel('Username starts with').fill(patient);
  await search.getByRole('button', { name: 'Search' }).click();
  await expect(accounts.getByRole('button', { name: `Delete ${patient}` })).toBeVisible();
  await expect(accounts.getByRole('button', { name: `Change the role of ${patient}` })).toHaveCount(0);
  await search.getByLabel('Username starts with').fill(doctor.name);
  await search.getByRole('button', { name: 'Search' }).click();

  await accounts.getByRole('button', { name: `Change the role of ${doctor.name}` }).click();
  const panel = admin.getByRole('region', { name: `Change the role of ${doctor.name}` });
  await expect(panel.getByRole('heading', { name: `Change the role of ${doctor.name}` })).toBeFocused();
  await expect(panel).toContainText(`${doctor.name} is a doctor now.`);
  const roles = panel.getByRole('group', { name: 'New role' });
  await expect(roles.getByRole('radio')).toHaveCount(2);
  await roles.getByLabel('Auditor').check();
  await expect(panel).toContainText('Every share naming them ends at once');
  await roles.getByLabel('Administrator').check();
  await expect(panel).toContainText('a certificate from the installation');
  await roles.getByLabel('Auditor').check();
  await panel.getByRole('button', { name: 'Change role' }).click();
  await expect(admin.getByRole('status').filter({ hasText: `${doctor.name} is now an auditor.` })).toBeVisible();
  await expect(row.getByRole('cell', { name: 'Auditor' })).toBeVisible();
  await expect(row.getByText('Verified')).toHaveCount(0);
  await adminContext.close();

  // The patient's share is declined: their browser owes the folder new keys.
  await openSharing(page);
  await expect(page.getByText('Declined by the doctor')).toBeVisible();

  // The former doctor's session is over; signing in signs the new role.
  const dr = doctor.page;
  await dr.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await dr.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Patients' }).click();
  await expect(dr).toHaveURL(/\/signin/);
  await signIn(dr, doctor.name, strongPassword('doctor'));
  await expect(dr.getByRole('heading', { level: 1, name: `Welcome, ${doctor.name}` })).toBeVisible();
  await expect(dr.getByRole('status')).toContainText(
    'An administrator made you an auditor. Your browser signed your new role',
  );
  await expect(dr.getByText('You are signed in as Auditor')).toBeVisible();
  await expect(dr.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' })).toBeVisible();
  await doctor.context.close();

  // The patient's browser reads the role from the account's own signature.
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share).toContainText(`${doctor.name} is not a doctor in medvault`);
});

test("a patient's browser refuses a server that says the account is now a doctor", async ({
  page,
  problems: _problems,
}) => {
  const patient = uniqueName('pat');
  const password = strongPassword('patient');
  await signUp(page, patient, password);
  await page.context().clearCookies();
  // The server lies about the role in the sign-in answer.
  await page.route('**/api/account/login/finish', async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    if (body.session) {
      body.session.role = 'doctor';
    }
    await route.fulfill({ response, json: body });
  });
  let renewed = 0;
  await page.route('**/api/account/key-entry', async (route) => {
    renewed += 1;
    await route.continue();
  });
  await signIn(page, patient, password);
  await expect(page.getByRole('alert')).toContainText(
    'The server says your account is now a doctor instead of a patient. medvault never changes a role to or from patient, so this answer is wrong and nothing was signed.',
  );
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${patient}` })).toHaveCount(0);
  expect(renewed).toBe(0);
});
