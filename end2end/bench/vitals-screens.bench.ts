// Not a test: screenshots of the vital signs page (with readings and the chart),
// search, and an export in progress, at desktop and phone width, for a person to
// look at (`npx playwright test --config playwright.bench.config.ts vitals-screens`).
// Set MOCK_RECORDS=1 to hold the record in the test's memory instead of the server.
import { test, expect, type Page } from '@playwright/test';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { mockRecords } from '../helpers/records-mock';

const out = process.env.SHOTS_DIR ?? '/tmp/shots';

test.use({ timezoneId: 'Europe/Paris' });

async function add(page: Page, kind: string, values: Record<string, string>, when: string) {
  const form = page.getByRole('region', { name: 'Add a reading' });
  await form.getByLabel('Measurement').selectOption({ label: kind });
  for (const [label, value] of Object.entries(values)) {
    await form.getByLabel(label, { exact: true }).fill(value);
  }
  await form.getByLabel('Date and time').fill(when);
  await form.getByRole('button', { name: 'Save reading' }).click();
  await expect(form.getByRole('status')).toContainText(`Saved: ${kind}`);
}

test('screenshots of vital signs, search and export', async ({ page }) => {
  await page.setViewportSize({ width: 1100, height: 900 });
  await signUp(page, uniqueName('maria'), strongPassword('shots'));
  if (process.env.MOCK_RECORDS) await mockRecords(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  await expect(page.getByText('No readings yet.')).toBeVisible();
  await page.screenshot({ path: `${out}/vitals-empty.png`, fullPage: true });

  const bp = [
    [132, 86],
    [128, 84],
    [135, 88],
    [126, 82],
    [122, 80],
    [124, 79],
    [119, 77],
  ];
  for (const [i, [sys, dia]] of bp.entries()) {
    const day = String(10 + i * 2).padStart(2, '0');
    await add(
      page,
      'Blood pressure',
      { 'Systolic (upper number)': String(sys), 'Diastolic (lower number)': String(dia) },
      `2026-11-${day}T0${7 + (i % 2)}:${i % 2 ? '45' : '10'}`,
    );
  }
  for (const [day, t] of [
    ['18', '37.1'],
    ['19', '38.4'],
    ['20', '37.8'],
    ['21', '37.0'],
  ]) {
    await add(page, 'Temperature', { Temperature: t }, `2026-11-${day}T08:30`);
  }
  await add(page, 'Pulse', { Pulse: '68' }, '2026-11-21T08:32');
  await add(page, 'Weight', { Weight: '71.4' }, '2026-11-21T07:00');
  await page.getByRole('region', { name: 'Over time' }).getByLabel('Show').selectOption({ index: 1 });
  await page.screenshot({ path: `${out}/vitals.png`, fullPage: true });

  // A refused value.
  const form = page.getByRole('region', { name: 'Add a reading' });
  await form.getByLabel('Measurement').selectOption({ label: 'Temperature' });
  await form.getByLabel('Temperature', { exact: true }).fill('73');
  await form.getByRole('button', { name: 'Save reading' }).click();
  await expect(form.getByRole('alert')).toBeVisible();
  await page.getByRole('region', { name: 'Over time' }).getByLabel('Show').selectOption({ index: 0 });
  await form.screenshot({ path: `${out}/vitals-refused.png` });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${out}/vitals-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1100, height: 900 });

  await page.getByRole('link', { name: 'Search your record' }).click();
  await page.getByRole('searchbox', { name: 'Search by name or description' }).fill('blood');
  await expect(page.getByRole('status').filter({ hasText: /result/ })).toBeVisible();
  await page.screenshot({ path: `${out}/search.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${out}/search-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1100, height: 900 });

  // An export held up by a slow answer, to see its progress.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route('**/api/records/chunk/**', async (route) => {
    await held;
    await route.fallback();
  });
  await page.route('**/api/records/tree', async (route) => {
    await held;
    await route.fallback();
  });
  const exportCard = page.getByRole('region', { name: 'Export' });
  await exportCard.getByRole('button', { name: 'Export my record' }).click();
  await expect(exportCard.getByRole('progressbar')).toBeVisible();
  await exportCard.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${out}/export-progress.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  await exportCard.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${out}/export-progress-phone.png` });
  release();
});
