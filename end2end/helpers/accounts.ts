// Helpers for the account journeys: fill the real forms like a person would, read
// TOTP codes like an authenticator app, and run the server's command line.
import { expect, type Page } from '@playwright/test';
import { appReady } from '../fixtures/app';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

/** A username nobody has used in this run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

/** A password that passes the rules: long, not common, not the username. */
export function strongPassword(seed: string): string {
  return `quiet ${seed} lantern orchard 47 river`;
}

/** Signs up through /signup (or an invite link), saves the recovery code, continues.
 * Returns the recovery code shown once, groups joined by dashes. */
export async function signUp(page: Page, username: string, password: string, url = '/signup') {
  await page.goto(url);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Save your recovery code' })).toBeVisible({
    timeout: 30_000,
  });
  const code = (await page.getByLabel('Your recovery code').innerText()).trim().split(/\s+/).join('-');
  await page.getByLabel('I have saved my recovery code somewhere safe').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
  return code;
}

/** Signs in through /signin (without a second factor). */
export async function signIn(page: Page, username: string, password: string) {
  await page.goto('/signin');
  await appReady(page);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The header's account menu button (it names the signed-in user). */
export function accountMenuButton(page: Page) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: /^Account menu for / });
}

/**
 * Opens a page from the header's account menu, as a person does: the menu
 * first, then the link (in-app navigation keeps the keys held in memory).
 */
export async function openFromAccountMenu(page: Page, name: 'Account' | 'Directory' | 'Access history') {
  await accountMenuButton(page).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
}

/** Signs out from the header's account menu and waits for the signed-out page. */
export async function signOut(page: Page) {
  await accountMenuButton(page).click();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page.getByText('You have signed out.')).toBeVisible();
}

/** Looks `username` up in the directory and returns the safety number shown. */
export async function safetyNumberOf(page: Page, username: string) {
  // In-app navigation: a page load would drop the keys held in memory.
  await openFromAccountMenu(page, 'Directory');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByRole('button', { name: 'Look up' }).click();
  const group = page.getByRole('group', { name: `Safety number of ${username}` });
  await expect(group).toBeVisible();
  return (await group.innerText()).trim().split(/\s+/).join(' ');
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 secret, as an app computes it. */
export function totpCode(secretBase32: string, atMs = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretBase32.replace(/\s+/g, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const mac = createHmac('sha1', bytes).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

/** Runs `medvault-server create-admin-invite` on the running server's data directory. */
export function createAdminInvite(baseURL: string): string {
  const bin =
    process.env.MEDVAULT_SERVER_BIN ?? join(root, 'target', 'debug', 'medvault-server');
  const out = execFileSync(
    bin,
    ['create-admin-invite', '--data', process.env.MEDVAULT_E2E_DATA!, '--base-url', baseURL],
    { encoding: 'utf8', env: { ...process.env, MEDVAULT_LOG: 'warn' } },
  );
  const link = out.match(/https?:\/\/\S+\/signup\?invite=[A-Za-z0-9_-]+/);
  if (!link) throw new Error(`no invite link in: ${out}`);
  return link[0];
}

/** The installation's org key for this run (scripts/test.sh makes a development
 * one in .medvault/org.key and builds the app with its fingerprint). */
export function orgKeyFile(): string {
  return process.env.MEDVAULT_ORG_KEY_FILE ?? join(root, '.medvault', 'org.key');
}

/**
 * Certifies the signed-in admin on `page` as the operator would: reads the
 * request code on the Admin page's Installation certificate card, runs
 * `medvault-server org-key certify-admin` with the org key, and pastes the
 * certificate back. Leaves the page on the Admin page.
 */
export async function certifyAdmin(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  const request = page.getByLabel('Your certificate request');
  await expect(request).not.toHaveValue('');
  const code = (await request.inputValue()).trim();
  const bin =
    process.env.MEDVAULT_SERVER_BIN ?? join(root, 'target', 'debug', 'medvault-server');
  const certificate = execFileSync(
    bin,
    ['org-key', 'certify-admin', '--key', orgKeyFile(), '--request', code],
    { encoding: 'utf8', env: { ...process.env, MEDVAULT_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  ).trim();
  await page.getByLabel('Certificate code from the operator').fill(certificate);
  await page.getByRole('button', { name: 'Store certificate' }).click();
  await expect(
    page.getByRole('status').filter({ hasText: "Certified by this installation's key" }).first(),
  ).toBeVisible();
}

/** Every file under the server's data directory, as raw bytes. */
export function dataFiles(): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: p, bytes: readFileSync(p) });
    }
  };
  walk(process.env.MEDVAULT_E2E_DATA!);
  return out;
}
