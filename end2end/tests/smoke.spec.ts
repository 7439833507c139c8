// The walking skeleton end to end: the real app in Chromium against the real server.
import { test, expect, appReady } from '../fixtures/app';

test('the start page loads and shows that the server is ready', async ({ page, problems }) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  await appReady(page);
  await expect(
    page.getByRole('heading', { level: 1, name: 'Your medical records, private by design' }),
  ).toBeVisible();
  const status = page.getByRole('region', { name: 'Server status' });
  await expect(status.getByText('Online: the server is ready.')).toBeVisible();
  await expect(status.getByText('0.1.0', { exact: true })).toBeVisible();
  await expect(status.getByText('Open', { exact: true })).toBeVisible();

  // Asking again goes back to the server and lands on the same answer.
  const again = page.waitForResponse((r) => r.url().endsWith('/api/health'));
  await status.getByRole('button', { name: 'Check again' }).click();
  expect((await again).status()).toBe(200);
  await expect(status.getByText('Online: the server is ready.')).toBeVisible();
  expect(problems.console).toEqual([]);
});

test('every page carries the security headers', async ({ page, problems }) => {
  const response = await page.goto('/');
  const h = response!.headers();
  const csp = h['content-security-policy'];
  expect(csp).toContain("default-src 'self'");
  expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/]+={0,2}'/);
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['referrer-policy']).toBe('no-referrer');
  expect(h['cross-origin-opener-policy']).toBe('same-origin');
  expect(h['permissions-policy']).toContain('camera=()');
  expect(h['strict-transport-security']).toBeUndefined(); // only under TLS
  await appReady(page);
  expect(problems.csp).toEqual([]);
});

test('the app loads its code with sub-resource integrity', async ({ page }) => {
  const html = await (await page.request.get('/')).text();
  expect(html).toMatch(/<link[^>]+\.wasm"[^>]+integrity="sha384-/);
  expect(html).toMatch(/<link[^>]+\.js"[^>]+integrity="sha384-/);
});

test('the app code arrives compressed and still passes its integrity check', async ({
  page,
  problems,
}) => {
  const assets: { url: string; headers: Record<string, string> }[] = [];
  page.on('response', (r) => {
    if (/\.(wasm|js|css)$/.test(new URL(r.url()).pathname)) {
      assets.push({ url: r.url(), headers: r.headers() });
    }
  });
  await page.goto('/');
  // The app only renders if Chromium accepted the integrity hashes, which are
  // over the decoded bytes.
  await appReady(page);
  const wasm = assets.find((a) => a.url.endsWith('_bg.wasm'));
  expect(wasm, 'the WASM was fetched').toBeDefined();
  for (const a of assets) {
    // Chromium offers brotli to a loopback http origin; the build made a copy.
    expect(a.headers['content-encoding'], a.url).toBe('br');
    expect(a.headers['vary']?.toLowerCase(), a.url).toContain('accept-encoding');
    expect(a.headers['cache-control'], a.url).toContain('immutable');
  }
  expect(wasm!.headers['content-type']).toBe('application/wasm');
  const index = await page.request.get('/');
  expect(index.headers()['cache-control']).toBe('no-cache');
  expect(problems.console).toEqual([]);
});

test('an unknown address shows a page-not-found with a way back', async ({ page, problems }) => {
  await page.goto('/no/such/page');
  await appReady(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Go to the start page' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(
    page.getByRole('heading', { level: 1, name: 'Your medical records, private by design' }),
  ).toBeVisible();
  expect(problems.page).toEqual([]);
});

test('a keyboard user can skip straight to the content', async ({ page }) => {
  await page.goto('/');
  await appReady(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to main content' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('main')).toBeFocused();
});
