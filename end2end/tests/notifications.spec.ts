// Notifications (issue 21): a doctor's request reaches the patient, the
// patient's answer reaches the doctor, each as a count in the header (named
// for screen readers) and a sentence in the list; "Mark all as read" clears
// the count. Patient and doctor in their own browser contexts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { createAdminInvite, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { openPatients, openSharing, verifiedDoctor } from '../helpers/sharing';

function noticesLink(page: Page) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Notifications/ });
}

test('a request and its answer reach the other side as notifications; marking them read clears the count', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(180_000);
  const doctor = await verifiedDoctor(browser, baseURL!, createAdminInvite(baseURL!));
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  await expect(noticesLink(page)).toHaveAccessibleName('Notifications');

  // The doctor asks.
  const dr = doctor.page;
  await openPatients(dr);
  await dr.getByLabel("Patient's username").fill(patient);
  await dr.getByLabel('Reason').fill('Follow-up after your appointment');
  await dr.getByRole('button', { name: 'Send request' }).click();
  await expect(dr.getByRole('status').filter({ hasText: `Your request was sent to ${patient}` })).toBeVisible();

  // The patient's header counts it on the next page; the list says what it is.
  await openSharing(page);
  await expect(noticesLink(page)).toHaveAccessibleName('Notifications, 1 unread');
  await noticesLink(page).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Notifications' })).toBeVisible();
  const list = page.getByRole('list', { name: 'Newest first' });
  const item = list.getByRole('listitem').filter({ hasText: `${doctor.name} asked for access to your record.` });
  await expect(item).toContainText('New');
  await page.getByRole('button', { name: 'Mark all as read' }).click();
  await expect(noticesLink(page)).toHaveAccessibleName('Notifications');
  await expect(item).not.toContainText('New');
  await expect(page.getByRole('button', { name: 'Mark all as read' })).toBeDisabled();

  // The patient answers from the link, and says no.
  await item.getByRole('link', { name: 'Answer on the Sharing page' }).click();
  const requests = page.getByRole('region', { name: 'Requests from doctors' });
  await requests.getByRole('button', { name: 'Deny' }).click();
  await expect(page.getByRole('status').filter({ hasText: `You said no to ${doctor.name}` })).toBeVisible();

  // The doctor hears of it.
  await openPatients(dr);
  await expect(noticesLink(dr)).toHaveAccessibleName('Notifications, 1 unread');
  await noticesLink(dr).click();
  await expect(dr.getByRole('list', { name: 'Newest first' })).toContainText(`${patient} said no to your request for access.`);
});

/** The messages the suite's SMTP sink received for `address`. */
function mailTo(address: string): string[] {
  const dir = join(process.env.MEDVAULT_E2E_MAIL!, 'new');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .filter((m) => m.includes(`To: ${address}`));
}

test('notification e-mail: the patient gives an address, and the message says only that there is something new', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(180_000);
  const doctor = await verifiedDoctor(browser, baseURL!, createAdminInvite(baseURL!));
  const patient = uniqueName('pat');
  const address = `${patient}@example.org`;
  await signUp(page, patient, strongPassword('patient'));
  await noticesLink(page).click();
  const email = page.getByRole('region', { name: 'E-mail' });
  await email.getByLabel('Your e-mail address').fill('not an address');
  await email.getByRole('button', { name: 'Save address' }).click();
  await expect(email.getByRole('alert')).toContainText('not an e-mail address');
  await email.getByLabel('Your e-mail address').fill(address);
  await email.getByRole('button', { name: 'Save address' }).click();
  await expect(email).toContainText(`E-mail goes to ${address}.`);

  const reason = 'Cardiology referral after your ECG';
  const dr = doctor.page;
  await openPatients(dr);
  await dr.getByLabel("Patient's username").fill(patient);
  await dr.getByLabel('Reason').fill(reason);
  await dr.getByRole('button', { name: 'Send request' }).click();
  await expect(dr.getByRole('status').filter({ hasText: `Your request was sent to ${patient}` })).toBeVisible();

  await expect.poll(() => mailTo(address).length, { timeout: 20_000 }).toBe(1);
  const message = mailTo(address)[0];
  expect(message).toContain('Subject: You have a new notification in medvault');
  for (const secret of [doctor.name, reason, 'ECG', 'Cardiology']) {
    expect(message).not.toContain(secret);
  }

  // Stopped: the address is gone from the page (and from the server).
  await email.getByRole('button', { name: 'Stop e-mail' }).click();
  await expect(email).toContainText('No e-mail is sent.');
  await expect(email.getByLabel('Your e-mail address')).toHaveValue('');
});
