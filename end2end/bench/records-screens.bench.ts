// Not a test: screenshots of the records pages at desktop and phone width for a
// person to look at (`npx playwright test --config playwright.bench.config.ts
// records-screens`; SHOTS_DIR sets where they go).
import { test, expect, type Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import {
  actions,
  openFolder,
  openRecords,
  upload,
  writePdf,
  writePng,
  writeRandomFile,
} from '../helpers/records';

const out = process.env.SHOTS_DIR ?? '/tmp/shots';

async function both(page: Page, name: string) {
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.screenshot({ path: `${out}/${name}.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${out}/${name}-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1100, height: 900 });
}

test('screenshots of the records pages', async ({ page }, info) => {
  await page.setViewportSize({ width: 1100, height: 900 });
  await signUp(page, uniqueName('maria'), strongPassword('shots'));
  await openRecords(page);
  await openFolder(page, 'Lab results');
  const files: string[] = [];
  const png = info.outputPath('Knee X-ray 2026-02.png');
  writePng(png, 320);
  const pdf = info.outputPath('Full blood count, February.pdf');
  writePdf(pdf, 'Full blood count');
  const txt = info.outputPath('Questions for Dr Okafor.txt');
  writeFileSync(txt, 'Ask about the ferritin result.\nAsk whether to repeat the test in 3 months.\n');
  files.push(png, pdf, txt);
  await upload(page, files, files.map((f) => f.split('/').pop()!));
  await page.getByRole('button', { name: 'Clear finished' }).click();
  await both(page, 'records-folder');

  // An upload in progress: a large file, captured while the bar moves.
  const big = info.outputPath('CT abdomen series.bin');
  writeRandomFile(big, 300 * 1024 * 1024);
  await page.getByLabel('Upload files').setInputFiles(big);
  const bar = page.getByRole('progressbar', { name: 'Uploading CT abdomen series.bin' });
  await expect(bar).toBeVisible();
  await expect(page.getByText(/MB\/s/)).toBeVisible({ timeout: 60_000 });
  await both(page, 'records-uploading');
  await page.getByRole('button', { name: 'Cancel upload of CT abdomen series.bin' }).click();
  await expect(page.getByText('Cancelled. Nothing was kept.')).toBeVisible();

  // Versions dialog after an edit of the note.
  await actions(page, 'Questions for Dr Okafor.txt').getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog');
  await edit.getByLabel('Note').fill('Ask about the ferritin result.\nAsk about iron tablets.\n');
  await both(page, 'records-edit-note');
  await edit.getByRole('button', { name: 'Save new version' }).click();
  await expect(edit).toBeHidden();
  await actions(page, 'Questions for Dr Okafor.txt').getByRole('button', { name: 'Versions' }).click();
  await expect(page.getByRole('dialog').getByRole('row')).toHaveCount(3);
  await both(page, 'records-versions');
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

  // Previews.
  await actions(page, 'Knee X-ray 2026-02.png').getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByRole('dialog').getByRole('img')).toBeVisible();
  await both(page, 'records-preview-image');
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
  await actions(page, 'Full blood count, February.pdf').getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByRole('dialog').getByRole('link')).toBeVisible();
  // Wait for the browser's PDF viewer inside the frame, then for it to draw.
  await expect.poll(() => page.frames().some((f) => f.url().startsWith('chrome-extension://'))).toBe(true);
  await page.waitForTimeout(1500);
  await both(page, 'records-preview-pdf');
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
  await actions(page, 'Questions for Dr Okafor.txt').getByRole('button', { name: 'Preview' }).click();
  await both(page, 'records-preview-text');
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

  // Move dialog, then the trash.
  await actions(page, 'Knee X-ray 2026-02.png').getByRole('button', { name: 'Move' }).click();
  await both(page, 'records-move');
  await page.getByRole('dialog').getByRole('button', { name: 'Move' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  await actions(page, 'Full blood count, February.pdf').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('link', { name: /^Trash/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Trash' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Items in the trash' })).toBeVisible();
  await both(page, 'records-trash');
  await page.getByRole('button', { name: 'Empty trash' }).click();
  await both(page, 'records-empty-trash');
});
