/**
 * Tandem run through the real Argo CD (v3.2, `cluster.sh up --argocd`): an Application syncs loan,
 * interest, their Services and the RolloutGroup from a loopback Git repository; a commit of new
 * images starts one release, which Argo CD shows at the gate as docs/argocd.md says; Tandem's
 * promote action, run through Argo CD's CLI against its server, completes it; and Argo CD ends
 * Synced and Healthy without syncing again over Tandem's writes. The members' own Argo CD actions
 * (Resume, Promote-Full, Abort) during a release, and a sync with waves and a PostSync hook, are
 * checked against what docs/argocd.md says.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addressKey, blueGreenApp, canaryApp, groupManifest, webAnalysis } from './support/apps.ts';
import { APPS, ARGOCD_NAMESPACE, AppRecorder, GitRepo, argocd, argocdUp, resourceHealth, type AppObj, type ArgocdStack } from './support/argocd.ts';
import { activeSwitches, emptyServiceViolations, matchedVersionViolations, selectorChanges, type Edge } from './support/invariants.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario, serviceUrl } from './support/scenario.ts';
import { verdictServer, type VerdictServer } from './support/verdict-server.ts';
import { waitFor } from './support/wait.ts';

let stack: ArgocdStack;
let s: Scenario | undefined;
let recorder: Recorder | undefined;
let apps: AppRecorder | undefined;
/** The verdict server of the test running, closed after it. */
let verdictOpen: VerdictServer | undefined;

beforeAll(() => {
  stack = argocdUp();
});
afterEach(async () => {
  await apps?.stop();
  await recorder?.stop();
  if (s) await s.kube.custom.deleteNamespacedCustomObject({ ...APPS, namespace: ARGOCD_NAMESPACE, name: s.ns }).catch(() => undefined);
  await s?.cleanup();
  await verdictOpen?.close();
  s = apps = recorder = verdictOpen = undefined;
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

/** `argocd app actions list` as {action: disabled} for one resource of an app. */
function actionsOf(app: string, kind: string, group: string, name: string): Record<string, boolean> {
  const lines = argocd(stack, 'app', 'actions', 'list', app, '--kind', kind, '--group', group, '--resource-name', name).trim().split('\n');
  const header = lines[0]!.split(/\s+/);
  const [ia, id] = [header.indexOf('ACTION'), header.indexOf('DISABLED')];
  return Object.fromEntries(lines.slice(1).map((l) => {
    const cols = l.split(/\s+/);
    return [cols[ia]!, cols[id] === 'true'];
  }));
}
/** Runs an action on one resource of an app through Argo CD's server, as the UI's menu does. */
const runAction = (app: string, kind: string, group: string, name: string, action: string) =>
  argocd(stack, 'app', 'actions', 'run', app, action, '--kind', kind, '--group', group, '--resource-name', name);

/** Tandem's actions on the group, and Argo CD's built-in Rollout actions on a member. */
const groupActions = (app: string) => actionsOf(app, 'RolloutGroup', 'tandem.dev', 'loans');
const groupAction = (app: string, action: string) => runAction(app, 'RolloutGroup', 'tandem.dev', 'loans', action);
const memberActions = (app: string, rollout: string) => actionsOf(app, 'Rollout', 'argoproj.io', rollout);
const memberAction = (app: string, rollout: string, action: string) => runAction(app, 'Rollout', 'argoproj.io', rollout, action);

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
const waitGate = (sc: Scenario, notRelease?: string) =>
  sc.waitGroup('gate of a release of both members', (g) =>
    g.status?.phase === 'Paused' && g.status.observedGeneration === (g.metadata as { generation?: number }).generation &&
    (g.status.release?.targets ?? []).length === 2 && g.status.release!.id !== notRelease, 180_000);

const syncedHealthy = (rev: string) => (a: AppObj) =>
  a.status?.sync?.status === 'Synced' && a.status.sync.revision === rev && a.status.health?.status === 'Healthy' && a.status.operationState?.phase === 'Succeeded';

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
    // One wave, no hooks: the commit's sync ended once everything was applied, not waiting for the gate.
    expect(gate.app.status!.operationState).toMatchObject({ phase: 'Succeeded', operation: { sync: { revision: second } } });
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
    const verdict = (verdictOpen = await verdictServer());
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

  it('Argo CD’s own Resume, then Promote-Full, on interest at the gate: reported, the gate opens at once, the mismatch lasts one cutover', async () => {
    const { sc, kube, ns, dump, waitApp, push, apps } = await deployed(manifests('1.0'));
    const mark = apps.states.length - 1;
    recorder = await Recorder.start(kube, ns);
    const released: { id: string; sha: string }[] = [];
    for (const [version, action] of [['2.0', 'resume'], ['3.0', 'promote-full']] as const) {
      const sha = push(`loan and interest ${version}`, manifests(version));
      const release = (await waitGate(sc, released.at(-1)?.id)).status!.release!;
      released.push({ id: release.id, sha });
      // Argo CD offers it on the member waiting at Tandem's gate, and runs it through its server.
      await waitFor(`Argo CD to offer ${action} on interest`, async () => memberActions(ns, 'interest')[action] === false || undefined, { dump });
      memberAction(ns, 'interest', action);
      await sc.waitGroup(`Healthy after the ${version} release`, (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
      for (const m of ['interest', 'loan']) {
        const r = await kube.rollout(ns, m);
        expect(r.status!['stableRS'], m).toBe(release.targets.find((t) => t.rollout === m)!.revision);
        expect(r.spec.template.spec.containers[0].image).toBe(`ghcr.io/acme/${m}:${version}`);
      }
      await waitApp(`Synced and Healthy on ${version}`, syncedHealthy(sha));
    }
    await recorder.caughtUp();
    // DESIGN §4b: seen and reported at once, and the gate opened on it (docs/design.md's policy).
    const events = await kube.events(ns, 'loans');
    for (const { id } of released) {
      expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'OutOfBandPromotion', message: `release ${id}: interest promoted by someone else before the gate opened` }));
      expect(events.find((e) => e.reason === 'PromotionStarted' && e.message.includes(id))?.message).toContain('started by out-of-band promotion of interest');
      expect(events.some((e) => e.reason === 'ReleaseCompleted' && e.message.includes(id)), id).toBe(true);
    }
    // Each time Argo CD's action switched interest first and Tandem followed with loan at once: old
    // loan reached new interest only between the two switches of that release, nothing else mismatched.
    expect(activeSwitches(recorder).map((w) => w.rollout)).toEqual(['interest', 'loan', 'interest', 'loan']);
    const switches = selectorChanges(recorder).filter((c) => c.service.endsWith('-active'));
    expect(switches.map((c) => c.service)).toEqual(['interest-active', 'loan-active', 'interest-active', 'loan-active']);
    const windows = [
      { from: switches[0]!.seq, to: switches[1]!.seq, pair: '(loan:1.0) reaches interest-active (interest:2.0)' },
      { from: switches[2]!.seq, to: switches[3]!.seq, pair: '(loan:2.0) reaches interest-active (interest:3.0)' },
    ];
    for (const v of matchedVersionViolations(recorder, EDGES)) {
      const seq = Number(/^#(\d+)/.exec(v)?.[1]);
      expect(windows.find((w) => seq >= w.from && seq < w.to)?.pair, v).toBeDefined();
      expect(v).toContain(windows.find((w) => seq >= w.from && seq < w.to)!.pair);
    }
    expect(emptyServiceViolations(recorder, EDGES)).toEqual([]);
    // The actions wrote the Rollouts' status only: one automated sync per commit, nothing else.
    expect(apps.operationsSince(mark).map((o) => [o.revision, o.automated, o.phase])).toEqual(released.map(({ sha }) => [sha, true, 'Succeeded']));
  });

  it('Argo CD’s own Abort on interest: at the gate it aborts the release; the next commit releases anew; after loan went live, loan goes back with it', async () => {
    // loan's post-promotion analysis measures after 30 s: live on its new revision but not yet stable,
    // so Tandem waits before promoting interest, and Abort lands after a partial cutover.
    const verdict = (verdictOpen = await verdictServer());
    const files = (v: string) => ({
      ...manifests(v),
      'analysis.yaml': webAnalysis('settle', verdict.url, 30),
      'loan.yaml': blueGreenApp('loan', v, { postPromotionAnalysis: 'settle' }),
    });
    const { sc, kube, ns, dump, waitApp, push, apps } = await deployed(files('1.0'));
    const stable = { interest: (await kube.rollout(ns, 'interest')).status!['stableRS'], loan: (await kube.rollout(ns, 'loan')).status!['stableRS'] };
    const mark = apps.states.length - 1;
    recorder = await Recorder.start(kube, ns);

    // At the gate: the release is aborted, loan with it; nothing went live.
    const second = push('loan and interest 2.0', files('2.0'));
    const gated = (await waitGate(sc)).status!.release!;
    expect(memberActions(ns, 'interest')['abort']).toBe(false);
    memberAction(ns, 'interest', 'abort');
    const atGate = await sc.waitGroup('aborted at the gate', (g) => g.status?.phase === 'Degraded' && g.status.release?.id === gated.id && g.status.release.abortedAt !== undefined, 120_000);
    expect(atGate.status!.release!.abortReason).toContain('member interest failed');
    await waitFor('loan aborted by Tandem', async () => (await kube.rollout(ns, 'loan')).status!['abort'] === true || undefined, { dump });
    // What docs/argocd.md's table says for an abort: Degraded, and still Synced (aborts write status only).
    await waitApp('Degraded, Synced on the second commit', (a) => a.status?.health?.status === 'Degraded' && a.status.sync?.status === 'Synced' && a.status.sync.revision === second);

    // The next commit: Argo CD applies one Rollout, then the other, which is still aborted a moment;
    // that leftover abort is not the new release's failure. One release of both, at its gate.
    const third = push('loan and interest 3.0', files('3.0'));
    const release = (await waitGate(sc, gated.id)).status!.release!;
    expect(release.abortedAt).toBeUndefined();
    groupAction(ns, 'promote');
    const loanTarget = release.targets.find((t) => t.rollout === 'loan')!.revision;
    await waitFor('loan live on 3.0', async () => (await kube.rollout(ns, 'loan')).status!['blueGreen']['activeSelector'] === loanTarget || undefined, { dump, timeoutMs: 60_000 });
    memberAction(ns, 'interest', 'abort');
    const failed = await sc.waitGroup('failed after the partial cutover', (g) => g.status?.phase === 'Degraded' && g.status.release?.id === release.id && g.status.release.abortReason !== undefined, 120_000);
    expect(failed.status!.release!.abortReason).toContain('member interest failed');
    // loan, live but not yet stable, is aborted by Tandem (docs/design.md's policy): Argo takes its
    // active Service back, no template is restored.
    await waitFor('both live on 1.0 again', async () => {
      const [i, l] = [await kube.rollout(ns, 'interest'), await kube.rollout(ns, 'loan')];
      return (i.status!['blueGreen']['activeSelector'] === stable.interest && l.status!['blueGreen']['activeSelector'] === stable.loan && l.status!['abort'] === true) || undefined;
    }, { dump, timeoutMs: 120_000 });
    await recorder.caughtUp();
    await waitApp('Degraded, Synced on the third commit', (a) => a.status?.health?.status === 'Degraded' && a.status.sync?.status === 'Synced' && a.status.sync.revision === third);

    // Only loan ever went live, and came back; no live pod ever reached a version it does not match
    // or an empty Service.
    expect(activeSwitches(recorder).map((w) => [w.rollout, w.to])).toEqual([['loan', loanTarget], ['loan', stable.loan]]);
    expect(matchedVersionViolations(recorder, EDGES)).toEqual([]);
    expect(emptyServiceViolations(recorder, EDGES)).toEqual([]);
    // Exactly the two releases the aborts hit failed: none on a leftover abort.
    const abortedIds = (await kube.events(ns, 'loans')).filter((e) => e.type === 'Warning' && e.reason === 'ReleaseAborted').map((e) => /^release (\S+)/.exec(e.message)?.[1]);
    expect([...new Set(abortedIds)].sort()).toEqual([gated.id, release.id].sort());
    expect(apps.operationsSince(mark).map((o) => [o.revision, o.automated, o.phase])).toEqual([[second, true, 'Succeeded'], [third, true, 'Succeeded']]);
  });

  it('sync waves and a PostSync hook: the sync of a commit that changes the members runs until the promote; the group’s wave and the hook come after', async () => {
    const inWave = (yaml: string, wave: number) => yaml.replace('metadata: {name: loans}', `metadata: {name: loans, annotations: {argocd.argoproj.io/sync-wave: "${wave}"}}`);
    const hook = (v: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: smoke
  annotations: {argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/hook-delete-policy: BeforeHookCreation}
data: {version: "${v}"}
`;
    // The members in wave 0, the group in wave 1, and a PostSync hook.
    const files = (v: string) => ({ ...manifests(v), 'group.yaml': inWave(manifests(v)['group.yaml'], 1), 'smoke.yaml': hook(v) });
    const { sc, kube, ns, waitApp, push, apps } = await deployed(files('1.0'));
    const mark = apps.states.length - 1;
    const second = push('loan and interest 2.0', files('2.0'));
    await waitGate(sc);

    // At the gate, as Argo CD reports its operation: still Running, waiting for the member Rollouts
    // (Suspended), with no result yet for the group's wave or the hook.
    const ofSecond = (a: AppObj) => a.status?.operationState?.operation?.sync?.revision === second;
    const running = await waitApp('the sync of the second commit waiting for the members at the gate', (a) =>
      ofSecond(a) && a.status?.operationState?.phase === 'Running' && /^waiting for healthy state of argoproj\.io\/Rollout\//.test(a.status.operationState.message ?? ''));
    const later = (a: AppObj) => (a.status?.operationState?.syncResult?.resources ?? []).filter((r) => r.kind === 'RolloutGroup' || r.hookType === 'PostSync');
    expect(later(running)).toEqual([]);
    expect((await kube.core.readNamespacedConfigMap({ namespace: ns, name: 'smoke' })).data).toEqual({ version: '1.0' });

    groupAction(ns, 'promote');
    await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
    const end = await waitApp('Synced and Healthy on the second commit', syncedHealthy(second));
    expect(later(end).map((r) => [r.kind, r.name, r.syncPhase, r.hookPhase])).toEqual([
      ['RolloutGroup', 'loans', 'Sync', 'Succeeded'],
      ['ConfigMap', 'smoke', 'PostSync', 'Succeeded'],
    ]);
    expect((await kube.core.readNamespacedConfigMap({ namespace: ns, name: 'smoke' })).data).toEqual({ version: '2.0' });

    // Over the operation as recorded: Running until it succeeded; the group's wave applied only once
    // both members were Healthy (promoted), the hook only once the group was (the release completed).
    const op = apps.states.slice(mark + 1).filter(ofSecond);
    expect(op.map((a) => a.status!.operationState!.phase).filter((x, i, xs) => x !== xs[i - 1])).toEqual(['Running', 'Succeeded']);
    const result = (a: AppObj, kind: string, name: string) => a.status!.operationState!.syncResult?.resources?.find((r) => r.kind === kind && r.name === name)?.hookPhase;
    for (const a of op) {
      const at = `${a.metadata.resourceVersion}: ${a.status!.operationState!.message}`;
      if (result(a, 'RolloutGroup', 'loans')) expect([result(a, 'Rollout', 'interest'), result(a, 'Rollout', 'loan')], at).toEqual(['Succeeded', 'Succeeded']);
      if (result(a, 'ConfigMap', 'smoke')) expect(result(a, 'RolloutGroup', 'loans'), at).toBe('Succeeded');
    }
    expect(op.some((a) => result(a, 'RolloutGroup', 'loans') === 'Running'), 'Argo CD never waited for the group').toBe(true);
    expect(apps.operationsSince(mark).map((o) => [o.revision, o.automated, o.phase])).toEqual([[second, true, 'Succeeded']]);
  });
});
