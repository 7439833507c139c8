// Print (issue 21): a folder's list and the vital signs print with whose
// record it is and the date on top, and without the navigation, forms and
// buttons that only work on a screen. Checked in Chromium's print media;
// the Print button opens the browser's print dialog.
import { writeFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { itemList, openFolder, openRecords, upload } from '../helpers/records';

/** Counts calls of window.print instead of opening the dialog. */
async function catchPrint(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { printed: number; print: () => void };
    w.printed = 0;
    w.print = () => {
      w.printed += 1;
    };
  });
}

const printed = (page: Page) => page.evaluate(() => (window as unknown as { printed: number }).printed);

test("a folder's list and the vital signs print with the patient's name on top and no controls", async ({
  page,
  problems: _problems,
}, info) => {
  const username = uniqueName('patient');
  await signUp(page, username, strongPassword('print'));
  await openRecords(page);
  await openFolder(page, 'Lab results');
  const panel = page.locator('details.upload-details');
  await panel.locator('summary').click();
  await panel.getByLabel('Clinical date').fill('2026-03-14');
  await panel.getByLabel('Description').fill('Fasting glucose');
  writeFileSync(info.outputPath('glucose.txt'), 'Glucose 5.1 mmol/L');
  await upload(page, [info.outputPath('glucose.txt')], ['glucose.txt']);

  // On screen: a Print button, no print heading.
  const header = page.locator('.print-header');
  await expect(header).toBeHidden();
  await catchPrint(page);
  await page.getByRole('button', { name: "Print this folder's list" }).click();
  expect(await printed(page)).toBe(1);

  // On paper: the heading, the folder and its items with their details, no controls.
  await page.emulateMedia({ media: 'print' });
  await expect(header).toBeVisible();
  await expect(header).toContainText(`Medical record of ${username}`);
  await expect(header).toContainText('Printed from medvault on');
  await expect(page.getByRole('heading', { level: 1, name: 'Lab results' })).toBeVisible();
  const row = itemList(page).getByRole('listitem').filter({ hasText: 'glucose.txt' });
  await expect(row).toContainText('Dated 14 Mar 2026');
  await expect(row).toContainText('Fasting glucose');
  for (const hidden of [
    page.getByRole('banner'),
    page.getByRole('contentinfo'),
    page.getByRole('button', { name: 'Download' }),
    page.getByLabel('Upload files'),
    page.getByRole('button', { name: 'Export my record' }),
    page.getByRole('button', { name: "Print this folder's list" }),
  ]) {
    await expect(hidden).toBeHidden();
  }

  // The vital signs: the table and the chart, without the form and its buttons.
  await page.emulateMedia({ media: 'screen' });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  const form = page.getByRole('region', { name: 'Add a reading' });
  await form.getByLabel('Measurement').selectOption({ label: 'Pulse' });
  await form.getByLabel('Pulse', { exact: true }).fill('66');
  await form.getByRole('button', { name: 'Save reading' }).click();
  await expect(form.getByRole('status')).toContainText('Saved: Pulse 66 bpm');
  await catchPrint(page);
  await page.getByRole('button', { name: 'Print your vital signs' }).click();
  expect(await printed(page)).toBe(1);
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('.print-header')).toContainText(`Medical record of ${username}`);
  await expect(page.getByRole('table', { name: 'Your vital-sign readings, newest first' })).toContainText('66 bpm');
  await expect(page.getByRole('img', { name: /^Pulse chart: 1 reading/ })).toBeVisible();
  await expect(form).toBeHidden();
  await expect(page.getByRole('button', { name: /^Delete/ })).toBeHidden();
  await expect(page.getByRole('region', { name: 'Export' })).toBeHidden();
  await page.screenshot({ path: info.outputPath('vitals-print.png'), fullPage: true });
});
