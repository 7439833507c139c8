// Vital signs as a person enters them: one reading through the "Add a
// reading" form (the patient's /vitals page and a doctor's shared record
// draw the same form).
import type { Locator } from '@playwright/test';

/** Fills `form` with one reading of `kind` (each labelled value, the date
 * and time as the datetime-local input takes it) and saves it. */
export async function enterReading(form: Locator, kind: string, values: Record<string, string>, when: string) {
  await form.getByLabel('Measurement').selectOption({ label: kind });
  for (const [label, value] of Object.entries(values)) {
    await form.getByLabel(label, { exact: true }).fill(value);
  }
  await form.getByLabel('Date and time').fill(when);
  await form.getByRole('button', { name: 'Save reading' }).click();
}
