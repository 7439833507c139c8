// The health summary and FHIR R4 (issue 22): a patient fills in allergies,
// medications, conditions and immunizations (with an edit and a removal in
// the history) and new vital signs, exports the record as a FHIR bundle that
// FHIR.js validates as R4, a second patient imports it and sees the same
// summary, and a doctor the record is shared with sees it too. Bad files get
// a sentence and import nothing. Patients and doctor in their own browsers.
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { test, expect } from '../fixtures/app';
import { dataFiles, signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { downloadHash, itemList, openFolder, openRecords, sha256File, upload, writeSparseFile } from '../helpers/records';
import { doctorAndPatient, openPatients, shareItem } from '../helpers/sharing';
import { enterReading } from '../helpers/vitals';
import { validateR4 } from '../helpers/fhir';

const fixture = (name: string) => join(__dirname, '..', 'fixtures', 'fhir', name);

async function openSummary(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Summary' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Health summary' })).toBeVisible();
}

function section(page: Page, name: string): Locator {
  return page.getByRole('region', { name });
}

/** Opens the section's Add form, fills each labelled field and saves. */
async function addItem(page: Page, name: string, add: string, fields: Record<string, string>, saved: string) {
  const card = section(page, name);
  await card.getByRole('button', { name: add }).click();
  for (const [label, value] of Object.entries(fields)) {
    const field = card.getByLabel(label, { exact: true });
    if ((await field.evaluate((e) => e.tagName)) === 'SELECT') await field.selectOption({ label: value });
    else await field.fill(value);
  }
  await card.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: saved })).toBeVisible();
}

async function fillSummary(page: Page) {
  await openSummary(page);
  await addItem(page, 'Allergies and intolerances', 'Add an allergy',
    { Substance: 'Penicillin', 'Reaction (optional)': 'Hives', Severity: 'Severe' }, 'Saved the allergy “Penicillin”.');
  await addItem(page, 'Medications', 'Add a medication',
    { Medication: 'Lisinopril', 'Dose and how often (optional)': '10 mg once a day', 'Taking since (optional)': '2023-05-02' },
    'Saved the medication “Lisinopril”.');
  await addItem(page, 'Conditions', 'Add a condition', { Condition: 'Hypertension', 'Since (optional)': '2023-04-18' },
    'Saved the condition “Hypertension”.');
  await addItem(page, 'Conditions', 'Add a condition', { Condition: 'Migraine', Status: 'Resolved' },
    'Saved the condition “Migraine”.');
  await addItem(page, 'Immunizations', 'Add an immunization',
    { Vaccine: 'Tdap (tetanus, diphtheria, pertussis)', 'Date given': '2022-08-09' },
    'Saved the immunization “Tdap (tetanus, diphtheria, pertussis)”.');

  // An edit keeps the earlier state in the history.
  const meds = section(page, 'Medications');
  await meds.getByRole('button', { name: 'Edit Lisinopril' }).click();
  await meds.getByLabel('Dose and how often (optional)').fill('20 mg once a day');
  await meds.getByRole('button', { name: 'Save changes' }).click();
  await expect(meds).toContainText('20 mg once a day');
  await meds.getByText('History (2 entries)').click();
  await expect(meds.getByRole('listitem').filter({ hasText: 'Added by You' }).last()).toContainText('10 mg once a day');

  // A removal moves the item under "Removed", with its history.
  const conditions = section(page, 'Conditions');
  await conditions.getByRole('button', { name: 'Remove Migraine' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Removed the condition “Migraine”' })).toBeVisible();
  await expect(conditions.getByText('Removed (1)')).toBeVisible();

  await expect(section(page, 'Allergies and intolerances')).toContainText('SNOMED CT 764146007');
  await expect(section(page, 'Immunizations')).toContainText('CVX 115');
}

async function addVitals(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vital signs' }).click();
  const form = page.getByRole('region', { name: 'Add a reading' });
  const readings: [string, Record<string, string>][] = [
    ['Oxygen saturation', { 'Oxygen saturation': '97' }],
    ['Height', { Height: '172' }],
    ['Weight', { Weight: '70' }],
    ['Blood pressure', { 'Systolic (upper number)': '121', 'Diastolic (lower number)': '79' }],
  ];
  for (const [kind, values] of readings) {
    await enterReading(form, kind, values, '2026-11-20T08:30');
    await expect(form.getByRole('status')).toContainText(`Saved: ${kind}`);
  }
}

async function expectSummary(page: Page, owner: string) {
  const allergies = section(page, 'Allergies and intolerances');
  await expect(allergies).toContainText('Penicillin');
  await expect(allergies).toContainText('SNOMED CT 764146007');
  await expect(allergies).toContainText('Reaction: Hives · Severity: severe');
  await expect(section(page, 'Medications')).toContainText('20 mg once a day');
  await expect(section(page, 'Medications')).toContainText('RxNorm 29046');
  await expect(section(page, 'Conditions')).toContainText('Hypertension');
  await expect(section(page, 'Immunizations')).toContainText('Tdap (tetanus, diphtheria, pertussis)');
  await expect(page.getByRole('listitem').filter({ hasText: 'Penicillin' }).first()).toContainText(`by ${owner}`);
}

test('a patient fills the summary and exports FHIR R4; another patient imports it; a doctor with access sees it', async ({
  page,
  browser,
  baseURL,
  problems: _problems,
}) => {
  test.setTimeout(300_000);
  const { doctor, patient } = await doctorAndPatient(page, browser, baseURL!);
  await fillSummary(page);
  await addVitals(page);
  const note = join(mkdtempSync(join(tmpdir(), 'fhir-')), 'visit-note.txt');
  writeFileSync(note, 'Seen for a check-up. Blood pressure fine.\n');
  await openRecords(page);
  // The summary's folder says where its entries are shown, not that it is empty.
  await openFolder(page, 'Health summary');
  await expect(page.getByText('What is written in this folder is listed on the Summary page.')).toBeVisible();
  await expect(page.getByText('This folder is empty')).toHaveCount(0);
  await openRecords(page);
  await openFolder(page, 'Notes');
  await upload(page, [note], ['visit-note.txt']);
  await openSummary(page);
  const snapshot = section(page, 'Latest vital signs');
  await expect(snapshot).toContainText('97 %');
  await expect(snapshot).toContainText('23.7 kg/m²');

  // Nothing the patient typed is on the server's disk.
  for (const f of dataFiles()) {
    for (const word of ['Penicillin', 'Lisinopril', 'Hypertension', '764146007']) {
      expect(f.bytes.includes(Buffer.from(word)), `${word} in ${f.path}`).toBe(false);
    }
  }

  // The export, files inside: one JSON bundle that FHIR.js validates as R4.
  const fhirCard = section(page, 'FHIR (for other health systems)');
  const downloading = page.waitForEvent('download');
  await fhirCard.getByRole('button', { name: 'Export as FHIR' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^medvault-fhir-\d{4}-\d{2}-\d{2}\.json$/);
  const bundlePath = (await download.path())!;
  const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
  expect(validateR4(bundle)).toEqual([]);
  const types = bundle.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType);
  expect(types.filter((t: string) => t === 'AllergyIntolerance')).toHaveLength(1);
  expect(types.filter((t: string) => t === 'Condition')).toHaveLength(1);
  const codes = bundle.entry.flatMap((e: { resource: { code?: { coding?: { code: string }[] } } }) =>
    (e.resource.code?.coding ?? []).map((c) => c.code));
  expect(codes).toEqual(expect.arrayContaining(['764146007', '38341003', '2708-6', '8302-2', '29463-7', '85354-9']));

  // The zip choice: the bundle beside the files, still valid R4.
  await fhirCard.getByLabel('Beside it in a zip (bundle.json and a files folder)').check();
  const zipping = page.waitForEvent('download');
  await fhirCard.getByRole('button', { name: 'Export as FHIR' }).click();
  const zipPath = (await (await zipping).path())!;
  const inZip = execFileSync('python3', ['-c',
    'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = [x for x in z.namelist() if x.endswith("/bundle.json")]; sys.stdout.write(z.read(n[0]).decode())',
    zipPath], { encoding: 'utf8' });
  expect(validateR4(JSON.parse(inZip))).toEqual([]);

  // A second patient imports the bundle after the preview.
  const other = await (await browser.newContext({ baseURL })).newPage();
  const otherName = uniqueName('pat');
  await signUp(other, otherName, strongPassword('other'));
  await openSummary(other);
  const importCard = section(other, 'FHIR (for other health systems)');
  await importCard.getByLabel('FHIR R4 bundle (.json)').setInputFiles(bundlePath);
  const preview = other.getByRole('region', { name: 'Import preview' });
  // The patient gave no profile, so the bundle's Patient has no name.
  await expect(preview).toContainText('This bundle names no patient.');
  await expect(preview).toContainText('1 allergy');
  await expect(preview).toContainText('1 document');
  await expect(preview).toContainText('4 vital-sign readings');
  await preview.getByRole('button', { name: 'Import into my record' }).click();
  await expect(other.getByRole('status').filter({ hasText: /Imported \d+ items into your record/ })).toBeVisible({ timeout: 60_000 });
  await expectSummary(other, 'You');
  await expect(section(other, 'Latest vital signs')).toContainText('23.7 kg/m²');
  await openRecords(other);
  await itemList(other).getByRole('link', { name: /^Imported \d{4}-\d{2}-\d{2}$/ }).click();
  await expect(itemList(other)).toContainText('visit-note.txt');
  expect(await downloadHash(other, 'visit-note.txt')).toBe(sha256File(note));

  // The doctor the whole record is shared with sees the summary.
  await shareItem(page, doctor.name, 'Whole record', 'Whole record', false);
  const dr = doctor.page;
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  const shared = dr.getByRole('region', { name: 'Health summary' });
  await expect(shared).toContainText('Penicillin');
  await expect(shared).toContainText('20 mg once a day');
  await expect(shared.getByRole('button', { name: 'Edit Penicillin' })).toHaveCount(0);
});

test('a doctor with read-and-write access adds an allergy, signed as theirs', async ({ page, browser, baseURL, problems: _problems }) => {
  test.setTimeout(180_000);
  const { doctor, patient } = await doctorAndPatient(page, browser, baseURL!);
  await openSummary(page);
  await addItem(page, 'Immunizations', 'Add an immunization', { Vaccine: 'Hepatitis B, adult', 'Date given': '2021-03-04' },
    'Saved the immunization “Hepatitis B, adult”.');
  await shareItem(page, doctor.name, 'Whole record', 'Whole record', true);
  const dr = doctor.page;
  await openPatients(dr);
  await dr.getByRole('region', { name: 'Shared with you' }).getByRole('link', { name: patient }).click();
  await addItem(dr, 'Allergies and intolerances', 'Add an allergy', { Substance: 'Latex', 'Reaction (optional)': 'Rash' },
    'Saved the allergy “Latex”.');
  await openSummary(page);
  const allergies = section(page, 'Allergies and intolerances');
  await expect(allergies).toContainText('Latex');
  await expect(allergies).toContainText(`Added by ${doctor.name}`);
});

test('bad FHIR files get a sentence and import nothing', async ({ page, problems: _problems }) => {
  test.setTimeout(120_000);
  await signUp(page, uniqueName('pat'), strongPassword('patient'));
  await openSummary(page);
  const card = section(page, 'FHIR (for other health systems)');
  const input = card.getByLabel('FHIR R4 bundle (.json)');
  const cases: [string, string][] = [
    [fixture('not-json.json'), 'This file is not JSON'],
    [fixture('not-a-bundle.json'), 'This file is a single FHIR Patient, not a Bundle.'],
    [fixture('stu3-bundle.json'), 'This bundle is FHIR STU3 (3.0); medvault reads FHIR R4 (4.0.1).'],
    [fixture('missing-fields.json'), 'has no code (the substance)'],
  ];
  for (const [file, says] of cases) {
    await input.setInputFiles(file);
    await expect(card.getByRole('alert')).toContainText(says);
    await expect(card.getByRole('alert')).toContainText('Nothing was imported.');
    await expect(page.getByRole('region', { name: 'Import preview' })).toHaveCount(0);
  }
  const big = join(mkdtempSync(join(tmpdir(), 'fhir-')), 'huge-bundle.json');
  writeSparseFile(big, 200 * 1024 * 1024);
  await input.setInputFiles(big);
  await expect(card.getByRole('alert')).toContainText('This file is 200 MB; medvault imports FHIR bundles of up to 50 MB.');
  await expect(section(page, 'Allergies and intolerances')).toContainText('No allergies and intolerances recorded.');

  // A bundle with resources medvault does not keep: listed with the reason.
  await input.setInputFiles(fixture('medication-request-bundle.json'));
  const preview = page.getByRole('region', { name: 'Import preview' });
  await expect(preview).toContainText('(MedicationRequest): medvault does not keep MedicationRequest resources');
  await expect(preview).toContainText('1 condition');
});

test('a server that hides the removal of an allergy is refused, and the summary is not shown', async ({ page, problems: _problems }) => {
  test.setTimeout(120_000);
  await signUp(page, uniqueName('pat'), strongPassword('patient'));
  const trees: string[] = [];
  page.on('response', async (r) => {
    if (new URL(r.url()).pathname === '/api/records/tree' && r.ok()) {
      try {
        trees.push(await r.text());
      } catch {
        // a navigation dropped it
      }
    }
  });
  await openSummary(page);
  await addItem(page, 'Allergies and intolerances', 'Add an allergy', { Substance: 'Latex' }, 'Saved the allergy “Latex”.');
  const known = new Set(JSON.parse(trees[trees.length - 1]).nodes.map((n: { node_id: string }) => n.node_id));
  await section(page, 'Allergies and intolerances').getByRole('button', { name: 'Remove Latex' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Removed the allergy “Latex”' })).toBeVisible();

  // The server leaves out the removal, as if the allergy were still current.
  let seq = 1_000_000;
  await page.route('**/api/records/seq*', (route) => route.fulfill({ contentType: 'application/json', body: String((seq += 1)) }));
  await page.route('**/api/records/tree*', async (route) => {
    const real = await route.fetch();
    const tree = JSON.parse(await real.text());
    tree.nodes = tree.nodes.filter((n: { node_id: string }) => known.has(n.node_id));
    await route.fulfill({ response: real, body: JSON.stringify(tree) });
  });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await openSummary(page);
  await expect(page.getByRole('alert').filter({ hasText: 'The server left out an item of this record that its signed summary lists.' })).toBeVisible();
  await expect(section(page, 'Allergies and intolerances')).toHaveCount(0);
});
