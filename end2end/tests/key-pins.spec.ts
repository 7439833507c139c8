// Key pins against a server that substitutes keys or rolls the pins back.
// The first look at someone's keys pins them (in the user's own sealed, signed
// object on the server) and shows their safety number. Then `page.route`
// rewrites the directory's answer for that person with other keys, validly
// self-signed (made here with Node's Ed25519): approving the doctor's request
// and sharing again are refused with a warning and nothing is shared; the
// Directory page shows the change with "Trust the new keys"; the doctor's view
// of the patient's record refuses a changed patient key. Serving an older copy
// of the pin object is refused as a rollback.
import type { Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import {
  createAdminInvite,
  openFromAccountMenu,
  signUp,
  strongPassword,
  uniqueName,
} from '../helpers/accounts';
import { swapKeysOf } from '../helpers/keys';
import { openPatients, openSharing, verifiedDoctor } from '../helpers/sharing';

/** Every grant this page creates, to check that none was. */
function watchGrants(page: Page): string[] {
  const created: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/sharing/grant/create')) created.push(r.url());
  });
  return created;
}

async function lookUpToShare(page: Page, doctor: string) {
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor);
  await share.getByRole('button', { name: 'Look up' }).click();
  return share;
}

async function openDirectory(page: Page, username: string) {
  await openFromAccountMenu(page, 'Directory');
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Look up' }).click();
}

/** The patient shares Lab results with the doctor; the first look pins them. */
async function firstShare(page: Page, doctor: string) {
  const share = await lookUpToShare(page, doctor);
  await expect(share.getByRole('status').filter({ hasText: `First time you share with ${doctor}. Safety number:` })).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Lab results' });
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor} can now read: Lab results.` })).toBeVisible();
}

test('a doctor key swapped after the first share stops approving and sharing; an older pin object is refused', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(180_000);
  const doctor = await verifiedDoctor(browser, baseURL!, createAdminInvite(baseURL!));
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  await firstShare(page, doctor.name);
  // Looking again: the same keys, no first-contact note.
  const again = await lookUpToShare(page, doctor.name);
  await expect(again.getByText('Verified doctor')).toBeVisible();
  await expect(again.getByText('First time you share')).toHaveCount(0);

  // The doctor asks for more.
  await openPatients(doctor.page);
  await doctor.page.getByLabel("Patient's username").fill(patient);
  await doctor.page.getByLabel('Reason').fill('Follow-up of your thyroid results');
  await doctor.page.getByRole('button', { name: 'Send request' }).click();
  await expect(doctor.page.getByRole('status').filter({ hasText: `Your request was sent to ${patient}` })).toBeVisible();

  // The server now serves other keys for the doctor.
  await swapKeysOf(page, doctor.name);
  const created = watchGrants(page);
  const changed = `${doctor.name}'s keys have changed since you first saw them, so nothing was shared.`;
  await openSharing(page);
  const requests = page.getByRole('region', { name: 'Requests from doctors' });
  await requests.getByRole('button', { name: 'Approve…' }).click();
  await requests.getByLabel('Share').selectOption({ label: 'Lab results' });
  await requests.getByRole('button', { name: 'Approve and share' }).click();
  const refusal = requests.getByRole('alert');
  await expect(refusal).toContainText(changed);
  await expect(refusal).toContainText('"Trust the new keys" on the Directory page');

  // Sharing directly is refused the same way, before any choice is offered.
  const share = await lookUpToShare(page, doctor.name);
  await expect(share.getByRole('alert')).toContainText(changed);
  await expect(share.getByLabel('Share', { exact: true })).toHaveCount(0);
  expect(created).toEqual([]);

  // The Directory page shows the change and offers to trust the new keys.
  await openDirectory(page, doctor.name);
  const warning = page.getByRole('alert').filter({ hasText: 'These keys are different from the ones you saved' });
  await expect(warning).toBeVisible();
  await expect(warning.getByRole('button', { name: 'Trust the new keys' })).toBeVisible();
  await page.unroute('**/api/directory/lookup');

  // Rollback: keep the current pin object, pin one more person, then serve the kept copy.
  const kept = await page.request.get('/api/account/pins', { headers: { 'x-medvault-request': '1' } });
  expect(kept.status()).toBe(200);
  const old = await kept.json();
  expect(old.value.counter).toBe(1);
  const kinContext = await browser.newContext({ baseURL });
  const kin = uniqueName('kin');
  await signUp(await kinContext.newPage(), kin, strongPassword('kin'));
  await kinContext.close();
  await openDirectory(page, kin);
  await expect(page.getByRole('status').filter({ hasText: `First time you see ${kin}'s keys` })).toBeVisible();
  await page.route('**/api/account/pins', (route) =>
    route.request().method() === 'GET' ? route.fulfill({ json: old }) : route.continue(),
  );
  const rolledBack = await lookUpToShare(page, doctor.name);
  await expect(rolledBack.getByRole('alert')).toContainText(
    'The server sent an older copy of your saved keys (copy 1; this browser has already seen copy 2), so nothing was shared.',
  );
  expect(created).toEqual([]);
  await doctor.context.close();
  expect(problems.page).toEqual([]);
});

test("the doctor's view refuses a patient key swapped after the first look", async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(180_000);
  const doctor = await verifiedDoctor(browser, baseURL!, createAdminInvite(baseURL!));
  const dr = doctor.page;
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  await firstShare(page, doctor.name);

  // The first open pins the patient's keys and shows their safety number.
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Lab results` })).toBeVisible();
  await expect(dr.getByRole('status').filter({ hasText: `First time you open ${patient}'s record. Their safety number:` })).toBeVisible();

  // The server swaps the patient's keys: nothing is opened.
  await swapKeysOf(dr, patient);
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  const refusal = dr.getByRole('alert');
  await expect(refusal).toContainText(`${patient}'s keys have changed since you first saw them, so nothing was opened.`);
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Lab results` })).toHaveCount(0);
  await doctor.context.close();
  expect(problems.page).toEqual([]);
});
