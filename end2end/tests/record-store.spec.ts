// The decrypted record is fetched once per session (issue 18): a patient moves
// by the site's own links between Records, Vital signs, Search and Sharing and
// back, and the browser asks the server for the record tree exactly once. A
// change on Records (a new folder) fetches it once more, so every page sees it.
import { test, expect } from '../fixtures/app';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { itemList, openRecords } from '../helpers/records';
import type { Page } from '@playwright/test';

/** The path of the server function that answers the whole record tree
 * (`get_record` in shared/src/api/records.rs). */
const TREE = '/api/records/tree';

/** Counts the tree requests the page makes from now on. */
function countTreeRequests(page: Page): () => number {
  let count = 0;
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === TREE) count += 1;
  });
  return () => count;
}

async function openByNav(page: Page, link: string, heading: string) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
  await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
}

test('moving between the record pages fetches the tree once; a change fetches it once more', async ({ page }) => {
  const name = uniqueName('walker');
  await signUp(page, name, strongPassword('walk'));
  const treeRequests = countTreeRequests(page);

  // Records: the first open fetches (and creates) the record.
  await openRecords(page);
  await expect(itemList(page).getByRole('link', { name: 'Lab results', exact: true })).toBeVisible();
  expect(treeRequests()).toBe(1);

  // Vital signs: the readings list is drawn from the tree in memory.
  await openByNav(page, 'Vital signs', 'Vital signs');
  await expect(page.getByText('No readings yet.', { exact: false })).toBeVisible();

  // Search, by the link on the Vital signs page.
  await page.getByRole('link', { name: 'Search your record' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Search your record' })).toBeVisible();
  await expect(page.getByText('Opening your record…')).toHaveCount(0);

  // Sharing: its folder choice comes from the same tree.
  await openByNav(page, 'Sharing', 'Sharing');
  await expect(page.getByRole('heading', { level: 2, name: 'Share with a doctor' })).toBeVisible();

  // Back to Records.
  await openRecords(page);
  await expect(itemList(page).getByRole('link', { name: 'Lab results', exact: true })).toBeVisible();
  // Anything late would have been sent by now.
  await page.waitForTimeout(500);
  expect(treeRequests()).toBe(1);

  // A change on Records reloads the tree once, and the new folder shows.
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('Folder name').fill('Dentist');
  await page.getByRole('button', { name: 'Create folder' }).click();
  await expect(itemList(page).getByRole('link', { name: 'Dentist', exact: true })).toBeVisible();
  await page.waitForTimeout(500);
  expect(treeRequests()).toBe(2);

  // The other pages see the new folder without fetching again.
  await openByNav(page, 'Vital signs', 'Vital signs');
  await page.getByRole('link', { name: 'Search your record' }).click();
  await page.getByLabel('Search by name or description').fill('Dentist');
  await expect(page.getByRole('main').getByText('Dentist', { exact: true })).toBeVisible();
  await page.waitForTimeout(500);
  expect(treeRequests()).toBe(2);
});
