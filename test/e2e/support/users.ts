/**
 * People in a test namespace: ServiceAccounts standing for users, their Roles, and a TestKube that
 * authenticates as each with a TokenRequest token, so the real API server's RBAC and admission
 * policies judge what they do.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { LOG_DIR } from './controller-process.ts';
import { TestKube } from './kube.ts';
import { waitFor } from './wait.ts';

export type Grant =
  | { readonly resource: string; readonly verbs: readonly string[]; readonly names?: readonly string[] }
  /** A RoleBinding in the namespace to this ClusterRole (view, edit, admin). */
  | { readonly clusterRole: string; readonly resource: string; readonly verbs: readonly string[]; readonly names?: undefined };

const kubectl = (admin: string, ...args: string[]) => execFileSync(inject('kubectl'), ['--kubeconfig', admin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Creates the ServiceAccount `name` in `ns` with a Role of these grants; resolves once RBAC is in force. */
export async function user(admin: TestKube, ns: string, name: string, grants: readonly Grant[]): Promise<TestKube> {
  const k = (...args: string[]) => kubectl(admin.kubeconfig, '-n', ns, ...args);
  k('create', 'serviceaccount', name);
  grants.forEach((g, i) => {
    const role = `${name}-${i}`;
    if ('clusterRole' in g) return void k('create', 'rolebinding', role, `--clusterrole=${g.clusterRole}`, `--serviceaccount=${ns}:${name}`);
    k('create', 'role', role, `--verb=${g.verbs.join(',')}`, `--resource=${g.resource}`, ...(g.names ?? []).map((n) => `--resource-name=${n}`));
    k('create', 'rolebinding', role, `--role=${role}`, `--serviceaccount=${ns}:${name}`);
  });
  const token = k('create', 'token', name, '--duration=1h').trim();
  const cluster = admin.kc.getCurrentCluster()!;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: cluster.server, ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : { 'certificate-authority': cluster.caFile }) } }],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: 'e2e', user: name, namespace: ns } }],
    'current-context': name,
  };
  mkdirSync(LOG_DIR, { recursive: true });
  const path = join(LOG_DIR, `user-${ns}-${name}.kubeconfig`);
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  // RBAC (and the aggregation into view/edit/admin) reaches the authorizer asynchronously.
  for (const last of grants) {
    const as = `--as=system:serviceaccount:${ns}:${name}`;
    await waitFor(`RBAC of ${name} in force`, async () => {
      try {
        const [resource, subresource] = last.resource.split('/');
        const target = last.names?.[0] ? `${resource}/${last.names[0]}` : resource!;
        return kubectl(admin.kubeconfig, '-n', ns, 'auth', 'can-i', last.verbs.at(-1)!, target, ...(subresource ? [`--subresource=${subresource}`] : []), as).trim() === 'yes';
      } catch {
        return false; // "no" exits 1
      }
    });
  }
  return new TestKube(path);
}

/** The message of a refused request, as the API server wrote it. */
export async function refusal(p: Promise<unknown>): Promise<{ code: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; body?: unknown; message?: string };
    const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body ?? '');
    let message = err.message ?? '';
    try {
      message = (JSON.parse(body) as { message?: string }).message ?? message;
    } catch {
      // not JSON
    }
    return { code: err.code, message };
  }
  throw new Error('the request was admitted');
}
