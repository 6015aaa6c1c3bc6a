/**
 * The plugin's client against a loopback HTTP server that answers as the API server does: how it maps
 * 404 (object vs resource type), 403 and the kubeconfig flags, and what a request patch looks like.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CliClient,
  ForbiddenError,
  KubeconfigError,
  ObjectNotFoundError,
  ResourceTypeNotFoundError,
} from '../../../src/kube/cli-client.ts';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

const seen: Seen[] = [];
let server: Server;
let kubeconfig: string;
const GROUPS = '/apis/tandem.dev/v1alpha1/namespaces';

const status = (code: number, reason: string, message: string, name?: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code, ...(name ? { details: { name, group: 'tandem.dev', kind: 'rolloutgroups' } } : {}) });

function answer(req: IncomingMessage, body: string): [number, string, string] {
  const url = req.url ?? '';
  if (url.startsWith(`${GROUPS}/nocrd/`)) return [404, 'text/plain', '404 page not found\n'];
  if (url.startsWith(`${GROUPS}/locked/`)) {
    return [403, 'application/json', status(403, 'Forbidden', 'rolloutgroups.tandem.dev "loans" is forbidden: User "dev" cannot get resource "rolloutgroups"')];
  }
  if (url === `${GROUPS}/shop/rolloutgroups/loans`) {
    const group = { apiVersion: 'tandem.dev/v1alpha1', kind: 'RolloutGroup', metadata: { name: 'loans', namespace: 'shop' } };
    if (req.method === 'PATCH') return [200, 'application/json', JSON.stringify({ ...group, patched: JSON.parse(body) })];
    return [200, 'application/json', JSON.stringify(group)];
  }
  const name = url.split('?')[0]!.split('/').pop();
  return [404, 'application/json', status(404, 'NotFound', `rolloutgroups.tandem.dev "${name}" not found`, name)];
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
      const [code, type, out] = answer(req, body);
      res.writeHead(code, { 'content-type': type }).end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'tandem-cli-client-')), 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}] # client-node refuses plain http otherwise
users: [{name: dev, user: {token: t}}]
contexts:
- {name: plain, context: {cluster: local, user: dev}}
- {name: shop, context: {cluster: local, user: dev, namespace: shop}}
current-context: plain
`,
  );
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('CliClient', () => {
  it('takes the namespace from the flag, else from the context, else "default"', () => {
    expect(new CliClient({ kubeconfig }).namespace).toBe('default');
    expect(new CliClient({ kubeconfig, context: 'shop' }).namespace).toBe('shop');
    expect(new CliClient({ kubeconfig, context: 'shop', namespace: 'other' }).namespace).toBe('other');
  });

  it('refuses a context the kubeconfig lacks, and an unreadable kubeconfig', () => {
    expect(() => new CliClient({ kubeconfig, context: 'prod' })).toThrow(new KubeconfigError('context "prod" does not exist in the kubeconfig'));
    expect(() => new CliClient({ kubeconfig: '/nonexistent/kubeconfig' })).toThrow(KubeconfigError);
  });

  it('reads a group', async () => {
    expect(await new CliClient({ kubeconfig, context: 'shop' }).getGroup('loans')).toMatchObject({ metadata: { name: 'loans' } });
  });

  it('tells a missing group from a missing CRD', async () => {
    const missing = new CliClient({ kubeconfig, namespace: 'shop' }).getGroup('nope');
    await expect(missing).rejects.toThrow(new ObjectNotFoundError('rolloutgroup shop/nope not found'));
    const noCrd = new CliClient({ kubeconfig, namespace: 'nocrd' }).getGroup('loans');
    await expect(noCrd).rejects.toBeInstanceOf(ResourceTypeNotFoundError);
    await expect(noCrd).rejects.toThrow('rolloutgroup nocrd/loans: the server does not know this resource type; is the CRD installed?');
  });

  it('reports 403 with the server’s reason, keeping the API error as cause', async () => {
    const err = await new CliClient({ kubeconfig, namespace: 'locked' }).getGroup('loans').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as Error).message).toBe('rolloutgroup locked/loans: forbidden: rolloutgroups.tandem.dev "loans" is forbidden: User "dev" cannot get resource "rolloutgroups"');
    expect((err as Error).cause).toBeDefined();
  });

  it('returns undefined for a missing Rollout or Service', async () => {
    const c = new CliClient({ kubeconfig, namespace: 'shop' });
    expect(await c.getRollout('ghost')).toBeUndefined();
    expect(await c.getService('ghost')).toBeUndefined();
  });

  it('writes a request as a merge patch of annotations only, without resourceVersion', async () => {
    seen.length = 0;
    await new CliClient({ kubeconfig, context: 'shop' }).annotateGroup('loans', { 'tandem.dev/promote': 'r1' });
    expect(seen).toEqual([
      {
        method: 'PATCH',
        url: `${GROUPS}/shop/rolloutgroups/loans`,
        contentType: 'application/merge-patch+json',
        body: JSON.stringify({ metadata: { annotations: { 'tandem.dev/promote': 'r1' } } }),
      },
    ]);
  });
});
