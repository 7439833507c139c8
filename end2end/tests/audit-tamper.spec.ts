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
    await page.getByLabel('Role').selectOption('auditor');
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
