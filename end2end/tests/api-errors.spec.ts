// Bad input at the HTTP level gets a JSON error with the right status, and the
// server keeps serving.
import { test, expect } from '@playwright/test';

test('an unknown API call is a 404 JSON error', async ({ request }) => {
  const res = await request.post('/api/does-not-exist', { data: 'garbage' });
  expect(res.status()).toBe(404);
  expect(res.headers()['content-type']).toContain('application/json');
  expect(res.headers()['cache-control']).toBe('no-store');
  const body = await res.json();
  expect(body.code).toBe('not_found');
  expect(typeof body.message).toBe('string');
});

test('a wrong method is a 405 JSON error', async ({ request }) => {
  const res = await request.delete('/api/health');
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

test('a body over the limit is a 413 JSON error and the server stays up', async ({ request }) => {
  const res = await request.post('/api/csp-report', {
    headers: { 'content-type': 'application/json' },
    data: 'x'.repeat(70_000),
  });
  expect(res.status()).toBe(413);
  expect((await res.json()).code).toBe('payload_too_large');

  const health = await request.get('/api/health');
  expect(health.status()).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok', store_open: true });
});
