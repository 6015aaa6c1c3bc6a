/**
 * Installing as an SRE would: `kubectl apply -k config/default` into a Pod Security "restricted"
 * namespace is admitted by the real API server; the Helm chart renders the same objects (test/e2e/helm.test.ts
 * installs it); the image's
 * entry point is in the built output.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MIN_NODE_MAJOR } from '../../src/node-guard.ts';
import { TestKube } from './support/kube.ts';
import { waitFor } from './support/wait.ts';

const kubectl = (...args: string[]) => execFileSync(inject('kubectl'), ['--kubeconfig', inject('kubeconfig'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const helm = () => execFileSync('bash', ['test/cluster/build-helm.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } };
/** Rendered manifests as a map from apiVersion/kind/namespace/name to the object (order and styling ignored). */
const objects = (yamlText: string, normalise: (o: Obj) => Obj = (o) => o): Map<string, Obj> =>
  new Map(
    parseAllDocuments(yamlText)
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null)
      .map(normalise)
      .map((o) => [`${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]),
  );
/** Without what only Helm adds: its release-bookkeeping labels and the CRD's keep policy. */
const HELM_LABELS = ['helm.sh/chart', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version'];
const helmOnly = (o: Obj): Obj => {
  const { labels, annotations, ...meta } = o.metadata;
  const kept = Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !HELM_LABELS.includes(k)));
  const notes = Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => k !== 'helm.sh/resource-policy'));
  return { ...o, metadata: { ...meta, ...(Object.keys(kept).length ? { labels: kept } : {}), ...(Object.keys(notes).length ? { annotations: notes } : {}) } };
};

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});

describe('install', () => {
  it('kubectl apply -k config/default is admitted in a restricted namespace: Deployment → ReplicaSet → Pod', async () => {
    const id = `install-${randomBytes(3).toString('hex')}`;
    // Own names for everything, cluster-scoped ones too, so that parallel runs do not clash.
    const overlay = mkdtempSync(join(tmpdir(), 'tandem-install-'));
    writeFileSync(join(overlay, 'kustomization.yaml'), `namespace: ${id}\nnamePrefix: ${id}-\nresources:\n- ${relative(overlay, resolve('config/default'))}\n`);
    cleanups.push(() => {
      // Never `delete -k`: the CRD is shared with every other test.
      kubectl('delete', 'namespace', id, '--wait=false', '--ignore-not-found');
      kubectl('delete', 'clusterrole,clusterrolebinding', `${id}-tandem-controller`, '--ignore-not-found');
      kubectl('delete', 'clusterrole', ...['view', 'edit', 'admin'].map((r) => `${id}-tandem-${r}`), '--ignore-not-found');
      kubectl('delete', 'validatingadmissionpolicy,validatingadmissionpolicybinding', ...[0, 1, 2, 3, 4].map((k) => `${id}-tandem-member-authority-${k}`), '--ignore-not-found');
      rmSync(overlay, { recursive: true, force: true });
    });
    kubectl('apply', '-k', overlay);

    const kube = new TestKube(inject('kubeconfig'));
    const ns = await kube.core.readNamespace({ name: id });
    expect(ns.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    // The admission plugin is on and enforcing here: a plain pod is refused.
    const plain = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'plain', namespace: id }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    expect(() => execFileSync(inject('kubectl'), ['--kubeconfig', inject('kubeconfig'), 'apply', '--dry-run=server', '-f', '-'], { input: plain, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] })).toThrow(/violates PodSecurity "restricted/);

    // Admitted (a Pod exists) or refused (the ReplicaSet reports FailedCreate): whichever comes first.
    const outcome = await waitFor(
      'the controller pod admitted or refused',
      async () => {
        const refused = (await kube.core.listNamespacedEvent({ namespace: id })).items.filter((e) => e.reason === 'FailedCreate').map((e) => e.message);
        if (refused.length > 0) return { refused };
        const pod = (await kube.core.listNamespacedPod({ namespace: id, labelSelector: 'app.kubernetes.io/name=tandem' })).items[0];
        return pod && { refused, pod };
      },
      { timeoutMs: 60_000, dump: async () => kubectl('get', 'deploy,rs,pods,events', '-n', id) },
    );
    expect(outcome.refused).toEqual([]);
    expect(outcome.pod?.spec?.serviceAccountName).toBe(`${id}-tandem-controller`);
    const [rs] = (await kube.apps.listNamespacedReplicaSet({ namespace: id })).items;
    expect(rs?.status?.conditions?.filter((c) => c.type === 'ReplicaFailure') ?? []).toEqual([]);

    // Bound to the ServiceAccount in this namespace, lease Role included.
    const sa = `system:serviceaccount:${id}:${id}-tandem-controller`;
    const can = (...args: string[]) => kubectl('auth', 'can-i', ...args, `--as=${sa}`).trim();
    expect(can('patch', 'rollouts.argoproj.io/status', '-n', 'default')).toBe('yes');
    expect(can('update', 'leases.coordination.k8s.io', '-n', id)).toBe('yes');
    expect(() => can('update', 'leases.coordination.k8s.io', '-n', 'default')).toThrow();
  });

  it('the Helm chart renders the same objects as config/default and config/prometheus', () => {
    const h = helm();
    const chart = objects(execFileSync(h, ['template', 'tandem', 'charts/tandem', '--namespace', 'tandem-system'], { encoding: 'utf8' }), helmOnly);
    const kustomize = objects(kubectl('kustomize', 'config/default'));
    // The chart renders no Namespace (`helm install --create-namespace` makes one that uninstall keeps).
    const namespace = 'v1/Namespace//tandem-system';
    expect(kustomize.has(namespace)).toBe(true);
    kustomize.delete(namespace);
    // Its cluster-scoped RBAC names carry the release namespace, so one release name fits in two namespaces.
    for (const [kind, name] of [['ClusterRole', 'tandem-controller'], ['ClusterRoleBinding', 'tandem-controller'], ['ClusterRole', 'tandem-view'], ['ClusterRole', 'tandem-edit'], ['ClusterRole', 'tandem-admin']] as const) {
      const key = `rbac.authorization.k8s.io/v1/${kind}//${name}`;
      const obj = kustomize.get(key)! as Obj & { roleRef?: { name: string } };
      kustomize.delete(key);
      obj.metadata.name = `${name}-tandem-system`;
      if (obj.roleRef) obj.roleRef.name = obj.metadata.name;
      kustomize.set(`rbac.authorization.k8s.io/v1/${kind}//${obj.metadata.name}`, obj);
    }
    // So do the admission policies'; kustomize, not knowing they are cluster-scoped, gives them a namespace.
    for (const [key, obj] of [...kustomize]) {
      if (!obj.kind.startsWith('ValidatingAdmissionPolicy')) continue;
      const o = obj as Obj & { metadata: { namespace?: string }; spec: { policyName?: string } };
      kustomize.delete(key);
      delete o.metadata.namespace;
      o.metadata.name = `${o.metadata.name}-tandem-system`;
      if (o.spec.policyName) o.spec.policyName = `${o.spec.policyName}-tandem-system`;
      kustomize.set(`admissionregistration.k8s.io/v1/${o.kind}//${o.metadata.name}`, o);
    }
    expect([...chart.keys()].sort()).toEqual([...kustomize.keys()].sort());
    for (const [key, obj] of kustomize) expect(chart.get(key), key).toEqual(obj);

    const monitor = objects(execFileSync(h, ['template', 'tandem', 'charts/tandem', '--namespace', 'tandem-system', '--set', 'serviceMonitor.enabled=true', '--set', 'prometheusRule.enabled=true', '--show-only', 'templates/servicemonitor.yaml', '--show-only', 'templates/prometheusrule.yaml'], { encoding: 'utf8' }), helmOnly);
    const prometheus = objects(kubectl('kustomize', 'config/prometheus'));
    expect([...monitor.keys()].sort()).toEqual([...prometheus.keys()].sort());
    for (const [key, obj] of prometheus) expect(monitor.get(key), key).toEqual(obj);
  });

  it('the image entry point, dist/cli.js, exists in the built output and takes the Deployment flags', () => {
    const help = execFileSync(process.execPath, ['dist/cli.js', 'controller', '--help'], { encoding: 'utf8' });
    const manager = objects(kubectl('kustomize', 'config/manager'));
    const deploy = [...manager.values()].find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    const [command, ...flags] = deploy.spec.template.spec.containers[0]!.args;
    expect(command).toBe('controller');
    for (const f of flags) expect(help).toContain(f.split('=')[0]);
  });

  // The machine's own Node, when it is older than 24 (Debian's is): the built executables under it.
  const older = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p) && Number(execFileSync(p, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' })) < MIN_NODE_MAJOR);
  it.runIf(older !== undefined)('under an older Node the executables print one line naming it and exit 1, before any import fails', () => {
    for (const [bin, name] of [['dist/kubectl-rolloutgroup.js', 'kubectl-rolloutgroup'], ['dist/cli.js', 'tandem']] as const) {
      const r = spawnSync(older!, [bin, 'list'], { encoding: 'utf8' });
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^error: ${name} needs Node.js 24 or newer, but ${older} is Node.js \\d+\\.\\d+\\.\\d+\\. Install Node.js 24 \\(or put it first on PATH\\) and run it again\\.\\n$`));
      expect(r.status).toBe(1);
    }
  });
});
