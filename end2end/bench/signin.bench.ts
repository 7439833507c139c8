// Sign-in time in Chromium, from the click on "Sign in" to the signed-in page
// (the "Sign out" button rendered), measured inside the page with
// performance.now() so Playwright's polling is not counted. Prints the median and
// spread over many sign-ins of one account.
import { test, expect } from '@playwright/test';
import { signUp, signOut, strongPassword, uniqueName } from '../helpers/accounts';

const RUNS = Number(process.env.SIGNIN_RUNS ?? 25);

test('sign-in time, click to signed-in page', async ({ page }) => {
  const username = uniqueName('bench');
  const password = strongPassword('bench');
  await signUp(page, username, password);
  await signOut(page);

  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await page.goto('/signin');
    await page.getByLabel('Username', { exact: true }).fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    const button = page.getByRole('button', { name: 'Sign in' });
    await expect(button).toBeEnabled();
    // Arm a timer on the click and an observer for the signed-in page.
    await page.evaluate(() => {
      const w = window as unknown as { __signin: Promise<number> };
      w.__signin = new Promise<number>((resolve) => {
        let t0 = 0;
        document.addEventListener(
          'click',
          () => {
            t0 = performance.now();
          },
          { capture: true, once: true },
        );
        const done = () =>
          [...document.querySelectorAll('button')].some((b) => b.textContent?.trim() === 'Sign out');
        const obs = new MutationObserver(() => {
          if (t0 > 0 && done()) {
            obs.disconnect();
            resolve(performance.now() - t0);
          }
        });
        obs.observe(document.body, { childList: true, subtree: true, characterData: true });
      });
    });
    await button.click();
    const ms = await page.evaluate(
      () => (window as unknown as { __signin: Promise<number> }).__signin,
    );
    times.push(ms);
    await signOut(page);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  console.log(
    `sign-in click to signed-in page over ${RUNS} runs: median ${q(0.5).toFixed(1)} ms, ` +
      `p10 ${q(0.1).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms, min ${times[0].toFixed(1)} ms, ` +
      `max ${times[times.length - 1].toFixed(1)} ms`,
  );
});
