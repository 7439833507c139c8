// Bad input at the HTTP level gets a JSON error with the right status, and the
// server keeps serving.
import { test, expect } from '@playwright/test';
import { signUp, strongPassword, uniqueName } from '../helpers/accounts';
import { openRecords } from '../helpers/records';

// What the app sends with every call; reads need only the header, the rest also
// the Origin (docs/PROTOCOL.md 15.1).
const app = (baseURL: string | undefined) => ({ 'x-medvault-request': '1', origin: baseURL! });

test('an unknown API call is a 404 JSON error', async ({ request, baseURL }) => {
  const res = await request.post('/api/does-not-exist', { data: 'garbage', headers: app(baseURL) });
  expect(res.status()).toBe(404);
  expect(res.headers()['content-type']).toContain('application/json');
  expect(res.headers()['cache-control']).toBe('no-store');
  const body = await res.json();
  expect(body.code).toBe('not_found');
  expect(typeof body.message).toBe('string');
});

test('a wrong method is a 405 JSON error', async ({ request, baseURL }) => {
  const res = await request.delete('/api/health', { headers: app(baseURL) });
  expect(res.status()).toBe(405);
  expect((await res.json()).code).toBe('method_not_allowed');
});

test('malformed JSON is a 400 JSON error', async ({ request }) => {
  const res = await request.post('/api/csp-report', {
    headers: { 'content-type': 'application/json' },
    data: '{"csp-report": ',
  });
  expect(res.status()).toBe(400);
  expect((await res.json()).code).toBe('bad_request');
});

test('a body over the limit is a 413 JSON error and the server stays up', async ({
  request,
  playwright,
  baseURL,
}) => {
  const res = await request.post('/api/csp-report', {
    headers: { 'content-type': 'application/json' },
    data: 'x'.repeat(70_000),
  });
  expect(res.status()).toBe(413);
  expect((await res.json()).code).toBe('payload_too_large');

  // The server closes a connection whose body it refused to read; ask on a new
  // one (reusing that socket can race its close: ECONNRESET on a loaded machine).
  const fresh = await playwright.request.newContext({ baseURL });
  const health = await fresh.get('/api/health');
  expect(health.status()).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok', store_open: true });
  await fresh.dispose();
});

test('a state-changing call without the app header or from another origin is refused', async ({
  request,
  baseURL,
}) => {
  const body = { request: { username: 'someone', ke1: 'AAAA' } };
  for (const headers of [
    {},
    { origin: baseURL! },
    { 'x-medvault-request': '1' },
    { 'x-medvault-request': '1', origin: 'https://evil.example' },
  ]) {
    const res = await request.post('/api/account/login/start', { data: body, headers });
    expect(res.status(), JSON.stringify(headers)).toBe(403);
    expect((await res.json()).code).toBe('forbidden');
  }
  // With both it reaches the call, which then judges the (malformed) message.
  const res = await request.post('/api/account/login/start', { data: body, headers: app(baseURL) });
  expect(res.status()).toBe(400);
  expect((await res.json()).code).toBe('bad_request');
});

test('a read that uses the session needs the app header too; the app sends it on every call', async ({
  page,
  baseURL,
}) => {
  // Every API request the app makes, reads (GET) included, carries the header.
  const unmarked: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/') && url.pathname !== '/api/health' && r.headers()['x-medvault-request'] !== '1') {
      unmarked.push(`${r.method()} ${url.pathname}`);
    }
  });
  const name = uniqueName('reads');
  await signUp(page, name, strongPassword('reads'));
  // The records page reads the session, the tree (logged) and the sharing state.
  await openRecords(page);
  expect(unmarked, 'API requests without x-medvault-request').toEqual([]);

  // The same signed-in browser, without the header: refused before anything runs.
  for (const path of ['/api/account/session', '/api/records/tree', '/api/sharing/grants']) {
    const bare = await page.request.get(path);
    expect(bare.status(), path).toBe(403);
    expect((await bare.json()).code, path).toBe('forbidden');
  }
  const marked = await page.request.get('/api/account/session', { headers: app(baseURL) });
  expect(marked.status()).toBe(200);
  expect((await marked.json()).username).toBe(name);
});
