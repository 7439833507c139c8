// Notifications (issue 21): a doctor's request reaches the patient, the
// patient's answer reaches the doctor, each as a count in the header (named
// for screen readers) and a sentence in the list; "Mark all as read" clears
// the count. Patient and doctor in their own browser contexts.
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
