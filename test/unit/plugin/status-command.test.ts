/**
 * `kubectl rolloutgroup status --until Paused` against a loopback server that speaks the get, list
 * and watch protocol: the group reaches its gate between the command's first read and its watch.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ENTRY = new URL('../../../src/kubectl-rolloutgroup.ts', import.meta.url).pathname;
const group = (rv: string, phase: string) => ({
  apiVersion: 'tandem.dev/v1alpha1',
  kind: 'RolloutGroup',
  metadata: { name: 'loans', namespace: 'shop', resourceVersion: rv, generation: 1 },
  spec: { members: [{ rollout: 'loan' }] },
  status: { phase, observedGeneration: 1, message: phase === 'Paused' ? 'release r1 ready: 1/1 members; waiting for promote' : 'release r1: 0/1 members ready' },
});

const watches: ServerResponse[] = [];
let server: Server;
let kubeconfig: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '', 'http://x');
    const json = (body: object) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.searchParams.get('watch')) {
      // Open, and silent: nothing changes after the list.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      watches.push(res);
    } else if (url.pathname.endsWith('/rolloutgroups/loans')) {
      json(group('5', 'Progressing')); // the command's first read
    } else {
      json({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '6' }, items: [group('6', 'Paused')] }); // its watch's first list
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'tandem-status-')), 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: dev, user: {token: t}}]
contexts: [{name: shop, context: {cluster: local, user: dev, namespace: shop}}]
current-context: shop
`,
  );
});

afterAll(() => {
  for (const w of watches) w.end();
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

const status = (...args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [ENTRY, 'status', 'loans', '--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });

describe('kubectl rolloutgroup status', () => {
  it('sees a gate reached between its first read and its watch (the watch’s first list), with no watch event after it', async () => {
    const r = await status('--until', 'Paused', '--timeout', '20s');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Progressing: release r1: 0/1 members ready\nPaused: release r1 ready: 1/1 members; waiting for promote\n');
    expect(r.code).toBe(0);
  }, 30_000);
});
