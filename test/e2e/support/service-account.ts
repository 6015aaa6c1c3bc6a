/**
 * The controller's identity in e2e runs: the ServiceAccount and RBAC of config/rbac, applied into
 * CONTROLLER_NAMESPACE (names prefixed so they never clash with a real install), and a kubeconfig
 * holding a token from the TokenRequest API. A permission config/rbac lacks fails the test using it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

export const CONTROLLER_NAMESPACE = 'tandem-e2e';
const PREFIX = 'e2e-';
export const SERVICE_ACCOUNT = `${PREFIX}tandem-controller`;

/** Applies config/rbac into CONTROLLER_NAMESPACE; returns the path of a kubeconfig for the ServiceAccount. */
export function serviceAccountKubeconfig(kubectl: string, adminKubeconfig: string, outDir: string, server?: string): string {
  const k = (...args: string[]) => execFileSync(kubectl, ['--kubeconfig', adminKubeconfig, ...args], { encoding: 'utf8' });
  const overlay = mkdtempSync(join(tmpdir(), 'tandem-rbac-'));
  try {
    writeFileSync(join(overlay, 'namespace.yaml'), `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${CONTROLLER_NAMESPACE}}\n`);
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      `namespace: ${CONTROLLER_NAMESPACE}\nnamePrefix: ${PREFIX}\nresources:\n- namespace.yaml\n- ${relative(overlay, resolve('config/rbac'))}\n`,
    );
    k('apply', '--server-side', '--force-conflicts', '--field-manager=tandem-e2e', '-k', overlay);
  } finally {
    rmSync(overlay, { recursive: true, force: true });
  }
  const token = k('create', 'token', SERVICE_ACCOUNT, '-n', CONTROLLER_NAMESPACE, '--duration=6h').trim();
  const admin = JSON.parse(k('config', 'view', '--raw', '--minify', '-o', 'json')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[];
  };
  const cluster = { ...admin.clusters[0]!.cluster, ...(server ? { server } : {}) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster }],
    users: [{ name: SERVICE_ACCOUNT, user: { token } }],
    contexts: [{ name: 'controller', context: { cluster: 'e2e', user: SERVICE_ACCOUNT } }],
    'current-context': 'controller',
  };
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `controller-${server ? 'proxied-' : ''}${process.pid}-${Date.now()}.kubeconfig`);
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  // RBAC reaches the authorizer's cache asynchronously: wait until the last rule is in force.
  for (let i = 0; ; i++) {
    const can = (verb: string, resource: string, ns?: string) =>
      execFileSync(kubectl, ['--kubeconfig', adminKubeconfig, 'auth', 'can-i', verb, resource, `--as=system:serviceaccount:${CONTROLLER_NAMESPACE}:${SERVICE_ACCOUNT}`, ...(ns ? ['-n', ns] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'yes';
    try {
      if (can('patch', 'rollouts.argoproj.io') && can('update', 'leases.coordination.k8s.io', CONTROLLER_NAMESPACE)) break;
    } catch {
      // "no" exits 1
    }
    if (i > 100) throw new Error(`RBAC for ${SERVICE_ACCOUNT} not in force after 10 s`);
    execFileSync('sleep', ['0.1']);
  }
  return path;
}
