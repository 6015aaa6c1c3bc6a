import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../../src/kube/cli-client.ts';
import { CSP, startDashboard, type DashboardClient, type RunningDashboard } from '../../../src/dashboard/server.ts';
import type { ClusterSnapshot } from '../../../src/kube/cluster-watch.ts';
import { group, NS, release, snapshot } from './fixtures.ts';

/** A built UI: index.html with the token placeholder, one asset. */
function staticDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-ui-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<meta name="tandem-csrf" content="%TANDEM_CSRF%"><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'export {};');
  return dir;
}

class FakeSource {
  snap: ClusterSnapshot = snapshot([group(release())]);
  private readonly listeners: (() => void)[] = [];
  snapshot = () => this.snap;
  onChange = (l: () => void) => void this.listeners.push(l);
  set(s: ClusterSnapshot) {
    this.snap = s;
    for (const l of this.listeners) l();
  }
}

class FakeClient implements DashboardClient {
  current: unknown = group(release());
  written: { name: string; namespace: string; annotations: Record<string, string> }[] = [];
  refuse: Error | undefined;
  getGroup = async () => this.current;
  annotateGroup = async (name: string, annotations: Readonly<Record<string, string>>, namespace: string) => {
    if (this.refuse) throw this.refuse;
    this.written.push({ name, namespace, annotations: { ...annotations } });
    return {};
  };
}

let running: RunningDashboard | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(namespace: string | undefined = NS) {
  const source = new FakeSource();
  const client = new FakeClient();
  running = await startDashboard({ source, client, namespace, address: '127.0.0.1', port: 0, staticDir: staticDir() });
  const page = await fetch(running.url);
  const html = await page.text();
  const token = /content="([^"]+)"/.exec(html)![1]!;
  return { source, client, url: running.url, page, html, token };
}

const post = (url: string, path: string, body: unknown, headers: Record<string, string>) =>
  fetch(new URL(path, url), { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('dashboard server', () => {
  it('serves the page with a strict CSP and a fresh CSRF token, and no cluster credentials', async () => {
    const { page, html, token, url } = await start();
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(token).not.toBe('%TANDEM_CSRF%');
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(html).not.toMatch(/token|certificate|BEGIN/i);
    const asset = await fetch(new URL('/assets/app.js', url));
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(new URL('/assets/../index.html', url))).status).toBe(404);
  });

  it('refuses another Host (DNS rebinding) on loopback', async () => {
    const { url } = await start();
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(url);
      request({ host: u.hostname, port: u.port, path: '/', headers: { Host: 'evil.example:80' } }, (res) => resolve(res.statusCode!)).on('error', reject).end();
    });
    expect(status).toBe(421);
  });

  it('writes the promote request only with the token, from this origin, for the release the user confirmed', async () => {
    const { client, url, token } = await start();
    const path = `/api/groups/${NS}/loans/promote`;
    expect((await post(url, path, { expect: 'r1' }, {})).status).toBe(403);
    expect((await post(url, path, { expect: 'r1' }, { 'X-Tandem-CSRF': 'x'.repeat(token.length) })).status).toBe(403);
    expect((await post(url, path, { expect: 'r1' }, { 'X-Tandem-CSRF': token, Origin: 'http://evil.example' })).status).toBe(403);
    // The release moved on since the page was drawn: nothing is written.
    const stale = await post(url, path, { expect: 'r0' }, { 'X-Tandem-CSRF': token });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { message: string }).message).toContain('you confirmed promote of r0, it would now be r1; nothing was written');
    expect(client.written).toEqual([]);
    const ok = await post(url, path, { expect: 'r1' }, { 'X-Tandem-CSRF': token, Origin: new URL(url).origin });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, message: 'rolloutgroup shop/loans: promote of release r1 requested' });
    expect(client.written).toEqual([{ name: 'loans', namespace: NS, annotations: { 'tandem.dev/promote': 'r1' } }]);
  });

  it('abort needs a reason and writes it; retry is refused when the release was not aborted', async () => {
    const { client, url, token } = await start();
    const h = { 'X-Tandem-CSRF': token };
    expect((await post(url, `/api/groups/${NS}/loans/abort`, { expect: 'r1', reason: '  ' }, h)).status).toBe(400);
    expect((await post(url, `/api/groups/${NS}/loans/abort`, { expect: 'r1', reason: 'bad rates' }, h)).status).toBe(200);
    const retry = await post(url, `/api/groups/${NS}/loans/retry`, { expect: 'r1' }, h);
    expect(retry.status).toBe(409);
    expect(await retry.json()).toEqual({ ok: false, message: 'release r1 of rolloutgroup loans was not aborted; nothing to retry' });
    expect(client.written).toEqual([{ name: 'loans', namespace: NS, annotations: { 'tandem.dev/abort': 'bad rates' } }]);
  });

  it('passes the API server’s refusal on, and serves only its namespace', async () => {
    const { client, url, token } = await start();
    client.refuse = new ForbiddenError('rolloutgroup shop/loans: forbidden: User "bob" cannot patch resource "rolloutgroups"');
    const r = await post(url, `/api/groups/${NS}/loans/promote`, { expect: 'r1' }, { 'X-Tandem-CSRF': token });
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({ ok: false, message: 'rolloutgroup shop/loans: forbidden: User "bob" cannot patch resource "rolloutgroups"' });
    expect((await post(url, '/api/groups/other/loans/promote', { expect: 'r1' }, { 'X-Tandem-CSRF': token })).status).toBe(404);
  });

  it('pushes the state on the event stream when the watches change, and not when nothing changed', async () => {
    const { source, url } = await start();
    const res = await fetch(new URL('/api/stream', url));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    const nextState = async () => {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const chunk = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = /^data: (.*)$/m.exec(chunk);
          if (data) return JSON.parse(data[1]!) as { groups: { phase: string }[] };
          continue;
        }
        const { value } = await reader.read();
        buffered += decoder.decode(value);
      }
    };
    expect((await nextState()).groups[0]!.phase).toBe('Paused');
    // A change that leaves the page’s data as it was, then a real one: the next event is the real one.
    source.set(snapshot([group(release())]));
    source.set(snapshot([group()]));
    expect((await nextState()).groups[0]!.phase).toBe('Healthy');
    await reader.cancel();
  });
});
