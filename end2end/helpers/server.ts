// A private server process for tests that must stop the server, change its store
// while it is down (store_tamper), and start it again. The suite's shared server
// (playwright.config.ts) cannot be stopped mid-run.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const binDir = process.env.MEDVAULT_SERVER_BIN
  ? resolve(process.env.MEDVAULT_SERVER_BIN, '..')
  : join(root, 'target', 'debug');

export class OwnServer {
  readonly data = mkdtempSync(join(tmpdir(), 'medvault-own-'));
  readonly port = 40000 + Math.floor(Math.random() * 20000);
  readonly baseURL = `http://127.0.0.1:${this.port}`;
  private child: ChildProcess | null = null;

  constructor(private readonly extraArgs: string[] = []) {}

  /** Starts the server and waits until it answers its health check. */
  async start(): Promise<void> {
    const site = process.env.MEDVAULT_SITE ?? join(root, 'dist');
    this.child = spawn(
      join(binDir, 'medvault-server'),
      ['serve', '--addr', `127.0.0.1:${this.port}`, '--data', this.data, '--site', site, ...this.extraArgs],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MEDVAULT_LOG: 'warn' } },
    );
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`${this.baseURL}/api/health`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the server did not start');
  }

  /** Stops it gracefully (SIGTERM: it signs the audit head and flushes). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.child = null;
  }

  /** Runs `store_tamper` on the stopped server's data directory. */
  tamper(...args: string[]): string {
    if (this.child) throw new Error('stop the server before changing its store');
    return execFileSync(join(binDir, 'store_tamper'), [this.data, ...args], { encoding: 'utf8' });
  }

  /** `medvault-server create-admin-invite` for this server. */
  adminInvite(): string {
    const out = execFileSync(
      join(binDir, 'medvault-server'),
      ['create-admin-invite', '--data', this.data, '--base-url', this.baseURL],
      { encoding: 'utf8', env: { ...process.env, MEDVAULT_LOG: 'warn' } },
    );
    const link = out.match(/https?:\/\/\S+\/signup\?invite=[A-Za-z0-9_-]+/);
    if (!link) throw new Error(`no invite link in: ${out}`);
    return link[0];
  }
}
