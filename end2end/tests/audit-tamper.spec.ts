// Tampering with the audit log while the server is down: the auditor's check in
// the browser names the place where the chain breaks. Runs its own server process
// (helpers/server.ts) so it can stop it, edit the store, and start it again.
import { test, expect, type Page } from '@playwright/test';
import { signIn, signOut, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { OwnServer } from '../helpers/server';

async function verify(page: Page) {
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('button', { name: 'Verify the log' }).click();
}

test('the auditor names a changed event and events dropped behind a signed head', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const server = new OwnServer();
  await server.start();
  const context = await browser.newContext({ baseURL: server.baseURL });
  const page = await context.newPage();
  try {
    await signUp(page, uniqueName('admin'), strongPassword('admin'), server.adminInvite());
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByLabel('Role', { exact: true }).selectOption('auditor');
    await page.getByRole('button', { name: 'Create invite link' }).click();
    const link = (await page.locator('.invite-link__url code').innerText()).trim();
    await signOut(page);
    const auditor = uniqueName('auditor');
    const password = strongPassword('auditor');
    await signUp(page, auditor, password, link);
    await verify(page);
    await expect(page.getByText(/^Verified \d+ events\./)).toBeVisible({ timeout: 60_000 });

    // 1. One bit of event 2 changes while the server is down.
    await server.stop();
    server.tamper('audit-edit', '2');
    await server.start();
    await signIn(page, auditor, password);
    await verify(page);
    await expect(page.getByRole('alert')).toContainText(
      'The chain breaks at event 2: the event or one before it was changed after it was written.',
      { timeout: 60_000 },
    );

    // 2. The bit is put back, but the newest event, already covered by the head
    //    signed at shutdown, is dropped and the chain rewound before it.
    await server.stop();
    server.tamper('audit-edit', '2');
    const out = server.tamper('audit-drop-tail', '1');
    const dropped = Number(out.match(/dropped audit events (\d+)/)![1]);
    await server.start();
    await signIn(page, auditor, password);
    await verify(page);
    await expect(page.getByRole('alert')).toContainText(`The chain breaks at event ${dropped}:`, {
      timeout: 60_000,
    });
  } finally {
    await context.close();
    await server.stop();
  }
});

test('the auditor remembers the key and the log: a truncated log and a re-signed one are refused', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const server = new OwnServer();
  await server.start();
  const context = await browser.newContext({ baseURL: server.baseURL });
  const page = await context.newPage();
  try {
    await signUp(page, uniqueName('admin'), strongPassword('admin'), server.adminInvite());
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByLabel('Role', { exact: true }).selectOption('auditor');
    await page.getByRole('button', { name: 'Create invite link' }).click();
    const link = (await page.locator('.invite-link__url code').innerText()).trim();
    await signOut(page);
    const auditor = uniqueName('auditor');
    const password = strongPassword('auditor');
    await signUp(page, auditor, password, link);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await expect(page.getByText('This browser has not verified this log before.')).toBeVisible();
    const fingerprint = (await page.locator('.audit-key__fingerprint').innerText()).trim();
    expect(fingerprint).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
    await page.getByRole('button', { name: 'Verify the log' }).click();
    await expect(page.getByText(/^Verified \d+ events\./)).toBeVisible({ timeout: 60_000 });
    await expect(page.getByText('This browser now remembers the key')).toBeVisible();

    // 1. The normal case: new events, the same key, the log still verifies.
    await server.stop();
    await server.start();
    await signIn(page, auditor, password);
    await verify(page);
    await expect(page.getByText(/^Verified \d+ events\./)).toBeVisible({ timeout: 60_000 });
    await expect(page.getByText('This browser trusts this key')).toBeVisible();

    // 2. The tail cut off with every signed head over it: the shorter log is
    //    consistent on its own, but ends before what this browser verified.
    await server.stop();
    const cut = server.tamper('audit-truncate', '3');
    expect(cut).toMatch(/dropped audit events \d+ to \d+ and \d+ signed heads/);
    await server.start();
    await signIn(page, auditor, password);
    await verify(page);
    await expect(page.getByRole('alert')).toContainText(
      /The log now ends before event \d+, which this browser verified earlier: events were removed from the end/,
      { timeout: 60_000 },
    );

    // 3. An event rewritten and every head signed again with a new key, written
    //    over the key file: refused before anything is checked.
    await server.stop();
    const out = server.tamper('audit-rewrite', '2', 'new-key');
    const newPrint = out.match(/key (([0-9a-f]{4} ){7}[0-9a-f]{4})/)![1];
    expect(newPrint).not.toBe(fingerprint);
    await server.start();
    await signIn(page, auditor, password);
    await verify(page);
    const alert = page.getByRole('alert');
    await expect(alert).toContainText(
      'The audit log is now signed by a different key than the one this browser verified before, so nothing was checked.',
      { timeout: 60_000 },
    );
    await expect(alert).toContainText(fingerprint);
    await expect(page.locator('.audit-key__new')).toHaveText(newPrint);

    // Trusting the new key (as after a real key change) does not forgive what
    // was removed and rewritten before it.
    await page.getByRole('button', { name: 'Trust the new key' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'now trusts the audit key' })).toContainText(newPrint);
    await page.getByRole('button', { name: 'Verify the log' }).click();
    await expect(page.getByRole('alert')).toContainText(
      /The log now ends before event \d+|is not the one this browser verified earlier/,
      { timeout: 60_000 },
    );
  } finally {
    await context.close();
    await server.stop();
  }
});
