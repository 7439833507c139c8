// Timing scripts (not tests): the same server and browser setup as the suite, but
// run only by `scripts/bench.sh signin`. They print numbers and assert nothing
// about speed.
import base, { webServer } from './playwright.config';
import { defineConfig } from '@playwright/test';

// The timing scripts measure the server as it is deployed: its default 1 MiB
// limit for JSON requests, not the suite's 64 KiB (which made the bulk
// benchmark's batches 16 times smaller when run without scripts/bench.sh).
process.env.MEDVAULT_E2E_MAX_BODY ??= '1048576';

export default defineConfig({
  ...base,
  // The release server has no test clock (it is a test-build feature), and no
  // timing script moves time.
  webServer: webServer(false),
  testDir: './bench',
  testMatch: '**/*.bench.ts',
  timeout: 300_000,
  // No trace: recording one copies every request and answer body into it,
  // which cut the measured transfer speeds to a third.
  use: { ...base.use, trace: 'off' },
});
