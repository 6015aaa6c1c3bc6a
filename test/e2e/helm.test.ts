/**
 * The chart as an SRE runs it, with the real helm against the real API server: the same release
 * name installed in two namespaces (one cluster-wide, one namespaced), an upgrade that changes the
 * Deployment and the CRD, the namespaced release's RBAC driving a real controller, and uninstalls
 * that leave the CRD, the groups and the users' namespaces in place.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Scenario } from './support/scenario.ts';
import { TestKube } from './support/kube.ts';
import { waitFor } from './support/wait.ts';

const helmBin = execFileSync('bash', ['test/cluster/build-helm.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const run = (bin: string, args: string[]) => {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    throw new Error(`${bin.split('/').at(-1)} ${args.join(' ')}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
};
const helm = (...args: string[]) => run(helmBin, ['--kubeconfig', inject('kubeconfig'), ...args]);
const kubectl = (...args: string[]) => run(inject('kubectl'), ['--kubeconfig', inject('kubeconfig'), ...args]);
const getJson = <T = any>(...args: string[]): T => JSON.parse(kubectl('get', ...args, '-o', 'json')) as T;
const exists = (...args: string[]) => kubectl('get', ...args, '--ignore-not-found', '-o', 'name').trim() !== '';
const canI = (sa: string, ...args: string[]) => {
  try {
    return kubectl('auth', 'can-i', ...args, `--as=${sa}`).trim() === 'yes';
  } catch {
    return false; // "no" exits 1
  }
};

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('helm install, upgrade, uninstall', () => {
  it('installs twice, upgrades, drives a controller with the namespaced RBAC, and uninstalls leaving the CRD and namespaces', async () => {
    const kube = new TestKube(inject('kubeconfig'));
    // Release one: cluster-wide, in a namespace the user made (Pod Security "restricted").
    const wide = await kube.namespace('helm-wide');
    kubectl('label', 'namespace', wide, 'pod-security.kubernetes.io/enforce=restricted');
    // Release two: namespaced, watching the namespace of a real group and its Rollouts.
    const s = await Scenario.create('helm-ns', 'loans', ['interest', 'loan']);
    cleanups.push(async () => {
      for (const ns of [wide, s.ns]) helm('uninstall', 'tandem', '-n', ns, '--ignore-not-found', '--wait');
      await s.cleanup();
      await kube.deleteNamespace(wide);
    });

    // The CRD is already there (installed by kubectl before the chart, as the e2e setup does):
    // the first release takes it over; the second leaves it alone.
    helm('install', 'tandem', 'charts/tandem', '-n', wide, '--take-ownership');
    helm('install', 'tandem', 'charts/tandem', '-n', s.ns, '--set', 'crds.install=false', '--set', 'namespaced=true');

    const crd = getJson('crd', 'rolloutgroups.tandem.dev');
    expect(crd.metadata.annotations).toMatchObject({ 'meta.helm.sh/release-name': 'tandem', 'meta.helm.sh/release-namespace': wide, 'helm.sh/resource-policy': 'keep' });
    for (const ns of [wide, s.ns]) {
      const deploy = getJson('deployment', 'tandem-controller', '-n', ns);
      expect(deploy.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
      expect(deploy.spec.template.spec.serviceAccountName).toBe('tandem-controller');
      // Admitted (Pod Security "restricted" in the first namespace) and scheduled on the fake node.
      await waitFor(`a controller pod in ${ns}`, async () => getJson('pods', '-n', ns, '-l', 'app.kubernetes.io/name=tandem,app.kubernetes.io/instance=tandem').items.length === 1, {
        dump: async () => kubectl('get', 'deploy,rs,pods,events', '-n', ns),
      });
    }
    expect(getJson('deployment', 'tandem-controller', '-n', s.ns).spec.template.spec.containers[0].args).toContain(`--namespace=${s.ns}`);
    expect(exists('clusterrole', `tandem-controller-${wide}`)).toBe(true);
    expect(exists('clusterrole', `tandem-controller-${s.ns}`)).toBe(false);
    expect(exists('role', `tandem-controller-${s.ns}`, '-n', s.ns)).toBe(true);

    const wideSa = `system:serviceaccount:${wide}:tandem-controller`;
    const nsSa = `system:serviceaccount:${s.ns}:tandem-controller`;
    await waitFor('RBAC in force', async () => canI(wideSa, 'patch', 'rollouts.argoproj.io/status', '-n', 'default') && canI(nsSa, 'patch', 'rollouts.argoproj.io/status', '-n', s.ns));
    expect(canI(nsSa, 'patch', 'rollouts.argoproj.io/status', '-n', wide)).toBe(false);
    expect(canI(nsSa, 'list', 'rollouts.argoproj.io', '--all-namespaces')).toBe(false);
    expect(canI(wideSa, 'update', 'leases.coordination.k8s.io', '-n', wide)).toBe(true);
    expect(canI(wideSa, 'update', 'leases.coordination.k8s.io', '-n', s.ns)).toBe(false);

    // The namespaced release's identity is enough to run a real controller over its namespace:
    // it wires the group's members and reports them Healthy (the chart's Role has config/rbac's
    // rules, test/unit/chart/chart.test.ts, and test/e2e/rbac.test.ts measures that a release needs no more).
    const token = kubectl('create', 'token', 'tandem-controller', '-n', s.ns, '--duration=1h').trim();
    const admin = JSON.parse(kubectl('config', 'view', '--raw', '--minify', '-o', 'json')) as { clusters: { cluster: object }[] };
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'tandem-helm-')), 'sa.kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'e2e', cluster: admin.clusters[0]!.cluster }],
        users: [{ name: 'sa', user: { token } }],
        contexts: [{ name: 'sa', context: { cluster: 'e2e', user: 'sa' } }],
        'current-context': 'sa',
      }),
      { mode: 0o600 },
    );
    for (const f of ['interest', 'loan', 'group']) await s.kube.applyFile(s.ns, `examples/loan-interest/${f}.yaml`);
    s.startController('controller', ['--leader-elect', '--leader-election-namespace', s.ns, '--leader-election-id', 'tandem-controller-leader'], {}, kubeconfig);
    const steady = await s.waitSteady();
    expect(steady.status?.conditions?.find((c) => c.type === 'SpecValid')?.status).toBe('True');
    const loan = await s.kube.rollout(s.ns, 'loan');
    expect(loan.spec['strategy'].blueGreen.activeMetadata.annotations['tandem.dev/interest-url']).toContain(`interest-active.${s.ns}.svc`);
    expect(s.controller.logLines().join('\n')).not.toMatch(/forbidden/i);

    // Upgrade: Deployment changes roll out, a PodDisruptionBudget appears, and the CRD is updated.
    helm('upgrade', 'tandem', 'charts/tandem', '-n', wide, '--reuse-values', '--set', 'replicaCount=2', '--set', 'pdb.enabled=true', '--set', 'podLabels.team=platform', '--set', 'crds.annotations.team=platform');
    expect(JSON.parse(helm('status', 'tandem', '-n', wide, '-o', 'json')).version).toBe(2);
    const upgraded = getJson('deployment', 'tandem-controller', '-n', wide);
    expect(upgraded.spec.replicas).toBe(2);
    expect(upgraded.spec.template.metadata.labels.team).toBe('platform');
    expect(getJson('pdb', 'tandem-controller', '-n', wide).spec.maxUnavailable).toBe(1);
    expect(getJson('crd', 'rolloutgroups.tandem.dev').metadata.annotations.team).toBe('platform');

    // Uninstall both: their objects go, the CRD (resource-policy keep), the group and the namespaces stay.
    helm('uninstall', 'tandem', '-n', wide, '--wait');
    helm('uninstall', 'tandem', '-n', s.ns, '--wait');
    for (const ns of [wide, s.ns]) {
      for (const kind of ['deployment', 'serviceaccount', 'service']) expect(exists(kind, '-n', ns, '-l', 'app.kubernetes.io/managed-by=Helm'), `${kind} in ${ns}`).toBe(false);
      expect(exists('namespace', ns)).toBe(true);
    }
    expect(exists('clusterrole', `tandem-controller-${wide}`)).toBe(false);
    expect(exists('clusterrolebinding', `tandem-controller-${wide}`)).toBe(false);
    expect(exists('role,rolebinding', '-n', s.ns, '-l', 'app.kubernetes.io/managed-by=Helm')).toBe(false);
    expect(exists('crd', 'rolloutgroups.tandem.dev')).toBe(true);
    expect(exists('rolloutgroup', 'loans', '-n', s.ns)).toBe(true);
  });
});
