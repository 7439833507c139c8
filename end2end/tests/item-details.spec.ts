// Item details (issue 21): a type, a clinical date and a description set for a
// batch of uploads, edited later, shown in the list, searched by type and
// date range, kept across a new sign-in, and never on the server's disk in
// clear. A date the app cannot accept is refused with a sentence and changes
// nothing.
import { writeFileSync } from 'node:fs';
import { test, expect } from '../fixtures/app';
import { dataFiles, signIn, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { actions, itemList, openFolder, openRecords, upload } from '../helpers/records';

test.setTimeout(300_000);

test('details set for a batch of uploads, edited, listed and searched; a bad date changes nothing', async ({
  page,
  problems: _problems,
}, info) => {
  const username = uniqueName('patient');
  const password = strongPassword('details');
  await signUp(page, username, password);
  await openRecords(page);
  await openFolder(page, 'Lab results');

  // The panel says what new files get: the folder's type and nothing else.
  const panel = page.locator('details.upload-details');
  await expect(panel.locator('summary')).toHaveText('Details for the files you add: Lab result');
  await panel.locator('summary').click();
  await expect(panel.getByLabel('Type')).toHaveValue('0');
  const description = `Fasting glucose and HbA1c ${uniqueName('lab')}`;
  await panel.getByLabel('Clinical date').fill('2026-03-14');
  await panel.getByLabel('Description').fill(description);
  await expect(panel.locator('summary')).toHaveText(
    'Details for the files you add: Lab result, 14 Mar 2026, with a description',
  );

  // Two files in one pick: both get the details.
  const first = `glucose-${uniqueName('a')}.txt`;
  const second = `hba1c-${uniqueName('b')}.txt`;
  writeFileSync(info.outputPath(first), 'Glucose 5.1 mmol/L');
  writeFileSync(info.outputPath(second), 'HbA1c 38 mmol/mol');
  await upload(page, [info.outputPath(first), info.outputPath(second)], [first, second]);
  // The panel keeps what was set, for the next files of this folder.
  await expect(panel.locator('summary')).toHaveText(
    'Details for the files you add: Lab result, 14 Mar 2026, with a description',
  );
  for (const name of [first, second]) {
    const row = itemList(page).getByRole('listitem').filter({ hasText: name });
    await expect(row).toContainText('Lab result');
    await expect(row).toContainText('Dated 14 Mar 2026');
    await expect(row.locator('.item__description')).toHaveText(description);
  }

  // Edit the first file's details: another type, date and description.
  await actions(page, first).getByRole('button', { name: 'Details' }).click();
  const dialog = page.getByRole('dialog', { name: `Details of “${first}”` });
  await expect(dialog.getByLabel('Clinical date')).toHaveValue('2026-03-14');
  await expect(dialog.getByLabel('Description')).toHaveValue(description);

  // A date before 1900 is refused with a sentence, and nothing is saved.
  await dialog.getByLabel('Clinical date').fill('1850-01-01');
  await dialog.getByRole('button', { name: 'Save details' }).click();
  await expect(dialog.getByRole('alert')).toContainText('The clinical date must be a real date between 1900 and 2999');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(itemList(page).getByRole('listitem').filter({ hasText: first })).toContainText('Dated 14 Mar 2026');

  await actions(page, first).getByRole('button', { name: 'Details' }).click();
  await dialog.getByLabel('Type').selectOption({ label: 'Imaging' });
  await dialog.getByLabel('Clinical date').fill('2025-12-01');
  await dialog.getByLabel('Description').fill('Wrist X-ray report');
  await dialog.getByRole('button', { name: 'Save details' }).click();
  await expect(page.getByRole('status').filter({ hasText: `The details of “${first}” are saved.` })).toBeVisible();
  // Focus returns to the button that opened the dialog.
  await expect(actions(page, first).getByRole('button', { name: 'Details' })).toBeFocused();
  const edited = itemList(page).getByRole('listitem').filter({ hasText: first });
  await expect(edited).toContainText('Imaging');
  await expect(edited).toContainText('Dated 1 Dec 2025');
  await expect(edited.locator('.item__description')).toHaveText('Wrist X-ray report');

  // Another folder starts again from its own type.
  await page.getByRole('navigation', { name: 'Folder path' }).getByRole('link', { name: 'My record' }).click();
  await openFolder(page, 'Imaging');
  await expect(panel.locator('summary')).toHaveText('Details for the files you add: Imaging');

  // Sign in again: the details were sealed and stored, not kept in the tab.
  await page.reload();
  await signIn(page, username, password);
  await openRecords(page);
  await page.getByRole('link', { name: 'Search your record' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Search your record' })).toBeVisible();
  const results = page.getByRole('list', { name: 'Search results' });
  const count = page.locator('.search__count');

  // By type: the Imaging folder and the file now of that type.
  await page.getByLabel('Type').selectOption({ label: 'Imaging' });
  await expect(count).toHaveText('2 results');
  await expect(results.getByRole('link', { name: first })).toBeVisible();
  await expect(results.getByRole('link', { name: 'Imaging', exact: true })).toBeVisible();

  // By clinical date: folders have none, so only files in the range show.
  await page.getByLabel('Type').selectOption({ label: 'All types' });
  await page.getByLabel('From').fill('2026-03-01');
  await page.getByLabel('To').fill('2026-03-31');
  await expect(count).toHaveText('1 result');
  await expect(results.getByRole('link', { name: second })).toBeVisible();
  await page.getByLabel('From').fill('2025-11-01');
  await page.getByLabel('To').fill('2025-12-31');
  await expect(count).toHaveText('1 result');
  await expect(results.getByRole('link', { name: first })).toBeVisible();
  // Words in a description, together with the range.
  await page.getByLabel('Search by name or description').fill('wrist');
  await expect(count).toHaveText('1 result');
  await page.getByLabel('Search by name or description').fill('hba1c');
  await expect(count).toHaveText('No results');
  await page.getByLabel('From').fill('');
  await page.getByLabel('To').fill('');
  await expect(count).toHaveText('1 result');
  await expect(results.getByRole('link', { name: second })).toBeVisible();

  // The server holds the descriptions only as ciphertext.
  for (const text of [description, 'Wrist X-ray report']) {
    const needle = Buffer.from(text);
    for (const f of dataFiles()) {
      expect(f.bytes.includes(needle), `${text} in ${f.path}`).toBe(false);
    }
  }
});
