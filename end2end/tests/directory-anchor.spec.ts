// A doctor's key substituted at first contact. The doctor is real and verified by
// an admin the operator certified with the installation's org key. Then the
// server lies: its directory answer for the doctor carries keys this test made
// (whose private halves the server would hold) with a certificate signed by an
// "admin" the server made itself, with no certificate from the org key. The
// patient's browser, built with the org key's fingerprint, refuses the doctor
// on the share form and when approving the doctor's request, says why, and
// nothing is shared.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page, Route } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import {
  certifyAdmin,
  createAdminInvite,
  openFromAccountMenu,
  signUp,
  strongPassword,
  uniqueName,
} from '../helpers/accounts';
import { openPatients, openSharing, verifiedDoctor } from '../helpers/sharing';

const REFUSED = "This doctor's certificate was not made by your installation. Nothing was shared.";

// The canonical encoding of docs/PROTOCOL.md section 1: every field
// length-prefixed (u32 big-endian), the label first.
function field(bytes: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}
function bind(label: string, fields: Buffer[]): Buffer {
  return Buffer.concat([field(Buffer.from(label)), ...fields.map(field)]);
}
function i64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}
/** The raw 32-byte public key (the end of its SPKI encoding). */
function raw(key: KeyObject): Buffer {
  return (key.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32);
}
const b64 = (b: Buffer) => b.toString('base64url');

type Keys = { identity: KeyObject; identityPublic: Buffer; encryption: Buffer };
function keys(): Keys {
  const id = generateKeyPairSync('ed25519');
  const enc = generateKeyPairSync('x25519');
  return { identity: id.privateKey, identityPublic: raw(id.publicKey), encryption: raw(enc.publicKey) };
}

/** A self-signed key entry (section 9), as the JSON the directory serves. */
function keyEntry(id: Buffer, username: string, role: 'doctor' | 'admin', k: Keys, now: number) {
  const bytes = bind('medvault/v1/sign/key-entry', [
    id,
    Buffer.from(username),
    Buffer.from([role === 'doctor' ? 2 : 3]),
    k.identityPublic,
    k.encryption,
    i64(now),
  ]);
  return {
    value: {
      user_id: b64(id),
      username,
      role,
      identity_key: b64(k.identityPublic),
      encryption_key: b64(k.encryption),
      created_at: now,
    },
    signature: b64(sign(null, bytes, k.identity)),
  };
}

/** The answer a lying server gives for `doctorName`: new keys under the
 * doctor's id, certified by a server-made admin without an org certificate. */
function forgedAnswer(real: { entry: { value: { user_id: string } } }, doctorName: string) {
  const now = Math.floor(Date.now() / 1000);
  const doctorId = Buffer.from(real.entry.value.user_id, 'base64url');
  const adminId = Buffer.alloc(16, 7);
  const doctor = keys();
  const admin = keys();
  const licence = 'GMC-1234567';
  const certBytes = bind('medvault/v1/sign/doctor-certificate', [
    doctorId,
    Buffer.from(doctorName),
    doctor.identityPublic,
    doctor.encryption,
    Buffer.from(licence),
    adminId,
    i64(now),
  ]);
  return {
    entry: keyEntry(doctorId, doctorName, 'doctor', doctor, now),
    certificate: {
      value: {
        doctor_id: b64(doctorId),
        doctor_username: doctorName,
        doctor_identity_key: b64(doctor.identityPublic),
        doctor_encryption_key: b64(doctor.encryption),
        licence_id: licence,
        admin_id: b64(adminId),
        issued_at: now,
      },
      signature: b64(sign(null, certBytes, admin.identity)),
    },
    certifier: keyEntry(adminId, 'root.admin', 'admin', admin, now),
    certifier_certificate: null,
    disabled: false,
  };
}

/** Makes every directory answer about `doctorName` on `page` the forged one. */
async function substituteKeys(page: Page, doctorName: string) {
  let forged = 0;
  await page.route('**/api/directory/lookup', async (route: Route) => {
    const asked = route.request().postDataJSON() as { username?: string } | null;
    if (asked?.username !== doctorName) return route.continue();
    const response = await route.fetch();
    forged += 1;
    await route.fulfill({ response, json: forgedAnswer(await response.json(), doctorName) });
  });
  return () => forged;
}

test('a doctor whose keys were substituted at first contact is refused; nothing is shared', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(180_000);
  const doctor = await verifiedDoctor(browser, baseURL!, createAdminInvite(baseURL!));
  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));

  // Unaltered, the doctor is verified through the certified admin.
  await openSharing(page);
  const share = page.getByRole('region', { name: 'Share with a doctor' });
  await share.getByLabel("Doctor's username").fill(doctor.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByText('Verified doctor')).toBeVisible();

  // The doctor asks for access, so there is a request to approve.
  await openPatients(doctor.page);
  await doctor.page.getByLabel("Patient's username").fill(patient);
  await doctor.page.getByLabel('Reason').fill('Follow-up of your results');
  await doctor.page.getByRole('button', { name: 'Send request' }).click();
  await expect(doctor.page.getByRole('status').filter({ hasText: 'Your request was sent' })).toBeVisible();

  // From now on the server answers with keys it chose.
  const forged = await substituteKeys(page, doctor.name);
  await openSharing(page);
  await share.getByLabel("Doctor's username").fill(doctor.name);
  await share.getByRole('button', { name: 'Look up' }).click();
  await expect(share.getByRole('alert')).toContainText(REFUSED);
  await expect(share.getByRole('button', { name: 'Share', exact: true })).toHaveCount(0);
  await expect(share.getByText('Verified doctor')).toHaveCount(0);

  // Approving the doctor's request is refused the same way.
  const requests = page.getByRole('region', { name: 'Requests from doctors' });
  await requests.getByRole('button', { name: 'Approve…' }).click();
  await requests.getByLabel('Share').selectOption({ label: 'Lab results' });
  await requests.getByRole('button', { name: 'Approve and share' }).click();
  await expect(requests.getByRole('alert')).toContainText(REFUSED);
  // The directory page says so too.
  await openFromAccountMenu(page, 'Directory');
  await page.getByLabel('Username', { exact: true }).fill(doctor.name);
  await page.getByRole('button', { name: 'Look up' }).click();
  await expect(page.getByRole('alert')).toContainText("This doctor's certificate was not made by your installation");
  await expect(page.getByText('Verified doctor')).toHaveCount(0);
  expect(forged()).toBeGreaterThanOrEqual(3);

  // Nothing was shared: the patient's list is empty, the request still waits,
  // and the doctor's side (the server's own word) has no patient.
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await openSharing(page);
  await expect(
    page.getByRole('region', { name: 'Doctors with access' }).getByText('You have not shared your record with anyone.'),
  ).toBeVisible();
  await expect(requests).toContainText('Follow-up of your results');
  await openPatients(doctor.page);
  await expect(doctor.page.getByText('No patient has shared their record with you yet.')).toBeVisible();
  await doctor.context.close();
  expect(problems.page).toEqual([]);
});

test('an admin the operator has not certified cannot verify doctors; a certificate from another key is refused', async ({
  page,
  browser,
  baseURL,
  problems,
}) => {
  test.setTimeout(120_000);
  await signUp(page, uniqueName('admin'), strongPassword('admin'), createAdminInvite(baseURL!));
  await page.getByRole('link', { name: 'Admin' }).click();
  const card = page.getByRole('region', { name: 'Installation certificate' });
  await expect(card.getByText('Not certified yet: you cannot verify doctors until the operator certifies you.')).toBeVisible();

  // A doctor to verify.
  await page.getByLabel('Role', { exact: true }).selectOption('doctor');
  await page.getByRole('button', { name: 'Create invite link' }).click();
  const link = (await page.locator('.invite-link__url code').innerText()).trim();
  const context = await browser.newContext({ baseURL });
  const name = uniqueName('dr');
  await signUp(await context.newPage(), name, strongPassword('doctor'), link);
  await context.close();
  await page.getByRole('link', { name: 'Home' }).click();
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('button', { name: `Verify ${name}` }).click();
  await page.getByLabel('Licence id').fill('GMC-7654321');
  await page.getByRole('button', { name: 'Show safety number' }).click();
  await page.getByRole('button', { name: 'Sign certificate' }).click();
  const verify = page.getByRole('region', { name: `Verify doctor ${name}` });
  await expect(verify.getByRole('alert')).toContainText('You cannot verify doctors until the operator certifies you');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('row', { name: new RegExp(name.replace('.', '\\.')) }).getByText('Not yet')).toBeVisible();

  // A certificate made with another org key, and text that is no certificate.
  const request = (await card.getByLabel('Your certificate request').inputValue()).trim();
  const bin = process.env.MEDVAULT_SERVER_BIN ?? join(resolve(__dirname, '..', '..'), 'target', 'debug', 'medvault-server');
  const otherKey = join(mkdtempSync(join(tmpdir(), 'medvault-other-org-')), 'org.key');
  execFileSync(bin, ['org-key', 'init', '--out', otherKey], { stdio: 'ignore' });
  const foreign = execFileSync(bin, ['org-key', 'certify-admin', '--key', otherKey, '--request', request], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
  const paste = card.getByLabel('Certificate code from the operator');
  await paste.fill(foreign);
  await card.getByRole('button', { name: 'Store certificate' }).click();
  await expect(card.getByRole('alert')).toContainText("This certificate was not made by this installation's key for your keys. Nothing was stored.");
  await paste.fill('not a certificate');
  await card.getByRole('button', { name: 'Store certificate' }).click();
  await expect(card.getByRole('alert')).toContainText('This is not a certificate code');
  await expect(card.getByText('Not certified yet')).toBeVisible();

  // Certified with the installation's key, the admin can verify the doctor.
  await certifyAdmin(page);
  await page.getByRole('button', { name: `Verify ${name}` }).click();
  await page.getByLabel('Licence id').fill('GMC-7654321');
  await page.getByRole('button', { name: 'Show safety number' }).click();
  await page.getByRole('button', { name: 'Sign certificate' }).click();
  await expect(page.getByRole('row', { name: new RegExp(name.replace('.', '\\.')) }).getByText('Verified')).toBeVisible();
  expect(problems.page).toEqual([]);
});
