/**
 * The plugin's Follower against a loopback server that speaks the list and watch protocol: after its
 * first lists it sees changes through the watch streams, with no further requests.
 */
import { createServer, type ServerResponse, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliClient, ForbiddenError } from '../../../src/kube/cli-client.ts';

const requests: string[] = [];
const streams = new Map<string, ServerResponse>();
let server: Server;
let kubeconfig: string;

const group = (rv: string, phase: string) => ({ apiVersion: 'tandem.dev/v1alpha1', kind: 'RolloutGroup', metadata: { name: 'loans', namespace: 'shop', resourceVersion: rv }, status: { phase } });
const rollout = (name: string, rv: string) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name, namespace: 'shop', resourceVersion: rv } });
const list = (items: object[]) => JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '10' }, items });
const kindOf = (path: string) => (path.includes('rolloutgroups') ? 'groups' : path.includes('rollouts') ? 'rollouts' : 'services');
const send = (kind: string, type: string, object: object) => streams.get(kind)!.write(`${JSON.stringify({ type, object })}\n`);

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '', 'http://x');
    requests.push(`${req.method} ${url.pathname}${url.searchParams.get('watch') ? ' watch' : ''}`);
    if (url.pathname.startsWith('/apis/tandem.dev/v1alpha1/namespaces/locked/')) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'cannot list rolloutgroups' }));
      return;
    }
    const kind = kindOf(url.pathname);
    if (url.searchParams.get('watch')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      streams.set(kind, res);
      return;
    }
    const items = kind === 'groups' ? [group('1', 'Progressing')] : kind === 'rollouts' ? [rollout('loan', '2')] : [];
    res.writeHead(200, { 'content-type': 'application/json' }).end(list(items));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'tandem-cli-follow-')), 'kubeconfig');
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
  for (const s of streams.values()) s.end();
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

const until = async (what: string, pred: () => boolean) => {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!pred()) throw new Error(`never: ${what}`);
};

describe('Follower', () => {
  it('lists once, then follows the group, its Rollouts and Services through watches alone', async () => {
    const f = await new CliClient({ kubeconfig }).follow('loans', true);
    try {
      expect((f.getGroup() as ReturnType<typeof group>).status.phase).toBe('Progressing');
      expect(f.getRollout('loan')).toMatchObject({ metadata: { resourceVersion: '2' } });
      await until('three watches open', () => streams.size === 3);
      const afterStart = requests.length;
      expect(requests.filter((r) => !r.endsWith('watch'))).toHaveLength(3);
      let changes = 0;
      f.onChange(() => changes++);
      // Once for the first lists, then once a change.
      await until('the first lists reported', () => changes === 1);
      send('groups', 'MODIFIED', group('11', 'Paused'));
      send('rollouts', 'MODIFIED', rollout('loan', '12'));
      send('services', 'ADDED', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'loan-active', namespace: 'shop', resourceVersion: '13' } });
      await until('three changes seen', () => changes === 4);
      expect((f.getGroup() as ReturnType<typeof group>).status.phase).toBe('Paused');
      expect(f.getRollout('loan')).toMatchObject({ metadata: { resourceVersion: '12' } });
      expect(f.getService('loan-active')).toMatchObject({ metadata: { name: 'loan-active' } });
      expect(requests.slice(afterStart)).toEqual([]);
      send('groups', 'DELETED', group('14', 'Paused'));
      await until('the group gone', () => f.getGroup() === undefined);
    } finally {
      await f.stop();
    }
  });

  it('fails with the typed error of its first list', async () => {
    await expect(new CliClient({ kubeconfig, namespace: 'locked' }).follow('loans', false)).rejects.toBeInstanceOf(ForbiddenError);
  });
});
