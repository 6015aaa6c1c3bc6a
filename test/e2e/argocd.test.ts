/**
 * Tandem run through the real Argo CD (v3.2, `cluster.sh up --argocd`): an Application syncs loan,
 * interest, their Services and the RolloutGroup from a loopback Git repository; a commit of new
 * images starts one release, which Argo CD shows at the gate as docs/argocd.md says; Tandem's
 * promote action, run through Argo CD's CLI against its server, completes it; and Argo CD ends
 * Synced and Healthy without syncing again over Tandem's writes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addressKey, blueGreenApp, canaryApp, groupManifest, webAnalysis } from './support/apps.ts';
import { APPS, ARGOCD_NAMESPACE, AppRecorder, GitRepo, argocd, argocdUp, resourceHealth, type AppObj, type ArgocdStack } from './support/argocd.ts';
import { matchedVersionViolations, type Edge } from './support/invariants.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario, serviceUrl } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

let stack: ArgocdStack;
let s: Scenario | undefined;
let recorder: Recorder | undefined;
let apps: AppRecorder | undefined;
let server: Server | undefined;

beforeAll(() => {
  stack = argocdUp();
});
afterEach(async () => {
  await apps?.stop();
  await recorder?.stop();
  if (s) await s.kube.custom.deleteNamespacedCustomObject({ ...APPS, namespace: ARGOCD_NAMESPACE, name: s.ns }).catch(() => undefined);
  await s?.cleanup();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  s = apps = recorder = server = undefined;
});

const EDGES: readonly Edge[] = [{ dependent: 'loan', dependency: 'interest', annotation: addressKey('interest') }];

/** The endpoint interest's analysis asks; Argo's controller runs on this machine, so loopback reaches it. */
async function verdictServer(): Promise<{ url: string; set: (ok: boolean) => void }> {
  let ok = true;
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok }));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/verdict`, set: (v) => (ok = v) };
}

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

/** The app's sync/health after state `from`, consecutive repeats dropped. */
const journey = (r: AppRecorder, from: number) =>
  r.states.slice(from + 1).map((a) => `${a.status?.sync?.status}/${a.status?.health?.status}`).filter((x, i, xs) => x !== xs[i - 1]);
/** Whether `want` occurs in `seen` in this order (other entries may come between). */
const inOrder = (seen: readonly string[], want: readonly string[]) => {
  let i = 0;
  for (const x of seen) if (x === want[i]) i++;
  return i === want.length;
};

/** A namespace, its Git repository at the first commit, Tandem's controller, and the Application syncing it. */
async function deployed(files: Record<string, string>) {
  const sc = await Scenario.create('argocd', 'loans', ['interest', 'loan']);
  s = sc;
  const { kube, ns } = sc;
  const repo = new GitRepo(stack, ns);
  const first = repo.commit('first', files);
  sc.startController();
  const recorded = await AppRecorder.start(kube, ns);
  apps = recorded;
  const appNow = async () => (await kube.custom.getNamespacedCustomObject({ ...APPS, namespace: ARGOCD_NAMESPACE, name: ns })) as AppObj;
  const dump = async () => `${await sc.dump()}\napplication: ${JSON.stringify((await appNow().catch(() => undefined))?.status ?? null)}`;
  const waitApp = (what: string, pred: (a: AppObj) => boolean, timeoutMs = 180_000) =>
    waitFor(`application ${ns}: ${what}`, async () => {
      const a = await appNow();
      return pred(a) ? a : undefined;
    }, { timeoutMs, dump });
  await kube.apply(ARGOCD_NAMESPACE, application(ns, repo.url));
  await sc.waitSteady(180_000);
  await waitApp('Synced and Healthy on the first commit', syncedHealthy(first));
  /** Commits and asks Argo CD to look (what a Git webhook does; it polls every 3 minutes otherwise). */
  const push = (message: string, changed: Record<string, string>) => {
    const sha = repo.commit(message, changed);
    argocd(stack, 'app', 'get', ns, '--refresh');
    return sha;
  };
  return { sc, kube, ns, repo, apps: recorded, first, appNow, dump, waitApp, push };
}

/**
 * The gate of a release of both members. Argo CD applies the Rollouts one after the other, so Tandem
 * may first start a release of the one applied first, which the second one's change replaces.
 */
const waitGate = (sc: Scenario) =>
  sc.waitGroup('gate of a release of both members', (g) =>
    g.status?.phase === 'Paused' && g.status.observedGeneration === (g.metadata as { generation?: number }).generation &&
    (g.status.release?.targets ?? []).length === 2, 180_000);

const syncedHealthy = (rev: string) => (a: AppObj) =>
  a.status?.sync?.status === 'Synced' && a.status.sync.revision === rev && a.status.health?.status === 'Healthy' && a.status.operationState?.phase === 'Succeeded';

/** Runs one of Tandem's group actions through Argo CD's server. */
const groupAction = (app: string, action: string) =>
  argocd(stack, 'app', 'actions', 'run', app, action, '--kind', 'RolloutGroup', '--group', 'tandem.dev', '--resource-name', 'loans');

describe('Tandem through Argo CD', () => {
  it('a commit syncs, releases, waits Suspended at the gate, and is promoted by the Argo CD action', async () => {
    const { sc, kube, ns, appNow, dump, waitApp, push, apps } = await deployed(manifests('1.0'));
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
    const second = push('loan and interest 2.0', manifests('2.0'));

    const paused = await waitGate(sc);
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

    groupAction(ns, 'promote');
    const done = await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
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
    // What docs/argocd.md's table says the app shows, in order (consecutive repeats dropped).
    const shown = journey(apps, mark);
    expect(inOrder(shown, ['OutOfSync/Healthy', 'Synced/Progressing', 'Synced/Suspended', 'Synced/Healthy']), shown.join(' → ')).toBe(true);
    expect(shown.filter((x) => x.endsWith('/Degraded'))).toEqual([]);
    const ops = apps.operationsSince(mark);
    expect(ops.map((o) => [o.revision, o.automated, o.phase])).toEqual([[second, true, 'Succeeded']]);
    const states = apps.states.slice(mark + 1);
    const synced = states.findIndex((a) => a.status?.sync?.status === 'Synced' && a.status.sync.revision === second);
    expect(synced, 'the app never showed Synced at the second revision').not.toBe(-1);
    expect(states.slice(synced).filter((a) => a.status?.sync?.status !== 'Synced').map((a) => a.status?.sync)).toEqual([]);
    expect(matchedVersionViolations(recorder, EDGES)).toEqual([]);
  });

  it('a failed post-promotion analysis rolls loan back; Argo CD shows it OutOfSync and self-heal puts Git back once', async () => {
    const verdict = await verdictServer();
    const files = (v: string) => ({
      ...manifests(v),
      'analysis.yaml': webAnalysis('interest-ok', verdict.url),
      'interest.yaml': blueGreenApp('interest', v, { postPromotionAnalysis: 'interest-ok' }),
    });
    const { sc, kube, ns, waitApp, push, apps } = await deployed(files('1.0'));
    const mark = apps.states.length - 1;
    verdict.set(false);
    const second = push('loan and interest 2.0', files('2.0'));
    const paused = await waitGate(sc);
    groupAction(ns, 'promote');

    // DESIGN §4.6: interest fails after loan went live; Tandem rolls loan back, against Git.
    await sc.waitGroup('loan rolled back', (g) => g.status?.phase === 'Degraded' && (g.status.release?.rolledBack ?? []).includes('loan'), 180_000);
    // docs/rollback.md with self-heal: Argo CD sees loan OutOfSync and re-applies Git once; Tandem
    // leaves it there and says so, rather than fight.
    const put = await sc.waitGroup('loan put back by self-heal, left as is', (g) => g.status?.message?.includes('loan put back on the new revision after the rollback') === true, 180_000);
    expect(put.status!.phase).toBe('Degraded');
    expect((await kube.rollout(ns, 'loan')).spec.template.spec.containers[0].image).toBe('ghcr.io/acme/loan:2.0');
    const end = await waitApp('Synced again after self-heal', (a) => a.status?.sync?.status === 'Synced' && a.status.operationState?.phase === 'Succeeded' && a.status.operationState.startedAt !== apps.operationsSince(mark)[0]?.startedAt);
    expect(end.status!.sync!.revision).toBe(second);
    const shown = journey(apps, mark);
    expect(inOrder(shown, ['OutOfSync/Healthy', 'Synced/Suspended', 'OutOfSync/Degraded', 'Synced/Degraded']), shown.join(' → ')).toBe(true);
    // The commit's sync, then one self-heal of the rolled-back Rollout: no loop.
    const ops = apps.operationsSince(mark);
    expect(ops.map((o) => [o.revision, o.automated, o.phase]), JSON.stringify(ops)).toEqual([[second, true, 'Succeeded'], [second, true, 'Succeeded']]);
    expect(paused.status!.release!.id).toBe(put.status!.release!.id);
  });

  it('abort and retry run through Argo CD', async () => {
    const files = (v: string) => ({
      'interest.yaml': canaryApp('interest', v),
      'loan.yaml': canaryApp('loan', v),
      'group.yaml': groupManifest('loans', [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }]),
    });
    const { sc, kube, ns, waitApp, push, apps } = await deployed(files('1.0'));
    const mark = apps.states.length - 1;
    const second = push('loan and interest 2.0', files('2.0'));
    const gated = await waitGate(sc);
    const release = gated.status!.release!;
    expect(groupActions(ns)).toEqual({ promote: false, abort: false, retry: true });

    groupAction(ns, 'abort');
    const aborted = await sc.waitGroup('aborted', (g) => g.status?.phase === 'Degraded' && g.status.release?.abortedAt !== undefined, 180_000);
    expect(aborted.status!.message).toContain('abort requested: requested from Argo CD');
    await waitApp('Degraded, still Synced', (a) => a.status?.health?.status === 'Degraded' && a.status.sync?.status === 'Synced');
    expect(groupActions(ns)).toEqual({ promote: true, abort: true, retry: false });

    groupAction(ns, 'retry');
    const again = await sc.waitGroup('gated again after the retry', (g) => g.status?.phase === 'Paused' && g.status.release?.id === release.id && !g.status.release.abortedAt, 180_000);
    expect(again.status!.release!.retries).toBe(1);
    // Two barriers (25%, 75%), one promote each, then the release completes.
    groupAction(ns, 'promote');
    await sc.waitGroup('at the second barrier', (g) => g.status?.phase === 'Paused' && g.status.release?.stage === 1, 180_000);
    groupAction(ns, 'promote');
    await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
    for (const m of ['interest', 'loan']) expect((await kube.rollout(ns, m)).spec.template.spec.containers[0].image).toBe(`ghcr.io/acme/${m}:2.0`);
    await waitApp('Synced and Healthy', syncedHealthy(second));
    // Abort and retry wrote requests and statuses only: the one commit was the one sync.
    expect(apps.operationsSince(mark).map((o) => [o.revision, o.automated, o.phase])).toEqual([[second, true, 'Succeeded']]);
  });
});
