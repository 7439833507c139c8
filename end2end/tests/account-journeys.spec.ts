// Account journeys in real Chromium against the real server: sign-up, sign-in,
// sign-out, password change, recovery, second factor, admin bootstrap, doctor
// verification and the key directory. Each test uses fresh usernames, so they are
// independent of order.
import { test, expect, appReady } from '../fixtures/app';
import {
  createAdminInvite,
  dataFiles,
  signIn,
  signOut,
  signUp,
  strongPassword,
  totpCode,
  uniqueName,
} from '../helpers/accounts';

const WRONG = 'The username or password is not right.';

test('a patient signs up, signs out and signs in again; a wrong password is refused', async ({
  page,
  problems,
}) => {
  const username = uniqueName('pat');
  const password = strongPassword('alpha');
  const code = await signUp(page, username, password);
  expect(code.replace(/[^0-9A-Z]/g, '').length).toBeGreaterThanOrEqual(56);
  await expect(page.getByText(username).first()).toBeVisible();

  await signOut(page);
  await expect(page.getByText('You have signed out.')).toBeVisible();

  await signIn(page, username, `${password}x`);
  await expect(page.getByRole('alert')).toContainText(WRONG);
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);

  // An unknown username reads exactly the same.
  await signIn(page, uniqueName('nobody'), password);
  await expect(page.getByRole('alert')).toContainText(WRONG);

  await signIn(page, username, password);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(page.getByText(username).first()).toBeVisible();
  expect(problems.csp).toEqual([]);
});

test('sign-up refuses a weak password and mismatched confirmation before sending anything', async ({
  page,
}) => {
  await page.goto('/signup');
  await appReady(page);
  const sent: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/account/signup')) sent.push(r.url());
  });
  await page.getByLabel('Username', { exact: true }).fill(uniqueName('weak'));
  await page.getByLabel('Password', { exact: true }).fill('password123456789');
  await page.getByLabel('Confirm password', { exact: true }).fill('password123456789');
  await expect(page.getByRole('meter')).toBeVisible();
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await page.getByLabel('Password', { exact: true }).fill(strongPassword('beta'));
  await page.getByLabel('Confirm password', { exact: true }).fill(strongPassword('gamma'));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  expect(sent).toEqual([]);
});

test('a taken username gets a readable message', async ({ page }) => {
  const username = uniqueName('taken');
  await signUp(page, username, strongPassword('delta'));
  await signOut(page);
  await page.goto('/signup');
  await page.getByLabel('Username', { exact: true }).fill(username.toUpperCase());
  await page.getByLabel('Password', { exact: true }).fill(strongPassword('epsilon'));
  await page.getByLabel('Confirm password', { exact: true }).fill(strongPassword('epsilon'));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText('taken');
});

test('after a password change the new password works and the old one does not', async ({
  page,
  browser,
}) => {
  const username = uniqueName('chg');
  const oldPassword = strongPassword('old');
  const newPassword = strongPassword('new');
  await signUp(page, username, oldPassword);

  // A second browser signed in to the same account loses its session.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, username, oldPassword);
  await expect(otherPage.getByRole('button', { name: 'Sign out' })).toBeVisible();

  await page.goto('/account');
  await page.getByLabel('Current password', { exact: true }).fill(oldPassword);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('Confirm password', { exact: true }).fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Password changed' })).toBeVisible({
    timeout: 30_000,
  });
  await expect(page.getByText(/1 other session/)).toBeVisible();

  const gone = await otherPage.request.get('/api/account/session');
  expect(await gone.json()).toBeNull();
  await other.close();

  await signOut(page);
  await signIn(page, username, oldPassword);
  await expect(page.getByRole('alert')).toContainText(WRONG);
  await signIn(page, username, newPassword);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
});

test('recovery with the code sets a new password and keeps the same keys', async ({ page }) => {
  const username = uniqueName('rec');
  const code = await signUp(page, username, strongPassword('first'));
  const before = await ownSafetyNumber(page, username);
  await signOut(page);

  // A wrong code is refused and changes nothing.
  await page.goto('/recover');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Recovery code', { exact: true }).fill('0000-0000-0000-0000');
  await page.getByLabel('New password', { exact: true }).fill(strongPassword('second'));
  await page.getByLabel('Confirm password', { exact: true }).fill(strongPassword('second'));
  await page.getByRole('button', { name: 'Recover account' }).click();
  await expect(page.getByRole('alert')).toBeVisible({ timeout: 30_000 });

  await page.getByLabel('Recovery code', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Recover account' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible({ timeout: 30_000 });
  expect(await ownSafetyNumber(page, username)).toBe(before);

  await signOut(page);
  await signIn(page, username, strongPassword('first'));
  await expect(page.getByRole('alert')).toContainText(WRONG);
  await signIn(page, username, strongPassword('second'));
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
});

test('a second factor is enrolled by QR code and then asked at sign-in', async ({ page }) => {
  const username = uniqueName('totp');
  const password = strongPassword('factor');
  await signUp(page, username, password);
  await page.goto('/account');
  await page.getByRole('button', { name: /second factor|authenticator/i }).first().click();
  await expect(page.getByRole('img', { name: /QR code/i })).toBeVisible();
  const secret = (await page.getByTestId('totp-secret').innerText()).replace(/\s+/g, '');
  await page.getByLabel('Authentication code', { exact: true }).fill('000000');
  await page.getByRole('button', { name: /confirm|turn on/i }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  const enrolledStep = Math.floor(Date.now() / 30_000);
  await page
    .getByLabel('Authentication code', { exact: true })
    .fill(totpCode(secret, enrolledStep * 30_000));
  await page.getByRole('button', { name: /confirm|turn on/i }).click();
  await expect(page.getByText(/second factor is on/i)).toBeVisible();

  await signOut(page);
  await signIn(page, username, password);
  const codeField = page.getByLabel('Authentication code', { exact: true });
  await expect(codeField).toBeVisible({ timeout: 30_000 });
  // A code is accepted once: if we are still in the enrolment's 30-second step,
  // use the next step's code (the server accepts one step of clock drift).
  const step = Math.max(Math.floor(Date.now() / 30_000), enrolledStep + 1);
  await codeField.fill(totpCode(secret, step * 30_000));
  await page.getByRole('button', { name: /verify|sign in/i }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
});

test('admin bootstrap, doctor invite and verification, and a patient sees the verified doctor', async ({
  page,
  browser,
  baseURL,
}) => {
  // The first admin comes from the command line.
  const link = createAdminInvite(baseURL!);
  const admin = uniqueName('admin');
  await signUp(page, admin, strongPassword('admin'), link);
  await expect(page.getByText(/admin/i).first()).toBeVisible();

  // The invite works once.
  const again = await browser.newContext();
  const againPage = await again.newPage();
  await againPage.goto(link);
  await againPage.getByLabel('Username', { exact: true }).fill(uniqueName('admin2'));
  await againPage.getByLabel('Password', { exact: true }).fill(strongPassword('again'));
  await againPage.getByLabel('Confirm password', { exact: true }).fill(strongPassword('again'));
  await againPage.getByRole('button', { name: 'Create account' }).click();
  await expect(againPage.getByRole('alert')).toBeVisible({ timeout: 30_000 });
  await again.close();

  // The admin invites a doctor.
  await page.goto('/admin');
  await page.getByLabel(/role/i).selectOption('doctor');
  await page.getByRole('button', { name: /invite/i }).click();
  const inviteLink = (await page.getByTestId('invite-link').innerText()).trim();
  expect(inviteLink).toContain('/signup?invite=');

  const doctorCtx = await browser.newContext();
  const doctorPage = await doctorCtx.newPage();
  const doctor = uniqueName('dr');
  await signUp(doctorPage, doctor, strongPassword('doctor'), inviteLink);
  await expect(doctorPage.getByText(/doctor/i).first()).toBeVisible();
  await doctorCtx.close();

  // The admin verifies the doctor with a licence id.
  await page.goto('/admin');
  const row = page.getByRole('row').filter({ hasText: doctor });
  await row.getByRole('button', { name: /verify/i }).click();
  await page.getByLabel(/licence/i).fill('GMC 7654321');
  await page.getByRole('button', { name: /sign certificate|verify doctor/i }).click();
  await expect(page.getByRole('row').filter({ hasText: doctor })).toContainText(/verified/i);

  // A patient looks the doctor up and sees the verified fingerprint.
  const patientCtx = await browser.newContext();
  const patientPage = await patientCtx.newPage();
  await signUp(patientPage, uniqueName('pat'), strongPassword('patient'));
  await patientPage.goto('/directory');
  await patientPage.getByLabel('Username', { exact: true }).fill(doctor);
  await patientPage.getByRole('button', { name: /look up/i }).click();
  const card = patientPage.getByRole('region', { name: new RegExp(doctor) });
  await expect(card).toContainText(/verified/i);
  await expect(card).toContainText('GMC 7654321');
  await expect(card.getByTestId('safety-number')).toHaveText(/(\d{5}\s*){12}/);

  // If the keys the directory serves ever differ from the ones seen before, the
  // app says so plainly. (Keys never change in this build, so the remembered value
  // is altered to stand in for a server that swapped them.)
  await patientPage.evaluate((name) => {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i)!;
      if (key.includes(name)) {
        const seen = JSON.parse(localStorage.getItem(key)!);
        seen.safety_number = '00000 00000 00000 00000 00000 00000 00000 00000 00000 00000 00000 00000';
        localStorage.setItem(key, JSON.stringify(seen));
      }
    }
  }, doctor);
  await patientPage.getByRole('button', { name: /look up/i }).click();
  await expect(patientPage.getByRole('alert')).toContainText(/changed/i);
  await patientCtx.close();
});

test('the server stored no password and no recovery code', async ({ page }) => {
  const username = uniqueName('disk');
  const password = strongPassword('needle-7d1f');
  const code = await signUp(page, username, password);
  const needles = [password, code, code.replace(/[^0-9A-Z]/g, '')].map((s) => Buffer.from(s));
  for (const file of dataFiles()) {
    for (const needle of needles) {
      expect(file.bytes.includes(needle), `${needle} in ${file.path}`).toBe(false);
    }
  }
});

async function ownSafetyNumber(page: import('@playwright/test').Page, username: string) {
  await page.goto('/directory');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByRole('button', { name: /look up/i }).click();
  const sn = page.getByTestId('safety-number');
  await expect(sn).toBeVisible();
  return (await sn.innerText()).trim();
}
