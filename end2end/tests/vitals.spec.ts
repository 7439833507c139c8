// Vital signs, search and export as a patient uses them: enter readings (one in
// pounds), see them listed newest first and drawn, have an impossible value
// refused, delete one, find items by name and type, and download the record as a
// zip whose CSV holds the readings in UTC.
import { execFileSync } from 'node:child_process';
import { test, expect } from '../fixtures/app';
import { dataFiles, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import type { Locator, Page } from '@playwright/test';

// A zone an hour ahead of UTC in November proves local times become UTC in the CSV.
test.use({ timezoneId: 'Europe/Paris' });

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Checks the archive's structure and every CRC, as an unzip tool does. */
function testZip(path: string) {
  if (hasCommand('unzip')) execFileSync('unzip', ['-t', '-q', path]);
  else execFileSync('python3', ['-m', 'zipfile', '-t', path]);
}

/** The archive's entry names and one entry's text. */
function readZip(path: string, suffix: string): { names: string[]; text: string } {
  const script = [
    'import json, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'names = z.namelist()',
    'hit = [n for n in names if n.endswith(sys.argv[2])]',
    'print(json.dumps({"names": names, "text": z.read(hit[0]).decode() if hit else ""}))',
  ].join('\n');
  if (hasCommand('python3')) {
    return JSON.parse(execFileSync('python3', ['-c', script, path, suffix], { encoding: 'utf8' }));
  }
  const names = execFileSync('unzip', ['-Z1', path], { encoding: 'utf8' }).trim().split('\n');
  const hit = names.find((n) => n.endsWith(suffix));
  return { names, text: hit ? execFileSync('unzip', ['-p', path, hit], { encoding: 'utf8' }) : '' };
}

async function addReading(
  form: Locator,
  kind: string,
  values: Record<string, string>,
  when: string,
  shown: string,
  unit?: string,
) {
  await form.getByLabel('Measurement').selectOption({ label: kind });
  if (unit) await form.getByLabel('Unit').selectOption({ label: unit });
  for (const [label, value] of Object.entries(values)) {
    await form.getByLabel(label, { exact: true }).fill(value);
  }
  await form.getByLabel('Date and time').fill(when);
  await form.getByRole('button', { name: 'Save reading' }).click();
  await expect(form.getByRole('status')).toContainText(`Saved: ${kind} ${shown}, `);
}

async function openVitals(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Vital signs' })).toBeVisible();
}

test('vital signs: enter, refuse, chart, delete, search and export', async ({ page, problems }) => {
  const name = uniqueName('vitals');
  await signUp(page, name, strongPassword('vitals'));
  await openVitals(page);
  await expect(page.getByText('No readings yet.')).toBeVisible();
  await expect(page.getByText('No temperature readings yet.')).toBeVisible();

  const form = page.getByRole('region', { name: 'Add a reading' });
  await addReading(form, 'Temperature', { Temperature: '37.2' }, '2026-11-20T08:30', '37.2 °C');
  await addReading(
    form,
    'Blood pressure',
    { 'Systolic (upper number)': '121', 'Diastolic (lower number)': '79' },
    '2026-11-20T08:35',
    '121/79 mmHg',
  );
  await addReading(form, 'Pulse', { Pulse: '64' }, '2026-11-20T08:36', '64 bpm');
  await addReading(form, 'Weight', { Weight: '154' }, '2026-11-20T08:40', '69.9 kg', 'lb');
  await addReading(form, 'Blood glucose', { 'Blood glucose': '5.4' }, '2026-11-20T08:45', '5.4 mmol/L');
  await addReading(form, 'Temperature', { Temperature: '37.9' }, '2026-11-21T19:10', '37.9 °C');
  await addReading(
    form,
    'Blood pressure',
    { 'Systolic (upper number)': '128', 'Diastolic (lower number)': '84' },
    '2026-11-22T07:50',
    '128/84 mmHg',
  );

  // Listed newest first, each with its unit; 154 lb was stored as kilograms.
  const table = page.getByRole('table', { name: 'Your vital-sign readings, newest first' });
  const rows = table.getByRole('row');
  await expect(rows).toHaveCount(8);
  await expect(rows.nth(1)).toContainText('128/84 mmHg');
  await expect(rows.nth(2)).toContainText('37.9 °C');
  await expect(table).toContainText('69.9 kg');
  await expect(table).toContainText('64 bpm');
  await expect(table).toContainText('5.4 mmol/L');

  // The chart follows the last saved kind: blood pressure, two lines, four points.
  const chartRegion = page.getByRole('region', { name: 'Over time' });
  const bp = chartRegion.getByRole('img', { name: /^Blood pressure chart: 2 readings/ });
  await expect(bp).toBeVisible();
  await expect(bp.locator('[data-point]')).toHaveCount(4);
  await expect(bp).toHaveAccessibleName(/systolic 121 to 128, diastolic 79 to 84 mmHg/);
  await chartRegion.getByLabel('Show').selectOption({ label: 'Temperature (2)' });
  const temperature = chartRegion.getByRole('img', { name: /^Temperature chart: 2 readings/ });
  await expect(temperature.locator('[data-point]')).toHaveCount(2);
  await expect(temperature).toHaveAccessibleName(/37\.2 to 37\.9 °C; latest 37\.9 °C/);

  // An impossible value is refused with a focused message, and nothing is added.
  await form.getByLabel('Measurement').selectOption({ label: 'Temperature' });
  await form.getByLabel('Temperature', { exact: true }).fill('73');
  await form.getByRole('button', { name: 'Save reading' }).click();
  const alert = form.getByRole('alert');
  await expect(alert).toHaveText('Temperature must be between 30 and 45 °C.');
  await expect(alert).toBeFocused();
  await expect(rows).toHaveCount(8);
  // So is a lower number above the upper one.
  await form.getByLabel('Measurement').selectOption({ label: 'Blood pressure' });
  await form.getByLabel('Systolic (upper number)', { exact: true }).fill('70');
  await form.getByLabel('Diastolic (lower number)', { exact: true }).fill('90');
  await form.getByRole('button', { name: 'Save reading' }).click();
  await expect(alert).toContainText('must be higher than the second');
  await expect(rows).toHaveCount(8);

  // Deleting moves a reading to the trash; the list and the chart follow.
  await table.getByRole('button', { name: 'Delete Temperature 2026-11-21 19:10' }).click();
  await expect(page.getByText('Moved “Temperature 2026-11-21 19:10” to the trash.')).toBeVisible();
  await expect(rows).toHaveCount(7);
  await chartRegion.getByLabel('Show').selectOption({ label: 'Temperature (1)' });
  await expect(
    chartRegion.getByRole('img', { name: /^Temperature chart: 1 reading/ }).locator('[data-point]'),
  ).toHaveCount(1);

  // Search: by name, then by type, counted live.
  await page.getByRole('link', { name: 'Search your record' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Search your record' })).toBeVisible();
  const search = page.getByRole('searchbox', { name: 'Search by name or description' });
  const count = page.getByRole('status').filter({ hasText: /result/ });
  await search.fill('blood pressure 2026-11-22');
  await expect(count).toHaveText('1 result');
  const results = page.getByRole('list', { name: 'Search results' });
  const hit = results.getByRole('link', { name: 'Blood pressure 2026-11-22 07:50' });
  await expect(hit).toBeVisible();
  await expect(hit).toHaveAttribute('href', /^\/records\?folder=[A-Za-z0-9_-]+$/);
  await expect(results).toContainText('My record / Vital signs');
  await search.fill('PULSE');
  await expect(count).toHaveText('1 result');
  await search.fill('');
  await page.getByLabel('Type').selectOption({ label: 'Vital signs' });
  // The folder and its six remaining readings.
  await expect(count).toHaveText('7 results');
  await search.fill('temperature');
  await expect(count).toHaveText('1 result');
  await page.getByLabel('Type').selectOption({ label: 'Lab result' });
  await expect(count).toHaveText('No results');
  await search.fill('');
  await expect(count).toHaveText('1 result');
  await expect(results.getByRole('link', { name: 'Lab results' })).toBeVisible();

  // Export shows its progress and can be cancelled: nothing is saved.
  await openVitals(page);
  let downloads = 0;
  page.on('download', () => downloads++);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/records/tree*', async (route) => {
    await held;
    await route.fallback();
  });
  const exportCard = page.getByRole('region', { name: 'Export' });
  await exportCard.getByRole('button', { name: 'Export my record' }).click();
  await expect(exportCard.getByRole('progressbar', { name: 'Export progress' })).toBeVisible();
  await exportCard.getByRole('button', { name: 'Cancel export' }).click();
  release();
  await expect(exportCard.getByText('Export cancelled. Nothing was saved.')).toBeVisible();
  await page.unroute('**/api/records/tree*');
  expect(downloads).toBe(0);

  // Export: a zip that unpacks cleanly, with the readings in CSV and JSON.
  const downloading = page.waitForEvent('download');
  await exportCard.getByRole('button', { name: 'Export my record' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^medvault-record-\d{4}-\d{2}-\d{2}\.zip$/);
  await expect(page.getByText(/^Saved medvault-record-.*\.zip/)).toBeVisible();
  const zipPath = await download.path();
  testZip(zipPath);
  const csv = readZip(zipPath, '/vital-signs.csv');
  expect(csv.names).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^medvault-record-[\d-]+\/$/),
      expect.stringMatching(/\/Lab results\/$/),
      expect.stringMatching(/\/Vital signs\/$/),
      expect.stringMatching(/\/vital-signs\.json$/),
    ]),
  );
  const lines = csv.text.trimEnd().split('\r\n');
  expect(lines).toEqual([
    'taken_at,kind,value,second_value,unit',
    // 08:30 in Paris is 07:30 UTC in November.
    '2026-11-20T07:30:00Z,Temperature,37.2,,°C',
    '2026-11-20T07:35:00Z,Blood pressure,121,79,mmHg',
    '2026-11-20T07:36:00Z,Pulse,64,,bpm',
    '2026-11-20T07:40:00Z,Weight,69.85,,kg',
    '2026-11-20T07:45:00Z,Blood glucose,5.4,,mmol/L',
    '2026-11-22T06:50:00Z,Blood pressure,128,84,mmHg',
  ]);
  const json = JSON.parse(readZip(zipPath, '/vital-signs.json').text);
  expect(json.readings).toHaveLength(6);
  expect(json.readings[3]).toMatchObject({ kind: 'weight', value: 69.85, unit: 'kg' });

  // The server holds none of it in the clear.
  for (const file of dataFiles()) {
    for (const marker of ['Blood pressure 2026-11-22', '128/84', 'Vital signs']) {
      expect(file.bytes.includes(Buffer.from(marker)), `${marker} in ${file.path}`).toBe(false);
    }
  }
  expect(problems.console).toEqual([]);
});
