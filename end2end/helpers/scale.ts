// Two medvault servers on one PostgreSQL database behind nginx, as
// docs/OPERATIONS.md describes: a throwaway PostgreSQL cluster
// (scripts/pg-test-cluster.sh), the servers on free ports sharing one data
// directory (so one set of key files) and one chunk directory (--blobs), and
// nginx running
// docs/nginx/medvault-two-servers.conf with its addresses replaced.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(__dirname, '..', '..');
const bin =
  process.env.MEDVAULT_SERVER_BIN ?? join(root, 'target', 'debug', 'medvault-server');

function freePort(): number {
  return 30000 + Math.floor(Math.random() * 20000);
}

async function waitFor(url: string, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start`);
}

/** A throwaway PostgreSQL cluster; it stops when `stop` closes its pipe. */
class Postgres {
  private child: ChildProcess | null = null;
  url = '';

  async start(): Promise<void> {
    const child = spawn('bash', [join(root, 'scripts', 'pg-test-cluster.sh'), String(freePort())], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.child = child;
    const lines = createInterface({ input: child.stdout! });
    this.url = await new Promise<string>((ok, fail) => {
      lines.once('line', (line) => ok(line.trim()));
      child.once('exit', () => fail(new Error('the PostgreSQL test cluster did not start')));
    });
    if (!this.url.startsWith('postgres://')) throw new Error(`no PostgreSQL URL: ${this.url}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin!.end();
    await exited;
  }
}

/** One medvault server process of the pair. */
export class Backend {
  readonly port = freePort();
  private child: ChildProcess | null = null;

  constructor(
    private readonly data: string,
    private readonly store: string,
    private readonly blobs: string,
    private readonly origin: string,
  ) {}

  async start(): Promise<void> {
    const site = process.env.MEDVAULT_SITE ?? join(root, 'dist');
    this.child = spawn(
      bin,
      [
        'serve',
        '--addr', `127.0.0.1:${this.port}`,
        '--data', this.data,
        '--site', site,
        '--store', this.store,
        '--blobs', this.blobs,
        '--public-origin', this.origin,
        '--trusted-proxy', '127.0.0.1',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MEDVAULT_LOG: 'warn' } },
    );
    await waitFor(`http://127.0.0.1:${this.port}/api/health`, 'a medvault server');
  }

  /** SIGKILL: no goodbye, as when a machine dies. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

/** nginx with the shipped configuration in front of the two servers. */
class Nginx {
  readonly port = freePort();
  readonly dir = mkdtempSync(join(tmpdir(), 'medvault-nginx-'));
  private child: ChildProcess | null = null;

  async start(backends: Backend[]): Promise<void> {
    let site = readFileSync(join(root, 'docs', 'nginx', 'medvault-two-servers.conf'), 'utf8');
    site = site
      .replace('server 127.0.0.1:8081', `server 127.0.0.1:${backends[0].port}`)
      .replace('server 127.0.0.1:8082', `server 127.0.0.1:${backends[1].port}`)
      .replace('listen 127.0.0.1:8080', `listen 127.0.0.1:${this.port}`);
    writeFileSync(join(this.dir, 'medvault.conf'), site);
    for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(this.dir, d));
    const asRoot = process.getuid?.() === 0 ? 'user root;' : '';
    writeFileSync(
      join(this.dir, 'nginx.conf'),
      `${asRoot}
worker_processes 1;
pid ${this.dir}/nginx.pid;
error_log ${this.dir}/error.log warn;
events { worker_connections 512; }
http {
  log_format upstreams '$request_method $uri $status $upstream_addr';
  access_log ${this.dir}/access.log upstreams;
  client_body_temp_path ${this.dir}/body;
  proxy_temp_path ${this.dir}/proxy;
  fastcgi_temp_path ${this.dir}/fastcgi;
  uwsgi_temp_path ${this.dir}/uwsgi;
  scgi_temp_path ${this.dir}/scgi;
  include ${this.dir}/medvault.conf;
}
`,
    );
    const nginx = ['/usr/sbin/nginx', 'nginx'].find((p) => {
      try {
        execFileSync(p, ['-v'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    });
    if (!nginx) throw new Error('nginx is not installed: scripts/setup.sh --test installs it');
    this.child = spawn(nginx, ['-p', this.dir, '-c', join(this.dir, 'nginx.conf'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(`http://127.0.0.1:${this.port}/api/health`, 'nginx');
  }

  /** The upstream addresses nginx sent requests to, one per request. */
  upstreams(): string[] {
    return readFileSync(join(this.dir, 'access.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('/api/'))
      .map((l) => l.split(' ')[3] ?? '');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGQUIT');
    await exited;
  }
}

/** The whole set-up, started in order and stopped in reverse. */
export class TwoServers {
  readonly data = mkdtempSync(join(tmpdir(), 'medvault-two-'));
  private readonly postgres = new Postgres();
  private readonly nginx = new Nginx();
  backends: Backend[] = [];

  get baseURL(): string {
    return `http://127.0.0.1:${this.nginx.port}`;
  }

  async start(): Promise<void> {
    await this.postgres.start();
    // Chunks in an object store (a directory here; S3 in production).
    const blobs = `file://${mkdtempSync(join(tmpdir(), 'medvault-chunks-'))}`;
    this.backends = [0, 1].map(
      () => new Backend(this.data, this.postgres.url, blobs, this.baseURL),
    );
    // One after the other: the first makes the key files the second reads.
    for (const b of this.backends) await b.start();
    await this.nginx.start(this.backends);
  }

  upstreams(): string[] {
    return this.nginx.upstreams();
  }

  /** `medvault-server create-admin-invite` on the shared data directory. */
  adminInvite(): string {
    const out = execFileSync(
      bin,
      ['create-admin-invite', '--data', this.data, '--base-url', this.baseURL],
      { encoding: 'utf8', env: { ...process.env, MEDVAULT_LOG: 'warn' } },
    );
    const link = out.match(/https?:\/\/\S+\/signup\?invite=[A-Za-z0-9_-]+/);
    if (!link) throw new Error(`no invite link in: ${out}`);
    return link[0];
  }

  async stop(): Promise<void> {
    await this.nginx.stop();
    for (const b of this.backends) await b.stop();
    await this.postgres.stop();
  }
}
