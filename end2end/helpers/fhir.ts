import { Fhir } from 'fhir';

// FHIR.js loads its bundled R4 (4.0.1) definitions by default; no parser needed.
const fhir = new Fhir();

/** Errors FHIR.js finds in an R4 resource ("location: message"; none = valid), so fixtures are proven R4 before the importer sees them. */
export function validateR4(resource: unknown): string[] {
  // FHIR.js throws on null and parses any other string as XML: only objects go in.
  if (typeof resource !== 'object' || resource === null) return [': not a JSON object'];
  // errorOnUnexpected: an unknown property (STU3's MedicationStatement.taken) is an error, not a warning.
  const { messages } = fhir.validate(resource, { errorOnUnexpected: true });
  return messages
    .filter((m) => m.severity === 'error' || m.severity === 'fatal')
    .map((m) => `${m.location}: ${m.message}`);
}
