/**
 * Tandem run through the real Argo CD (v3.2, `cluster.sh up --argocd`): an Application syncs loan,
 * interest, their Services and the RolloutGroup from a loopback Git repository; a commit of new
 * images starts one release, which Argo CD shows at the gate as docs/argocd.md says; Tandem's
 * promote action, run through Argo CD's CLI against its server, completes it; and Argo CD ends
 * Synced and Healthy without syncing again over Tandem's writes.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addressKey, blueGreenApp, groupManifest } from './support/apps.ts';
import { APPS, ARGOCD_NAMESPACE, AppRecorder, GitRepo, argocd, argocdUp, resourceHealth, type AppObj, type ArgocdStack } from './support/argocd.ts';
import { matchedVersionViolations, type Edge } from './support/invariants.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario, serviceUrl } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

let stack: ArgocdStack;
let s: Scenario | undefined;
let recorder: Recorder | undefined;
let apps: AppRecorder | undefined;

beforeAll(() => {
  stack = argocdUp();
});
afterEach(async () => {
  await apps?.stop();
  await recorder?.stop();
  if (s) await s.kube.custom.deleteNamespacedCustomObject({ ...APPS, namespace: ARGOCD_NAMESPACE, name: s.ns }).catch(() => undefined);
  await s?.cleanup();
  s = apps = recorder = undefined;
});

const EDGES: readonly Edge[] = [{ dependent: 'loan', dependency: 'interest', annotation: addressKey('interest') }];

/** What the repository holds: both apps at a version, and the group. */
const manifests = (version: string) => ({
  'interest.yaml': blueGreenApp('interest', version),
  'loan.yaml': blueGreenApp('loan', version),
  'group.yaml': groupManifest('loans', [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }]),
});

/** The Application of docs/argocd.md: auto-sync with self-heal, Tandem's writes ignored and respected. */
const application = (name: string, repoURL: string) => `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ${name}}
spec:
  project: default
  source: {repoURL: "${repoURL}", targetRevision: main, path: .}
  destination: {server: https://kubernetes.default.svc, namespace: ${name}}
  ignoreDifferences:
  - group: argoproj.io
    kind: Rollout
    managedFieldsManagers: [tandem-controller]
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [RespectIgnoreDifferences=true]
`;

/** `argocd app actions list` as {action: disabled} for the group. */
function groupActions(app: string): Record<string, boolean> {
  const lines = argocd(stack, 'app', 'actions', 'list', app, '--kind', 'RolloutGroup', '--group', 'tandem.dev', '--resource-name', 'loans').trim().split('\n');
  const header = lines[0]!.split(/\s+/);
  const [ia, id] = [header.indexOf('ACTION'), header.indexOf('DISABLED')];
  return Object.fromEntries(lines.slice(1).map((l) => {
    const cols = l.split(/\s+/);
    return [cols[ia]!, cols[id] === 'true'];
  }));
}

describe('Tandem through Argo CD', () => {
  it('a commit syncs, releases, waits Suspended at the gate, and is promoted by the Argo CD action', async () => {
    s = await Scenario.create('argocd', 'loans', ['interest', 'loan']);
    const { kube, ns } = s;
    const sc = s;
    const repo = new GitRepo(stack, ns);
    const first = repo.commit('loan and interest 1.0', manifests('1.0'));
    s.startController();
    apps = await AppRecorder.start(kube, ns);
    const appNow = async () => (await kube.custom.getNamespacedCustomObject({ ...APPS, namespace: ARGOCD_NAMESPACE, name: ns })) as AppObj;
    const dump = async () => `${await sc.dump()}\napplication: ${JSON.stringify((await appNow().catch(() => undefined))?.status ?? null)}`;
    const waitApp = (what: string, pred: (a: AppObj) => boolean, timeoutMs = 180_000) =>
      waitFor(`application ${ns}: ${what}`, async () => {
        const a = await appNow();
        return pred(a) ? a : undefined;
      }, { timeoutMs, dump });
    const syncedHealthy = (rev: string) => (a: AppObj) =>
      a.status?.sync?.status === 'Synced' && a.status.sync.revision === rev && a.status.health?.status === 'Healthy' && a.status.operationState?.phase === 'Succeeded';

    await kube.apply(ARGOCD_NAMESPACE, application(ns, repo.url));
    await s.waitSteady(180_000);
    await waitApp('Synced and Healthy on the first commit', syncedHealthy(first));
    expect(await resourceHealth(stack, ns, 'RolloutGroup', 'loans')).toEqual({ status: 'Healthy', message: '2/2 members stable' });
    expect(groupActions(ns)).toEqual({ promote: true, abort: true, retry: true });
    // Wired before the release (the invariants concern releases, not the first start-up).
    const stable = (await kube.rollout(ns, 'loan')).status!['stableRS'] as string;
    await waitFor('loan pods wired to interest', async () => {
      const pods = await sc.podAnnotations('loan', stable);
      return pods.length > 0 && pods.every((a) => a[addressKey('interest')] === serviceUrl('interest-active', ns));
    }, { dump });
    recorder = await Recorder.start(kube, ns);

    const mark = apps.states.length - 1;
    const second = repo.commit('loan and interest 2.0', manifests('2.0'));
    argocd(stack, 'app', 'get', ns, '--refresh'); // what a Git webhook does; Argo CD polls every 3 minutes otherwise

    const paused = await s.waitPhase('Paused', 180_000);
    const release = paused.status!.release!;
    expect(release.targets.map((t) => t.rollout).sort()).toEqual(['interest', 'loan']);
    // At the gate, as Argo CD computed it: the group Suspended with its message, and so the app.
    const gate = await waitFor('Argo CD to show the gate', async () => {
      const [group, app] = [await resourceHealth(stack, ns, 'RolloutGroup', 'loans'), await appNow()];
      return group?.status === 'Suspended' && app.status?.health?.status === 'Suspended' ? { group, app } : undefined;
    }, { dump });
    expect(gate.group.message).toBe(`release ${release.id} ready: 2/2 members; waiting for promote`);
    expect(gate.app.status!.sync).toMatchObject({ status: 'Synced', revision: second });
    for (const m of ['interest', 'loan']) expect((await resourceHealth(stack, ns, 'Rollout', m))?.status, m).toBe('Suspended');
    expect(groupActions(ns)).toEqual({ promote: false, abort: false, retry: true });

    argocd(stack, 'app', 'actions', 'run', ns, 'promote', '--kind', 'RolloutGroup', '--group', 'tandem.dev', '--resource-name', 'loans');
    const done = await s.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
    expect(done.metadata.annotations?.['tandem.dev/promote']).toBeUndefined();
    for (const m of ['interest', 'loan']) {
      const r = await kube.rollout(ns, m);
      expect(r.status!['stableRS'], m).toBe(release.targets.find((t) => t.rollout === m)!.revision);
      expect(r.spec.template.spec.containers[0].image).toBe(`ghcr.io/acme/${m}:2.0`);
    }
    await waitApp('Synced and Healthy on the second commit', syncedHealthy(second));
    await waitFor('Argo CD to show the group Healthy', async () => (await resourceHealth(stack, ns, 'RolloutGroup', 'loans'))?.status === 'Healthy', { dump });

    // One sync for the one commit: Tandem's writes (addresses, requests, finalizer) never made the
    // app OutOfSync, so self-heal never fought them.
    const ops = apps.operationsSince(mark);
    expect(ops.map((o) => [o.revision, o.automated, o.phase])).toEqual([[second, true, 'Succeeded']]);
    const states = apps.states.slice(mark + 1);
    const synced = states.findIndex((a) => a.status?.sync?.status === 'Synced' && a.status.sync.revision === second);
    expect(synced).toBeGreaterThanOrEqual(0);
    expect(states.slice(synced).filter((a) => a.status?.sync?.status !== 'Synced').map((a) => a.status?.sync)).toEqual([]);
    expect(matchedVersionViolations(recorder, EDGES, 'loans')).toEqual([]);
  });
});
