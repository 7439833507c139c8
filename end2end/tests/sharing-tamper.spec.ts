// A lying store cannot get the new keys of a rotation. The patient shares Lab
// results with a doctor; while the server is down a grant to another account
// is written into its store (store_tamper grant-inject: a copy of the real
// grant, naming the other account and its key, under the patient's signature
// of the original). When the patient removes the doctor, the browser checks
// every grant the server says keeps access, finds one the patient never
// signed, and stops before a single new key is made: no part of the rotation
// is sent, and the page says why. Runs its own server (helpers/server.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '../fixtures/app';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { openFolder, openRecords, upload, writeMarkedFile } from '../helpers/records';
import { OwnServer } from '../helpers/server';
import { openPatients, openSharing, verifiedDoctor } from '../helpers/sharing';

const server = new OwnServer();
test.use({ baseURL: server.baseURL });
test.beforeAll(() => server.start());
test.afterAll(() => server.stop());

test('removing a doctor refuses a grant the store injected and sends no key', async ({
  page,
  browser,
  problems,
}) => {
  test.setTimeout(240_000);
  const doctor = await verifiedDoctor(browser, server.baseURL, server.adminInvite());

  // Someone else with an account: the injected grant names them.
  const mallory = uniqueName('mallory');
  const malloryContext = await browser.newContext({ baseURL: server.baseURL });
  await signUp(await malloryContext.newPage(), mallory, strongPassword('mallory'));
  await malloryContext.close();

  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  const dir = mkdtempSync(join(tmpdir(), 'medvault-inject-'));
  const labPath = join(dir, 'ferritin.txt');
  writeMarkedFile(labPath, 3_000, `MARKER-inject-${Date.now()}`);
  await openRecords(page);
  await openFolder(page, 'Lab results');
  await upload(page, [labPath], ['ferritin.txt']);

  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Lab results' });
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} can now read: Lab results.` })).toBeVisible();
  await doctor.context.close();

  // The store is changed while the server is down; the patient's tab stays open.
  await server.stop();
  expect(server.tamper('grant-inject', patient, mallory)).toContain(`to ${mallory}`);
  await server.start();

  const rotationCalls: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/sharing/rotation/part') || r.url().includes('/api/sharing/rotation/commit')) {
      rotationCalls.push(r.url());
    }
  });
  await openSharing(page);
  const grants = page.getByRole('region', { name: 'Doctors with access' });
  const labRow = grants.getByRole('listitem').filter({ hasText: doctor.name });
  // The patient's own list already tells the injected entry apart.
  const fake = grants.getByRole('listitem').filter({ hasText: mallory });
  await expect(fake).toContainText('Not made by you');
  await expect(fake.getByRole('note')).toContainText(`You did not sign this share with ${mallory}`);
  await expect(labRow).toContainText('Active');
  await expect(labRow).not.toContainText('Not made by you');
  await labRow.getByRole('button', { name: `Remove ${doctor.name}'s access` }).click();
  await labRow.getByRole('button', { name: 'Yes, remove access' }).click();
  const alert = labRow.getByRole('alert');
  await expect(alert).toContainText(`${doctor.name}'s access was removed`);
  await expect(alert).toContainText(
    "The server's list of people who keep access to this folder cannot be trusted: it includes a share that you did not sign.",
  );
  await expect(alert).toContainText('No keys were replaced and nothing was shared with anyone.');
  // Asking again meets the same list and the same refusal; still nothing sent.
  const again = labRow.getByRole('button', { name: 'Replace the keys again' });
  await again.click();
  await expect(again).toBeVisible();
  await expect(alert).toContainText('it includes a share that you did not sign');
  expect(rotationCalls).toEqual([]);
  // The remove controls went with the removal; only the retry stays.
  await expect(labRow.getByRole('button', { name: `Remove ${doctor.name}'s access` })).toHaveCount(0);
  await expect(labRow).toContainText('Removed');

  // The way out: the patient removes the entry they never made. Its rotation
  // finds no one left to give keys to, replaces the folder's keys, and no
  // part names a grant.
  const parts: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/sharing/rotation/part')) parts.push(r.postData() ?? '');
  });
  await fake.getByRole('button', { name: `Remove ${mallory}'s access` }).click();
  await fake.getByRole('button', { name: 'Yes, remove access' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${mallory} no longer has access to: Lab results.` })).toBeVisible();
  expect(parts.length).toBeGreaterThan(0);
  for (const body of parts) expect(JSON.parse(body).request.grants).toEqual([]);
  expect(problems.page).toEqual([]);
});

// A key the patient did not give. The patient shares Lab results with a
// doctor, who opens it. While the server is down the grant's wrapped key is
// replaced (store_tamper grant-key-swap) with a genuine HPKE wrap, to the
// doctor's real key, of a key the attacker chose: it would open, and the
// doctor would then write under a key the server knows. The grant the
// patient signed names the hash of the key they gave, so the doctor's
// browser refuses before unwrapping and says so.
test('a doctor opening a share refuses a wrapped key the patient did not give', async ({
  page,
  browser,
  problems,
}) => {
  test.setTimeout(240_000);
  const doctor = await verifiedDoctor(browser, server.baseURL, server.adminInvite());
  const dr = doctor.page;
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  const dir = mkdtempSync(join(tmpdir(), 'medvault-keyswap-'));
  const labPath = join(dir, 'ferritin.txt');
  writeMarkedFile(labPath, 3_000, `MARKER-keyswap-${Date.now()}`);
  await openRecords(page);
  await openFolder(page, 'Lab results');
  await upload(page, [labPath], ['ferritin.txt']);

  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();
  await share.getByLabel('Share', { exact: true }).selectOption({ label: 'Lab results' });
  await share.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} can now read: Lab results.` })).toBeVisible();

  // The honest share opens.
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Lab results` })).toBeVisible();
  await expect(dr.getByText('ferritin.txt')).toBeVisible();

  await server.stop();
  expect(server.tamper('grant-key-swap', patient, doctor.name)).toContain(`to ${doctor.name} for one the attacker chose`);
  await server.start();

  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  const alert = dr.getByRole('alert');
  await expect(alert).toContainText('The key for this shared folder was not the one the patient gave you');
  await expect(alert).toContainText('tell the patient and your administrator');
  await expect(dr.getByText('ferritin.txt')).toHaveCount(0);
  await doctor.context.close();
  expect(problems.page).toEqual([]);
});
