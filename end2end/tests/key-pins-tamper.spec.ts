// A store that hides a user's key pins. The patient's browser pins another
// user's keys (the pin object is saved on the server, copy 1); while the server
// is down, the object is deleted from its store (store_tamper pins-drop). The
// patient's browser, which verified copy 1, refuses to go on without it rather
// than start again from no pins, where any key would be a "first contact".
// Runs its own server (helpers/server.ts).
import { test, expect } from '../fixtures/app';
import { openFromAccountMenu, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { OwnServer } from '../helpers/server';

const server = new OwnServer();
test.use({ baseURL: server.baseURL });
test.beforeAll(() => server.start());
test.afterAll(() => server.stop());

test('a pin object deleted from the store is refused as a rollback', async ({ page, browser, problems }) => {
  test.setTimeout(120_000);
  const kin = uniqueName('kin');
  const kinContext = await browser.newContext({ baseURL: server.baseURL });
  await signUp(await kinContext.newPage(), kin, strongPassword('kin'));
  await kinContext.close();

  const patient = uniqueName('pat');
  await signUp(page, patient, strongPassword('patient'));
  const lookUp = async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
    await openFromAccountMenu(page, 'Directory');
    await page.getByLabel('Username').fill(kin);
    await page.getByRole('button', { name: 'Look up' }).click();
  };
  await lookUp();
  await expect(page.getByRole('status').filter({ hasText: `First time you see ${kin}'s keys` })).toBeVisible();

  // The store is changed while the server is down; the patient's tab stays open.
  await server.stop();
  expect(server.tamper('pins-drop', patient)).toContain(`deleted ${patient}'s key pin object`);
  await server.start();

  await lookUp();
  await expect(page.getByRole('alert')).toContainText(
    'The server sent an older copy of your saved keys (copy 0; this browser has already seen copy 1), so the keys could not be checked.',
  );
  await expect(page.getByRole('group', { name: `Safety number of ${kin}` })).toHaveCount(0);
  expect(problems.page).toEqual([]);
});
