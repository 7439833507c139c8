// Playwright drives Debian's Chromium (never a downloaded browser) against the real
// server binary, started on a free loopback port with a fresh data directory.
import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// The config is evaluated in the runner and again in every worker; environment
// variables set here in the runner are inherited by the workers, so every process
// agrees on one port and one data directory.
process.env.MEDVAULT_E2E_PORT ??= String(20000 + Math.floor(Math.random() * 20000));
process.env.MEDVAULT_E2E_DATA ??= mkdtempSync(join(tmpdir(), 'medvault-e2e-'));
// Seconds the server adds to its clock (tests of expiry write it, then reset it).
process.env.MEDVAULT_E2E_CLOCK ??= join(mkdtempSync(join(tmpdir(), 'medvault-clock-')), 'offset');
// The SMTP sink the suite's server sends notification e-mail to: Debian's
// aiosmtpd, writing each message into this maildir (tests read `new/`).
process.env.MEDVAULT_E2E_SMTP_PORT ??= String(Number(process.env.MEDVAULT_E2E_PORT) + 1);
process.env.MEDVAULT_E2E_MAIL ??= join(mkdtempSync(join(tmpdir(), 'medvault-mail-')), 'maildir');

const port = process.env.MEDVAULT_E2E_PORT;
const root = resolve(__dirname, '..');
// The installation's org key whose fingerprint dist/ was built with
// (scripts/test.sh makes it); helpers/accounts.ts certifyAdmin signs with it.
// The server never reads it.
process.env.MEDVAULT_ORG_KEY_FILE ??= join(root, '.medvault', 'org.key');
const serverBin = process.env.MEDVAULT_SERVER_BIN ?? join(root, 'target', 'debug', 'medvault-server');
const site = process.env.MEDVAULT_SITE ?? join(root, 'dist');
const baseURL = `http://127.0.0.1:${port}`;

/**
 * The suite's server. `--test-clock-file` exists only in a server built with the
 * `test-clock` cargo feature (scripts/test.sh builds it so); the timing scripts run
 * the release server, which has no such flag, with `testClock` false.
 */
export function webServer(testClock: boolean) {
  const clock = testClock ? ` --test-clock-file "${process.env.MEDVAULT_E2E_CLOCK}"` : '';
  const smtpPort = process.env.MEDVAULT_E2E_SMTP_PORT;
  const mail = testClock
    ? ` --smtp-url smtp://127.0.0.1:${smtpPort} --smtp-from "medvault <noreply@medvault.test>"`
    : '';
  // The suite keeps JSON requests small (64 KiB) to test the limit; the bulk
  // benchmark sets MEDVAULT_E2E_MAX_BODY to the server's default (1 MiB).
  const maxBody = process.env.MEDVAULT_E2E_MAX_BODY ?? '65536';
  return {
    command: `"${serverBin}" serve --addr 127.0.0.1:${port} --data "${process.env.MEDVAULT_E2E_DATA}" --site "${site}" --max-body-bytes ${maxBody}${clock}${mail}`,
    url: `${baseURL}/api/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
    gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 10_000 },
    env: { MEDVAULT_LOG: process.env.MEDVAULT_LOG ?? 'warn' },
  };
}

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      command: `/usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:${process.env.MEDVAULT_E2E_SMTP_PORT} -c aiosmtpd.handlers.Mailbox "${process.env.MEDVAULT_E2E_MAIL}"`,
      port: Number(process.env.MEDVAULT_E2E_SMTP_PORT),
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore' as const,
      stderr: 'pipe' as const,
    },
    webServer(true),
  ],
});
