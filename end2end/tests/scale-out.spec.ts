// Two servers on one PostgreSQL database behind nginx (helpers/scale.ts runs
// docs/nginx/medvault-two-servers.conf): a patient signs up and uploads a
// 5 MiB scan while nginx spreads the requests over both servers, a doctor
// granted access downloads it, and the auditor's check verifies one chain.
// Then one server is killed with SIGKILL during an upload: the rest of the
// upload goes to the other, and the file arrives whole.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { downloadHash, openFolder, openRecords, sha256, upload, writeRandomFile } from '../helpers/records';
import { TwoServers } from '../helpers/scale';
import { openPatients, openSharing, verifiedDoctor } from '../helpers/sharing';

const servers = new TwoServers();

test.beforeAll(async () => {
  test.setTimeout(120_000);
  await servers.start();
});

test.afterAll(async () => {
  await servers.stop();
});

test('two servers behind nginx: sign-up, a 5 MiB upload, a grant, the audit check, and a server killed mid-upload', async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const baseURL = servers.baseURL;
  const adminInvite = servers.adminInvite();
  const doctor = await verifiedDoctor(browser, baseURL, adminInvite);

  // The patient, through nginx.
  const patientContext = await browser.newContext({ baseURL });
  const page = await patientContext.newPage();
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  const dir = mkdtempSync(join(tmpdir(), 'medvault-scale-'));
  const scan = join(dir, 'ct-scan.bin');
  writeRandomFile(scan, 5 * 1024 * 1024);
  await openRecords(page);
  await openFolder(page, 'Lab results');
  await upload(page, [scan], ['ct-scan.bin']);

  // Both servers answered the journey so far.
  const [a, b] = servers.backends.map((s) => `127.0.0.1:${s.port}`);
  const used = servers.upstreams();
  expect(used.filter((u) => u === a).length).toBeGreaterThan(5);
  expect(used.filter((u) => u === b).length).toBeGreaterThan(5);

  // The doctor asks, the patient approves, the doctor downloads the scan.
  const dr = doctor.page;
  await openPatients(dr);
  await dr.getByLabel("Patient's username").fill(patient);
  await dr.getByLabel('Reason').fill('Review of the CT scan');
  await dr.getByRole('button', { name: 'Send request' }).click();
  await expect(dr.getByRole('status').filter({ hasText: `Your request was sent to ${patient}` })).toBeVisible();
  await openSharing(page);
  const requests = page.getByRole('region', { name: 'Requests from doctors' });
  await requests.getByRole('button', { name: 'Approve…' }).click();
  await requests.getByLabel('Share').selectOption({ label: 'Lab results' });
  await requests.getByRole('button', { name: 'Approve and share' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${doctor.name} can now read: Lab results.` })).toBeVisible();
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await expect(dr.getByRole('heading', { level: 1, name: `${patient}: Lab results` })).toBeVisible();
  expect(await downloadHash(dr, 'ct-scan.bin')).toBe(sha256(readFileSync(scan)));

  // The auditor's check verifies the one chain both servers appended to.
  const adminContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  await signUp(admin, uniqueName('admin'), strongPassword('admin'), servers.adminInvite());
  await admin.getByRole('link', { name: 'Admin' }).click();
  await admin.getByLabel('Role', { exact: true }).selectOption('auditor');
  await admin.getByRole('button', { name: 'Create invite link' }).click();
  const link = (await admin.locator('.invite-link__url code').innerText()).trim();
  const auditorContext = await browser.newContext({ baseURL });
  const auditor = await auditorContext.newPage();
  await signUp(auditor, uniqueName('auditor'), strongPassword('auditor'), link);
  await auditor.getByRole('link', { name: 'Audit log' }).click();
  await auditor.getByRole('button', { name: 'Verify the log' }).click();
  const verified = auditor.getByRole('status').filter({ hasText: /^Verified \d+ events\./ });
  await expect(verified).toBeVisible({ timeout: 60_000 });
  const events = Number((await verified.innerText()).match(/Verified (\d+)/)![1]);
  expect(events).toBeGreaterThan(10);

  // A second scan; the first server dies once its first chunk is on the way.
  const second = join(dir, 'mri.bin');
  writeRandomFile(second, 5 * 1024 * 1024);
  await openRecords(page);
  await openFolder(page, 'Lab results');
  let killed = false;
  page.on('request', (r) => {
    if (!killed && r.method() === 'PUT' && r.url().includes('/api/records/chunk/')) {
      killed = true;
      servers.backends[0].kill();
    }
  });
  await upload(page, [second], ['mri.bin']);
  expect(killed).toBe(true);
  expect(await downloadHash(page, 'mri.bin')).toBe(sha256(readFileSync(second)));
  // The doctor, whose session lives in the database, still reads through
  // the one server left.
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  expect(await downloadHash(dr, 'mri.bin')).toBe(sha256(readFileSync(second)));

  await Promise.all([patientContext, adminContext, auditorContext, doctor.context].map((c) => c.close()));
});
