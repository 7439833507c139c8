// Profile (issue 21): a patient gives the name and date of birth their
// doctors see and their printouts carry. They are signed and encrypted in
// the patient's browser (nothing readable reaches the data directory), the
// doctor sees them above the shared folder (patient and doctor in their own
// browsers), and a doctor's browser refuses a profile the server altered or
// rolled back, saying so, while the record itself still opens.
import type { Browser, Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { dataFiles, openFromAccountMenu } from '../helpers/accounts';
import { doctorAndPatient, openPatients, shareFolder } from '../helpers/sharing';
import { openFolder, openRecords } from '../helpers/records';

async function saveProfile(page: Page, name: string, born: string) {
  await openFromAccountMenu(page, 'Account');
  const card = page.getByRole('region', { name: 'Your profile' });
  await card.getByLabel('Name to show').fill(name);
  await card.getByLabel('Date of birth').fill(born);
  await card.getByRole('button', { name: 'Save profile' }).click();
  await expect(card.getByRole('status')).toContainText('Saved. Doctors you share with see this name');
}

/** Opens the patient's shared record again (a reload would lock the keys). */
async function reopen(dr: Page, patient: string) {
  await dr.getByRole('link', { name: 'Back to your patients' }).click();
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Notes` })).toBeVisible();
}

/** A verified doctor in their own browser, and a new patient here. */
async function patientAndDoctor(page: Page, browser: Browser, baseURL: string) {
  const { doctor, patient } = await doctorAndPatient(page, browser, baseURL);
  await openRecords(page);
  return { doctor, dr: doctor.page, patient };
}

async function openPatient(dr: Page, patient: string) {
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Notes` })).toBeVisible();
}

test("the doctor sees the patient's signed name and date of birth, and printouts carry them", async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(180_000);
  const { doctor, dr, patient } = await patientAndDoctor(page, browser, baseURL!);

  // A bad date is refused and nothing is saved.
  await openFromAccountMenu(page, 'Account');
  const card = page.getByRole('region', { name: 'Your profile' });
  await card.getByLabel('Name to show').fill('   ');
  await card.getByRole('button', { name: 'Save profile' }).click();
  await expect(card.getByRole('alert')).toContainText('Enter the name to show.');

  await saveProfile(page, 'Ada Quillfeather', '1980-04-02');
  for (const f of dataFiles()) {
    expect(f.bytes.includes(Buffer.from('Quillfeather')), `plaintext name in ${f.path}`).toBe(false);
  }
  // Shared afterwards: the Sharing page seals a copy for the new share.
  await shareFolder(page, doctor.name, 'Notes');
  await openPatient(dr, patient);
  await expect(dr.getByText('Patient: Ada Quillfeather, born 2 Apr 1980')).toBeVisible();

  // A change reaches the doctor at their next look.
  await saveProfile(page, 'Ada Q. Featherstone', '1980-04-02');
  await reopen(dr, patient);
  await expect(dr.getByText('Patient: Ada Q. Featherstone, born 2 Apr 1980')).toBeVisible();

  // The patient's printout names them.
  await openRecords(page);
  await openFolder(page, 'Notes');
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('.print-header')).toContainText('Medical record of Ada Q. Featherstone, born 2 Apr 1980');
  await page.emulateMedia({ media: 'screen' });
});

test("a doctor's browser refuses a profile the server altered or rolled back", async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(180_000);
  const { doctor, dr, patient } = await patientAndDoctor(page, browser, baseURL!);
  await shareFolder(page, doctor.name, 'Notes');
  await saveProfile(page, 'Grace Oldname', '1975-11-30');
  await openPatient(dr, patient);
  await expect(dr.getByText('Patient: Grace Oldname, born 30 Nov 1975')).toBeVisible();

  // Keep the first copy the server served, then see the newer one.
  const shared = '**/api/sharing/shared?**';
  let first: unknown = null;
  await dr.route(shared, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    first ??= body.profile;
    await route.fulfill({ response, json: body });
  });
  await reopen(dr, patient);
  await expect(dr.getByText('Patient: Grace Oldname')).toBeVisible();
  await dr.unroute(shared);
  await saveProfile(page, 'Grace Newname', '1975-11-30');
  await reopen(dr, patient);
  await expect(dr.getByText('Patient: Grace Newname, born 30 Nov 1975')).toBeVisible();

  // The server serves the older copy again: refused, the record still opens.
  await dr.route(shared, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    await route.fulfill({ response, json: { ...body, profile: first } });
  });
  await reopen(dr, patient);
  await expect(dr.getByRole('alert')).toContainText(
    'The server sent an older name and date of birth of this patient than this browser has already seen',
  );
  await expect(dr.getByText('Grace Oldname')).toHaveCount(0);
  await expect(dr.getByRole('heading', { name: 'Folders and files' })).toBeVisible();
  await dr.unroute(shared);

  // A copy with one byte changed does not open.
  await dr.route(shared, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    const sealed: string = body.profile.sealed;
    const flipped = (sealed[40] === 'A' ? 'B' : 'A');
    body.profile.sealed = sealed.slice(0, 40) + flipped + sealed.slice(41);
    await route.fulfill({ response, json: body });
  });
  await reopen(dr, patient);
  await expect(dr.getByRole('alert')).toContainText("The patient's name and date of birth could not be opened");
  await expect(dr.getByText('Patient: Grace')).toHaveCount(0);
  await dr.unroute(shared);
});
