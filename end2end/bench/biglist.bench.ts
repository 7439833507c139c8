// Not a test: opening a record of many items (issue 19: "open a record of 10,000
// items: from the click on Records to the list shown"). A native generator
// (`server/benches/biglist_seed.rs`) signs a patient up and adds the files through
// the real API, each with its signed state and the next owner-signed head, so the
// browser checks every item as real. Then, RUNS times: a fresh sign-in (nothing
// decrypted held), a click on Records, timed inside the page with
// performance.now() until the first rows are shown and until the list is complete;
// then a click on the folder Imaging, which holds the other 9,700 files (a CD
// imported into one folder); then Home and back to Records, timed the same way.
// Also prints where the time went, from the app's User Timing measures
// (`app/src/platform/timing.rs`). Asserts nothing about speed.
//
// The row of the table is the first figure (a record of 10,000 items,
// 300 files and the five starter folders at its top).
//
// Knobs: BIGLIST_ITEMS (10000), BIGLIST_ROOT (300 files at the top, the rest in
// Imaging), RUNS (5), BIGLIST_USER (a patient seeded by an earlier run in the
// same MEDVAULT_E2E_DATA: no seeding; BIGLIST_IN_IMAGING then says how many of
// its files Imaging holds), BIGLIST_PROFILE=1 writes a CPU profile of the last cold
// open and of the last opening of Imaging to /tmp.
//
// Run: `scripts/bench.sh biglist` (release app and server; builds the generator).
import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { signIn, signOut, strongPassword, uniqueName } from '../helpers/accounts';

const ITEMS = Number(process.env.BIGLIST_ITEMS ?? 10000);
const AT_TOP = Math.min(Number(process.env.BIGLIST_ROOT ?? 300), ITEMS);
// The top of the record shows its files and the five starter folders.
const TOP_ROWS = AT_TOP + 5;
const IN_IMAGING = Number(process.env.BIGLIST_IN_IMAGING ?? ITEMS - AT_TOP);
const RUNS = Number(process.env.RUNS ?? 5);
const root = resolve(__dirname, '..', '..');

type Timing = { first: number; all: number };

/** Arms a timer on the next click and resolves when rows show and when the list is complete. */
async function arm(page: Page, expected: number, every = false) {
  await page.evaluate(([expected, every]) => {
    const w = window as unknown as { __open: Promise<Timing> };
    w.__open = new Promise<Timing>((resolve) => {
      let t0 = 0;
      let first = 0;
      document.addEventListener(
        'click',
        () => {
          t0 = performance.now();
        },
        { capture: true, once: true },
      );
      // Complete: every row is in the list, or the list is no longer busy and
      // offers the rest behind "Show more".
      const check = () => {
        if (t0 === 0) return;
        const list = document.querySelector('ul.items');
        const rows = list ? list.querySelectorAll(':scope > li').length : 0;
        if (rows > 0 && first === 0) first = performance.now() - t0;
        const more = !!document.querySelector('.items__more button');
        const busy = list?.getAttribute('aria-busy') === 'true';
        if (rows >= expected || (!every && rows > 0 && more && !busy)) {
          obs.disconnect();
          resolve({ first, all: performance.now() - t0 });
        }
      };
      const obs = new MutationObserver(check);
      obs.observe(document.body, { childList: true, subtree: true, attributes: true });
    });
  }, [expected, every] as const);
}

async function waitTiming(page: Page): Promise<Timing> {
  const t = await Promise.race([
    page.evaluate(() => (window as unknown as { __open: Promise<Timing> }).__open),
    new Promise<null>((r) => setTimeout(() => r(null), 300_000)),
  ]);
  if (!t) {
    await page.screenshot({ path: '/tmp/biglist-stuck.png' });
    throw new Error('the list did not show within 300 s (screenshot: /tmp/biglist-stuck.png)');
  }
  console.log(`  run: first rows ${t.first.toFixed(0)} ms, complete ${t.all.toFixed(0)} ms`);
  return t;
}

/** The app's measures since the last call, summed by name. */
async function measures(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const m of performance.getEntriesByType('measure')) {
      if (m.name.startsWith('medvault: ')) out[m.name.slice(10)] = (out[m.name.slice(10)] ?? 0) + m.duration;
    }
    performance.clearMeasures();
    performance.clearResourceTimings();
    return out;
  });
}

/** Runs `work`, under a CPU profile written to /tmp/biglist-NAME.cpuprofile when `name` is set. */
async function profiled(page: Page, name: string | null, work: () => Promise<void>) {
  if (!name) return work();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await work();
  const { profile } = await cdp.send('Profiler.stop');
  const path = `/tmp/biglist-${name}.cpuprofile`;
  writeFileSync(path, JSON.stringify(profile));
  console.log(`CPU profile: ${path}`);
  await cdp.detach();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('open a record of many items', async ({ page, baseURL }) => {
  test.setTimeout(3_600_000);
  // BIGLIST_USER: a patient seeded before in the same data directory
  // (MEDVAULT_E2E_DATA), to measure again without seeding again.
  const reuse = process.env.BIGLIST_USER;
  const username = reuse ?? uniqueName('big');
  const password = strongPassword('big');
  const seeded = Date.now();
  if (!reuse) execFileSync('cargo', ['test', '--locked', '-q', '-p', 'server', '--features', 'test-clock', '--bench', 'biglist_seed'], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      BIGLIST_URL: baseURL!,
      BIGLIST_USER: username,
      BIGLIST_PASSWORD: password,
      BIGLIST_ITEMS: String(ITEMS),
      BIGLIST_ROOT: String(AT_TOP),
    },
  });
  console.log(`patient ${username} in ${process.env.MEDVAULT_E2E_DATA}`);
  console.log(`setup: ${ITEMS} files (${AT_TOP} at the top, ${IN_IMAGING} in Imaging) made in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

  const nav = () => page.getByRole('navigation', { name: 'Main' });
  const cold: Timing[] = [];
  const folder: Timing[] = [];
  const back: Timing[] = [];
  let showAll = 0;
  let treeBytes = 0;
  const steps: Record<string, number[]> = {};
  for (let i = 0; i < RUNS; i++) {
    await signIn(page, username, password);
    await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible({
      timeout: 60_000,
    });
    await measures(page);
    const last = process.env.BIGLIST_PROFILE === '1' && i === RUNS - 1;
    await profiled(page, last ? 'records' : null, async () => {
      await arm(page, TOP_ROWS);
      await nav().getByRole('link', { name: 'Records' }).click();
      cold.push(await waitTiming(page));
    });
    // The tree's request as the browser saw it: the server's time to the
    // first byte, the download, and its size.
    const tree = await page.evaluate(() => {
      const e = performance
        .getEntriesByType('resource')
        .filter((r) => new URL(r.name).pathname === '/api/records/tree')
        .pop() as PerformanceResourceTiming | undefined;
      performance.clearResourceTimings();
      return e && { wait: e.responseStart - e.requestStart, download: e.responseEnd - e.responseStart, bytes: e.encodedBodySize };
    });
    if (tree) {
      (steps['tree request: server, to the first byte'] ??= []).push(tree.wait);
      (steps['tree request: download'] ??= []).push(tree.download);
      treeBytes = tree.bytes;
    }
    for (const [name, ms] of Object.entries(await measures(page))) (steps[name] ??= []).push(ms);
    if (IN_IMAGING > 0) {
      await profiled(page, last ? 'imaging' : null, async () => {
        await arm(page, IN_IMAGING);
        await page.getByRole('list', { name: 'Folders and files' }).getByRole('link', { name: 'Imaging', exact: true }).click();
        folder.push(await waitTiming(page));
      });
      if (i === 0 && IN_IMAGING > 200) {
        // Every row at once (what opening the folder cost before the list
        // showed a page at a time).
        await arm(page, IN_IMAGING, true);
        await page.getByRole('button', { name: `Show all ${IN_IMAGING}` }).click();
        showAll = (await waitTiming(page)).all;
      }
    }
    await nav().getByRole('link', { name: 'Home' }).click();
    await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${username}` })).toBeVisible();
    await arm(page, TOP_ROWS);
    await nav().getByRole('link', { name: 'Records' }).click();
    back.push(await waitTiming(page));
    await measures(page);
    await signOut(page);
  }
  const f = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
  console.log(`record of ${ITEMS} files (${TOP_ROWS} rows at the top, ${IN_IMAGING} files in Imaging), ${RUNS} runs:`);
  console.log(`  click on Records to the first rows shown: ${f(cold.map((t) => t.first))}`);
  console.log(`  click on Records to the list complete:    ${f(cold.map((t) => t.all))}`);
  if (folder.length) {
    console.log(`  click on Imaging to the first rows shown: ${f(folder.map((t) => t.first))}`);
    console.log(`  click on Imaging to the list complete:    ${f(folder.map((t) => t.all))}`);
    if (showAll) console.log(`  "Show all ${IN_IMAGING}" in Imaging to every row shown (one run): ${showAll.toFixed(0)} ms`);
  }
  console.log(`  back to Records from Home, first rows:    ${f(back.map((t) => t.first))}`);
  console.log(`  back to Records from Home, complete:      ${f(back.map((t) => t.all))}`);
  for (const [name, xs] of Object.entries(steps)) console.log(`  of which ${name}: ${f(xs)}`);
  console.log(`  the tree as served: ${(treeBytes / 1e6).toFixed(1)} MB of JSON`);
});
