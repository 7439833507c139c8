// Vital signs for doctors (issue 21): a doctor with access to a record's
// vital signs sees the chart and the table as the patient does, for reading;
// a share without them shows none. Patient and doctor in their own browser
// contexts.
import type { Browser, Locator, Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { createAdminInvite, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { openPatients, openSharing, verifiedDoctor as verifiedDoctorAt } from '../helpers/sharing';
import { enterReading } from '../helpers/vitals';

function verifiedDoctor(browser: Browser, baseURL: string) {
  return verifiedDoctorAt(browser, baseURL, createAdminInvite(baseURL));
}

async function addReading(form: Locator, kind: string, values: Record<string, string>, when: string) {
  await enterReading(form, kind, values, when);
  await expect(form.getByRole('status')).toContainText(`Saved: ${kind}`);
}

async function share(page: Page, doctor: string, folder: string) {
  await openSharing(page);
  const form = page.getByRole('region', { name: 'Share with a doctor' });
  await form.getByLabel("Doctor's username").fill(doctor);
  await form.getByRole('button', { name: 'Look up' }).click();
  await expect(form.getByText('Verified doctor')).toBeVisible();
  await form.getByLabel('Share', { exact: true }).selectOption({ label: folder });
  await form.getByLabel('Permission').selectOption({ label: 'Read only' });
  await form.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor} can now read: ${folder}.` })).toBeVisible();
}

test('a doctor with access to the vital signs sees the chart and the table; a share without them shows none', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(240_000);
  const cardiologist = await verifiedDoctor(browser, baseURL!);
  const dermatologist = await verifiedDoctor(browser, baseURL!);
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  const form = page.getByRole('region', { name: 'Add a reading' });
  await addReading(form, 'Blood pressure', { 'Systolic (upper number)': '132', 'Diastolic (lower number)': '86' }, '2026-11-20T08:35');
  await addReading(form, 'Blood pressure', { 'Systolic (upper number)': '126', 'Diastolic (lower number)': '81' }, '2026-11-27T08:10');
  await addReading(form, 'Pulse', { Pulse: '71' }, '2026-11-27T08:11');

  await share(page, cardiologist.name, 'Vital signs');
  await share(page, dermatologist.name, 'Imaging');

  // The cardiologist: the readings newest first, and the chart of the latest kind.
  const dr = cardiologist.page;
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Vital signs` })).toBeVisible();
  const vitals = dr.getByRole('region', { name: 'Vital signs' });
  await expect(vitals).toContainText('3 readings, newest first');
  const table = vitals.getByRole('table', { name: "The patient's vital-sign readings, newest first" });
  const rows = table.getByRole('row');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(1)).toContainText('71 bpm');
  await expect(rows.nth(2)).toContainText('126/81 mmHg');
  await expect(rows.nth(3)).toContainText('132/86 mmHg');
  // For reading only: no Delete, no form.
  await expect(table.getByRole('button')).toHaveCount(0);
  await expect(dr.getByRole('region', { name: 'Add a reading' })).toHaveCount(0);
  const chart = dr.getByRole('region', { name: 'Over time' });
  await expect(chart.getByRole('img', { name: /^Pulse chart: 1 reading/ })).toBeVisible();
  await chart.getByLabel('Show').selectOption({ label: 'Blood pressure (2)' });
  const bp = chart.getByRole('img', { name: /^Blood pressure chart: 2 readings/ });
  await expect(bp.locator('[data-point]')).toHaveCount(4);
  await expect(bp).toHaveAccessibleName(/systolic 126 to 132, diastolic 81 to 86 mmHg/);

  // The dermatologist was given Imaging only: no vital signs at all.
  const derm = dermatologist.page;
  await openPatients(derm);
  await derm.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(derm.getByRole('heading', { level: 1, name: `${patient}: Imaging` })).toBeVisible();
  await expect(derm.getByRole('region', { name: 'Folders and files' })).toBeVisible();
  await expect(derm.getByRole('region', { name: 'Vital signs' })).toHaveCount(0);
  await expect(derm.getByRole('table')).toHaveCount(0);
});
