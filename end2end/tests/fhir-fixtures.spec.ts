// The FHIR R4 fixtures for the importer's tests: the valid bundles pass
// FHIR.js's R4 validation, the validator does catch a broken resource, and each
// malformed file is wrong in the way its name says. No page is needed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { validateR4 } from '../helpers/fhir';

const fixture = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'fhir', name), 'utf8');
const bundle = (name: string) =>
  JSON.parse(fixture(name)) as { resourceType: string; entry: { resource: Record<string, unknown> }[] };

test('the summary and medication-request bundles are valid FHIR R4', () => {
  expect(validateR4(bundle('summary-bundle.json'))).toEqual([]);
  expect(validateR4(bundle('medication-request-bundle.json'))).toEqual([]);
});

test('the validator reports a broken resource inside a bundle', () => {
  const broken = bundle('summary-bundle.json');
  const observation = broken.entry.find((e) => e.resource.resourceType === 'Observation')!.resource;
  observation.status = 'done';
  const immunization = broken.entry.find((e) => e.resource.resourceType === 'Immunization')!.resource;
  delete immunization.occurrenceDateTime;
  const errors = validateR4(broken);
  expect(errors).toContain('Observation.status: Code "done" not found in value set');
  expect(errors).toContain('Immunization.occurrence: Missing property');
});

test('each malformed fixture is malformed as named', () => {
  expect(() => JSON.parse(fixture('not-json.json'))).toThrow(SyntaxError);

  const patient = bundle('not-a-bundle.json');
  expect(patient.resourceType).toBe('Patient');
  expect(validateR4(patient)).toEqual([]);

  expect(validateR4(bundle('stu3-bundle.json'))).toEqual(
    expect.arrayContaining([
      'Condition.clinicalStatus.0: Unexpected property',
      'AllergyIntolerance.clinicalStatus.0: Unexpected property',
      'MedicationStatement.taken: Unexpected property',
    ]),
  );

  // R4 requires only the Immunization's occurrence; a missing allergy code or
  // observation value is legal R4 that the importer still has to cope with.
  // (FHIR.js reports the missing choice once per occurrence[x] type.)
  expect([...new Set(validateR4(bundle('missing-fields.json')))]).toEqual([
    'Immunization.occurrence: Missing property',
  ]);
});
