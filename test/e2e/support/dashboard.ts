/**
 * The dashboard as a user runs it (`kubectl rolloutgroup dashboard`, a real process with a kubeconfig),
 * Debian's chromium driven by playwright-core, and a user with read-only rights on a namespace.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const PLUGIN = new URL('../../../dist/kubectl-rolloutgroup.js', import.meta.url).pathname;
/** Debian's chromium: installed by `npm run test:e2e` (scripts/install-debian.sh chromium). */
export const CHROMIUM = process.env['TANDEM_CHROMIUM'] ?? '/usr/bin/chromium';
export const DOCS_IMAGES = new URL('../../../docs/images/', import.meta.url).pathname;

export class DashboardProcess {
  private output = '';
  private readonly child: ChildProcess;
  readonly url: string;
  private constructor(child: ChildProcess, url: string) {
    this.child = child;
    this.url = url;
  }

  /** Starts `dashboard --port 0` and resolves with the URL it prints. */
  static async start(kubeconfig: string, args: readonly string[]): Promise<DashboardProcess> {
    const child = spawn(process.execPath, [PLUGIN, 'dashboard', '--port', '0', '--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dashboard did not start in 30 s:\n${out}`)), 30_000);
      const onData = (b: Buffer) => {
        out += b.toString();
        const m = /Tandem dashboard at (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`dashboard exited with ${code}:\n${out}`)));
    });
    const d = new DashboardProcess(child, url);
    d.output = out;
    child.stdout!.on('data', (b: Buffer) => (d.output += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (d.output += b.toString()));
    return d;
  }

  get log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

export function launchBrowser(): Promise<Browser> {
  // The tests run as root on CI machines: chromium's sandbox needs an unprivileged user.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/** Runs axe-core in the page (evaluated over CDP, so the page's CSP needs no exception) and returns its violations. */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string | null; help: string; nodes: string[] }[]> {
  const source = readFileSync(new URL('../../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
  await page.evaluate(source);
  // A string, so this file needs no DOM types: the page has them.
  const run = `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))`;
  return page.evaluate(run) as Promise<{ id: string; impact: string | null; help: string; nodes: string[] }[]>;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(DOCS_IMAGES, { recursive: true });
  await page.screenshot({ path: join(DOCS_IMAGES, name), fullPage: false });
}

/**
 * A ServiceAccount in `ns` that may read groups, Rollouts, Services and Events but patch nothing,
 * and a kubeconfig with its TokenRequest token: a user without the right to patch the group.
 */
export function readOnlyKubeconfig(kubectl: string, adminKubeconfig: string, ns: string, outDir: string): string {
  const k = (...args: string[]) => execFileSync(kubectl, ['--kubeconfig', adminKubeconfig, ...args], { encoding: 'utf8' });
  const name = 'dashboard-viewer';
  k('-n', ns, 'create', 'serviceaccount', name);
  k('-n', ns, 'create', 'role', name, '--verb=get,list,watch', '--resource=rolloutgroups.tandem.dev,rollouts.argoproj.io,services,events');
  k('-n', ns, 'create', 'rolebinding', name, `--role=${name}`, `--serviceaccount=${ns}:${name}`);
  const user = `system:serviceaccount:${ns}:${name}`;
  for (let i = 0; ; i++) {
    try {
      if (k('auth', 'can-i', 'watch', 'rolloutgroups.tandem.dev', '-n', ns, `--as=${user}`).trim() === 'yes') break;
    } catch {
      // "no" exits 1
    }
    if (i > 100) throw new Error(`RBAC for ${user} not in force after 10 s`);
    execFileSync('sleep', ['0.1']);
  }
  const token = k('-n', ns, 'create', 'token', name, '--duration=1h').trim();
  const admin = JSON.parse(k('config', 'view', '--raw', '--minify', '-o', 'json')) as { clusters: { cluster: Record<string, unknown> }[] };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: admin.clusters[0]!.cluster }],
    users: [{ name, user: { token } }],
    contexts: [{ name: 'viewer', context: { cluster: 'e2e', user: name, namespace: ns } }],
    'current-context': 'viewer',
  };
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `viewer-${ns}.kubeconfig`);
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

/**
 * A TCP relay in front of the API server (TLS and client certificates pass through untouched) that
 * can be cut: every connection dropped and new ones refused, then restored on the same port. An API
 * server blip for one client only, so the other test files sharing the cluster are not disturbed.
 */
export class BlipProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly upstream: { host: string; port: number };
  readonly port: number;

  private constructor(upstream: { host: string; port: number }, port: number) {
    this.upstream = upstream;
    this.port = port;
  }

  private listen(port: number): Promise<Server> {
    const server = createNetServer((client) => {
      const up = connect(this.upstream.port, this.upstream.host);
      for (const s of [client, up]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(up).pipe(client);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  }

  /** Relays to the server of `kubeconfig`; returns the proxy and a copy of the kubeconfig that goes through it. */
  static async start(kubeconfig: string, kubectl: string, outDir: string): Promise<{ proxy: BlipProxy; kubeconfig: string }> {
    const config = JSON.parse(execFileSync(kubectl, ['--kubeconfig', kubeconfig, 'config', 'view', '--raw', '--minify', '-o', 'json'], { encoding: 'utf8' })) as {
      clusters: { cluster: { server: string } }[];
    };
    const target = new URL(config.clusters[0]!.cluster.server);
    const upstream = { host: target.hostname, port: Number(target.port || 443) };
    // A free port, kept for every incarnation of the listener.
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const proxy = new BlipProxy(upstream, port);
    proxy.server = await proxy.listen(port);
    config.clusters[0]!.cluster.server = `https://127.0.0.1:${port}`;
    mkdirSync(outDir, { recursive: true });
    const path = join(outDir, `blip-${port}.kubeconfig`);
    writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
    return { proxy, kubeconfig: path };
  }

  /** Drops every connection and refuses new ones until restore(). */
  async cut(): Promise<void> {
    const server = this.server;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  async restore(): Promise<void> {
    this.server = await this.listen(this.port);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
