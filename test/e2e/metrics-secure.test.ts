/**
 * --metrics-secure on the real API server (DESIGN §8): /metrics over HTTPS, 401 without a token, 403
 * with a token whose user may not get /metrics, 200 with one bound to config/metrics-secure's reader
 * role; the controller asks with config/metrics-secure's auth role. The kustomize component wires it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { Scenario } from './support/scenario.ts';
import { CONTROLLER_NAMESPACE, SERVICE_ACCOUNT } from './support/service-account.ts';
import { waitFor } from './support/wait.ts';

const kubectl = (args: string[], input?: string) => execFileSync(inject('kubectl'), ['--kubeconfig', inject('kubeconfig'), ...args], { encoding: 'utf8', ...(input ? { input } : {}), stdio: ['pipe', 'pipe', 'pipe'] });
const get = (port: number, token?: string) =>
  new Promise<{ status: number; body: string }>((done, fail) => {
    // The certificate is the controller's self-signed one: TLS, but nothing to verify it against.
    const req = request({ host: '127.0.0.1', port, path: '/metrics', rejectUnauthorized: false, agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => done({ status: res.statusCode!, body }));
    });
    req.on('error', fail);
    req.end();
  });

let s: Scenario | undefined;
const cleanups: (() => void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) c();
  await s?.cleanup();
});

describe('--metrics-secure', () => {
  it('401 without a token, 403 with one lacking get /metrics, 200 with one that has it', async () => {
    s = await Scenario.create('metrics-secure', 'none', []);
    const { ns } = s;
    // config/metrics-secure's roles, named for this test; auth bound to the e2e controller's ServiceAccount.
    const [auth, authBinding] = parseAllDocuments(readFileSync('config/metrics-secure/metrics_auth_role.yaml', 'utf8')).map((d) => d.toJS() as Record<string, any>);
    const reader = parse(readFileSync('config/metrics-secure/metrics_reader_role.yaml', 'utf8')) as Record<string, any>;
    auth!['metadata'].name = authBinding!['metadata'].name = authBinding!['roleRef'].name = `${ns}-metrics-auth`;
    authBinding!['subjects'] = [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: CONTROLLER_NAMESPACE }];
    reader['metadata'].name = `${ns}-metrics-reader`;
    const readerBinding = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${ns}-metrics-reader` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${ns}-metrics-reader` }, subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace: ns }] };
    cleanups.push(() => void kubectl(['delete', 'clusterrole,clusterrolebinding', `${ns}-metrics-auth`, `${ns}-metrics-reader`, '--ignore-not-found']));
    kubectl(['apply', '-f', '-'], [auth, authBinding, reader, readerBinding].map((d) => stringify(d)).join('---\n'));
    for (const sa of ['scraper', 'nosy']) kubectl(['-n', ns, 'create', 'serviceaccount', sa]);
    const token = (sa: string) => kubectl(['-n', ns, 'create', 'token', sa]).trim();
    const can = (as: string, ...what: string[]) => {
      try {
        return kubectl(['auth', 'can-i', ...what, `--as=${as}`]).trim() === 'yes';
      } catch {
        return false; // "no" exits 1
      }
    };
    await waitFor('RBAC in force', async () => can(`system:serviceaccount:${ns}:scraper`, 'get', '/metrics') && can(`system:serviceaccount:${CONTROLLER_NAMESPACE}:${SERVICE_ACCOUNT}`, 'create', 'tokenreviews.authentication.k8s.io'));

    const controller = s.startController('controller', ['--metrics-secure']);
    const port = await controller.serverPort('metrics');
    expect(controller.records('serving').find((r) => r['server'] === 'metrics')?.['tls']).toBe(true);
    expect((await get(port)).status).toBe(401);
    expect((await get(port, 'not-a-token')).status).toBe(401);
    const denied = await get(port, token('nosy'));
    expect(denied).toEqual({ status: 403, body: `Forbidden: user system:serviceaccount:${ns}:nosy may not get /metrics\n` });
    const ok = await get(port, token('scraper'));
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('controller_runtime_active_workers');
  });

  it('config/metrics-secure turns it on for config/default and config/prometheus', () => {
    const overlay = mkdtempSync(join(tmpdir(), 'tandem-metrics-secure-'));
    cleanups.push(() => rmSync(overlay, { recursive: true, force: true }));
    const rel = (p: string) => relative(overlay, resolve(p));
    writeFileSync(join(overlay, 'kustomization.yaml'), `resources:\n- ${rel('config/default')}\n- ${rel('config/prometheus')}\ncomponents:\n- ${rel('config/metrics-secure')}\n`);
    const objs = parseAllDocuments(kubectl(['kustomize', overlay])).map((d) => d.toJS() as Record<string, any>);
    const deploy = objs.find((o) => o['kind'] === 'Deployment')!;
    expect(deploy['spec'].template.spec.containers[0].args).toContain('--metrics-secure');
    expect(objs.find((o) => o['kind'] === 'ServiceMonitor')!['spec'].endpoints[0]).toMatchObject({ scheme: 'https', port: 'metrics' });
    const binding = objs.find((o) => o['kind'] === 'ClusterRoleBinding' && o['metadata'].name === 'tandem-metrics-auth')!;
    expect(binding['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'tandem-controller', namespace: 'tandem-system' }]);
    expect(objs.some((o) => o['kind'] === 'ClusterRole' && o['metadata'].name === 'tandem-metrics-reader')).toBe(true);
  });
});
