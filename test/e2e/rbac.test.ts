/**
 * Least privilege, measured: a controller authenticated as config/rbac's ServiceAccount runs a
 * whole release (with leader election, group deletion and shutdown) behind a proxy that records
 * every API request. The ClusterRole and lease Role may grant only what was used, plus the
 * allowance below, which docs/production.md documents.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { RecordingProxy } from './support/recording-proxy.ts';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

/** Granted but not used, and why (docs/production.md, "RBAC"). */
const ALLOWANCE: Record<string, string> = {
  'tandem.dev/rolloutgroups:get': 'reads nothing list does not; for tools that get by name',
  'argoproj.io/rollouts:get': 'reads nothing list does not',
  'apps/replicasets:get': 'reads nothing list does not',
  '/services:get': 'reads nothing list does not',
  'tandem.dev/rolloutgroups/finalizers:update': 'kubebuilder convention: needed if an owner reference with blockOwnerDeletion ever points at a group',
  '/events:patch': 'event series aggregation (client-go recorders patch repeated events)',
  'argoproj.io/analysisruns:create': 'group analysis; this release has none, test/e2e/analysis.test.ts creates runs as the same ServiceAccount',
  'argoproj.io/analysisruns:patch': 'terminating group AnalysisRuns no release needs; the same (test/e2e/analysis.test.ts terminates them)',
  'argoproj.io/clusteranalysistemplates:list': 'read by a controller watching all namespaces; this one watches one (a Role could not grant them)',
  'argoproj.io/clusteranalysistemplates:watch': 'the same',
};

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
const granted = (file: string): Set<string> => {
  const doc = parseAllDocuments(readFileSync(file, 'utf8'))[0]!.toJS() as { rules: Rule[] };
  return new Set(doc.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`)))));
};

let s: Scenario | undefined;
let proxy: RecordingProxy | undefined;
afterEach(async () => {
  await s?.cleanup();
  await proxy?.stop();
  s = proxy = undefined;
});

describe('RBAC (config/rbac)', () => {
  it('grants only the requests a release makes, plus a documented allowance', async () => {
    s = await Scenario.create('rbac', 'loans', ['interest', 'loan']);
    const sc = s;
    for (const f of ['interest', 'loan', 'group']) await sc.kube.applyFile(sc.ns, `examples/loan-interest/${f}.yaml`);
    const proxied = await RecordingProxy.inFrontOf(inject('controllerKubeconfig'));
    proxy = proxied.proxy;
    const { kubeconfig } = proxied;
    const leaseNs = inject('controllerNamespace');
    const controller = sc.startController(
      'controller',
      ['--leader-elect', '--leader-election-namespace', leaseNs, '--leader-election-id', `rbac-${sc.ns}`, '--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '500ms'],
      {},
      kubeconfig,
    );

    await sc.waitSteady();
    for (const m of sc.members) await sc.kube.setImage(sc.ns, m, `ghcr.io/acme/${m}:2.0`);
    const paused = await sc.waitPhase('Paused');
    await sc.kube.annotateGroup(sc.ns, 'loans', { 'tandem.dev/promote': paused.status!.release!.id });
    await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 120_000);
    await waitFor('ReleaseCompleted event', async () => (await sc.kube.events(sc.ns, 'loans')).some((e) => e.reason === 'ReleaseCompleted'));
    await sc.kube.deleteGroup(sc.ns, 'loans');
    await waitFor('group gone', async () => (await sc.kube.groupOrUndefined(sc.ns, 'loans')) === undefined, { dump: sc.dump });
    expect(await controller.kill('SIGTERM')).toBe(0);

    const requests = proxy.requests;
    expect(requests.filter((r) => r.status === 401 || r.status === 403), 'requests the RBAC refused').toEqual([]);
    const used = new Set(requests.map((r) => `${r.group}/${r.resource}:${r.verb}`));
    // Leases only in the controller's namespace: that is all its Role allows.
    expect(new Set(requests.filter((r) => r.resource === 'leases').map((r) => r.namespace))).toEqual(new Set([leaseNs]));

    const clusterRole = granted('config/rbac/role.yaml');
    const leaseRole = granted('config/rbac/leader_election_role.yaml');
    expect([...leaseRole].sort()).toEqual(['coordination.k8s.io/leases:create', 'coordination.k8s.io/leases:get', 'coordination.k8s.io/leases:update']);
    const all = new Set([...clusterRole, ...leaseRole]);
    // Every request was granted (the 403 check above says so too) ...
    expect([...used].filter((u) => !all.has(u))).toEqual([]);
    // ... and nothing is granted beyond what was used and the allowance.
    expect([...all].filter((g) => !used.has(g) && !(g in ALLOWANCE)).sort()).toEqual([]);
    // The allowance is not an excuse for something used.
    expect(Object.keys(ALLOWANCE).filter((a) => used.has(a))).toEqual([]);
    // What the run covered, so that a narrower run cannot pass unnoticed.
    expect([...used].sort()).toEqual(
      [
        '/events:create',
        '/pods:list',
        '/pods:patch',
        '/services:list',
        '/services:watch',
        'apps/replicasets:list',
        'apps/replicasets:patch',
        'apps/replicasets:watch',
        'discovery.k8s.io/endpointslices:list',
        'discovery.k8s.io/endpointslices:watch',
        'argoproj.io/analysisruns:list',
        'argoproj.io/analysisruns:watch',
        'argoproj.io/analysistemplates:list',
        'argoproj.io/analysistemplates:watch',
        'argoproj.io/rollouts/status:patch',
        'argoproj.io/rollouts:list',
        'argoproj.io/rollouts:patch',
        'argoproj.io/rollouts:watch',
        'coordination.k8s.io/leases:create',
        'coordination.k8s.io/leases:get',
        'coordination.k8s.io/leases:update',
        'tandem.dev/rolloutgroups/status:patch',
        'tandem.dev/rolloutgroups:list',
        'tandem.dev/rolloutgroups:patch',
        'tandem.dev/rolloutgroups:watch',
      ].sort(),
    );
  });
});
