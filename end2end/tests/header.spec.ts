// The header once signed in: one line on a desktop with the account menu
// (Account, Directory, Access history, Sign out) behind the username; on a
// phone the navigation folds behind "Menu" so the header takes two lines at
// most. Everything by keyboard, with the states a screen reader announces.
import { test, expect } from '../fixtures/app';
import { accountMenuButton, signUp, strongPassword, uniqueName } from '../helpers/accounts';

/** Lines of text the header takes: its height over the brand's line height. */
async function headerLines(page: import('@playwright/test').Page) {
  const header = await page.locator('.site-header__inner').boundingBox();
  const brand = await page.getByRole('link', { name: 'medvault' }).first().boundingBox();
  if (!header || !brand) throw new Error('the header is not laid out');
  // Padding is about one brand height; a second row adds at least another.
  return Math.round((header.height - brand.height) / brand.height);
}

test('on a desktop the header is one line and the account menu works by keyboard', async ({ page }) => {
  const username = uniqueName('hdr');
  await signUp(page, username, strongPassword('header'));
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Home', 'Records', 'Vital signs', 'Sharing', 'Emergency', 'Notifications']) {
    await expect(nav.getByRole('link', { name, exact: true })).toBeVisible();
  }
  expect(await headerLines(page)).toBeLessThanOrEqual(1);
  // No "Menu" button where everything fits.
  await expect(page.getByRole('button', { name: 'Menu', exact: true })).toBeHidden();

  // The menu is closed, and its entries are not announced while closed.
  const menu = accountMenuButton(page);
  await expect(menu).toHaveAccessibleName(`Account menu for ${username}`);
  await expect(menu).toHaveAttribute('aria-expanded', 'false');
  await expect(nav.getByRole('link', { name: 'Account', exact: true })).toHaveCount(0);

  // Keyboard: focus the button, Enter opens, Tab reaches the entries.
  await menu.focus();
  await page.keyboard.press('Enter');
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('Tab');
  await expect(nav.getByRole('link', { name: 'Account', exact: true })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(nav.getByRole('link', { name: 'Directory', exact: true })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(nav.getByRole('link', { name: 'Access history', exact: true })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Sign out', exact: true })).toBeFocused();
  // Escape closes it and gives focus back to the button.
  await page.keyboard.press('Escape');
  await expect(menu).toHaveAttribute('aria-expanded', 'false');
  await expect(menu).toBeFocused();
  await expect(page.getByRole('button', { name: 'Sign out', exact: true })).toHaveCount(0);

  // A click elsewhere closes it; choosing an entry goes there and closes it.
  await menu.click();
  await page.getByRole('heading', { level: 1 }).click();
  await expect(menu).toHaveAttribute('aria-expanded', 'false');
  await menu.click();
  await nav.getByRole('link', { name: 'Directory', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Directory' })).toBeVisible();
  await expect(menu).toHaveAttribute('aria-expanded', 'false');
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('the navigation folds behind Menu and the header takes two lines at most', async ({ page }) => {
    const username = uniqueName('hdrp');
    await signUp(page, username, strongPassword('phone'));
    const toggle = page.getByRole('button', { name: 'Menu', exact: true });
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(toggle).toBeVisible();
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await expect(nav).toBeHidden();
    expect(await headerLines(page)).toBeLessThanOrEqual(2);
    // The page's heading starts right below the header.
    const heading = await page.getByRole('heading', { level: 1 }).boundingBox();
    expect(heading && heading.y).toBeLessThan(200);

    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await expect(nav.getByRole('link', { name: 'Records', exact: true })).toBeVisible();
    await nav.getByRole('link', { name: 'Records', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Records' })).toBeVisible();
    // A new page closes the menu.
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await expect(nav).toBeHidden();

    // Escape closes it too, with focus back on "Menu"; sign out from inside.
    await toggle.click();
    await page.keyboard.press('Escape');
    await expect(toggle).toBeFocused();
    await toggle.click();
    await accountMenuButton(page).click();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await expect(page.getByText('You have signed out.')).toBeVisible();
  });
});
