/**
 * Installing as an SRE would: `kubectl apply -k config/default` into a Pod Security "restricted"
 * namespace is admitted by the real API server; the Helm chart renders the same objects; the image's
 * entry point is in the built output.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { TestKube } from './support/kube.ts';
import { waitFor } from './support/wait.ts';

const kubectl = (...args: string[]) => execFileSync(inject('kubectl'), ['--kubeconfig', inject('kubeconfig'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const helm = () => execFileSync('bash', ['test/cluster/build-helm.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
/** Rendered manifests as a map from apiVersion/kind/namespace/name to the object (order and styling ignored). */
const objects = (yamlText: string): Map<string, Obj> =>
  new Map(
    parseAllDocuments(yamlText)
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null)
      .map((o) => [`${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]),
  );

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
    const chart = objects(execFileSync(h, ['template', 'tandem', 'charts/tandem', '--namespace', 'tandem-system', '--include-crds', '--set', 'createNamespace=true'], { encoding: 'utf8' }));
    const kustomize = objects(kubectl('kustomize', 'config/default'));
    expect([...chart.keys()].sort()).toEqual([...kustomize.keys()].sort());
    for (const [key, obj] of kustomize) expect(chart.get(key), key).toEqual(obj);

    const monitor = objects(execFileSync(h, ['template', 'tandem', 'charts/tandem', '--namespace', 'tandem-system', '--set', 'serviceMonitor.enabled=true', '--show-only', 'templates/servicemonitor.yaml'], { encoding: 'utf8' }));
    expect([...monitor.entries()]).toEqual([...objects(kubectl('kustomize', 'config/prometheus')).entries()]);
    // The CRD is in crds/: helm installs it and never deletes it on upgrade or uninstall.
    expect(execFileSync(h, ['show', 'crds', 'charts/tandem'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toContain('name: rolloutgroups.tandem.dev');
    execFileSync(h, ['lint', '--strict', 'charts/tandem'], { stdio: 'ignore' });
  });

  it('the image entry point, dist/cli.js, exists in the built output and takes the Deployment flags', () => {
    expect(existsSync('dist/cli.js')).toBe(true);
    const help = execFileSync(process.execPath, ['dist/cli.js', 'controller', '--help'], { encoding: 'utf8' });
    const manager = objects(kubectl('kustomize', 'config/manager'));
    const deploy = [...manager.values()].find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    const [command, ...flags] = deploy.spec.template.spec.containers[0]!.args;
    expect(command).toBe('controller');
    for (const f of flags) expect(help).toContain(f.split('=')[0]);
  });
});
