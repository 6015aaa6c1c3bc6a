/**
 * DESIGN §4.6 on the real stack: interest's post-promotion analysis fails after loan went live; Argo
 * aborts interest and Tandem rolls loan back, so both end on their previous revisions. A retry is
 * refused (Argo would switch interest again without a gate); a fix in Git starts a release that completes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { addressKey, blueGreenApp, groupManifest, webAnalysis } from './support/apps.ts';
import { emptyServiceViolations, matchedVersionViolations } from './support/invariants.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario } from './support/scenario.ts';
import { verdictServer, type VerdictServer } from './support/verdict-server.ts';
import { waitFor } from './support/wait.ts';

let s: Scenario | undefined;
let verdict: VerdictServer | undefined;
afterEach(async () => {
  await s?.cleanup();
  await verdict?.close();
  s = undefined;
  verdict = undefined;
});

describe('rollback after a partial cutover', () => {
  it('rolls the promoted member back when another fails its post-promotion analysis; a fix in Git then completes', async () => {
    verdict = await verdictServer();
    s = await Scenario.create('rollback', 'loans', ['interest', 'loan']);
    const { kube, ns } = s;
    await kube.apply(ns, webAnalysis('interest-ok', verdict.url));
    await kube.apply(ns, blueGreenApp('interest', '1.0', { postPromotionAnalysis: 'interest-ok' }));
    await kube.apply(ns, blueGreenApp('loan', '1.0'));
    await kube.apply(ns, groupManifest('loans', [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }]));
    s.startController();
    await s.waitSteady();
    const before = { interest: (await kube.rollout(ns, 'interest')).status!['stableRS'], loan: (await kube.rollout(ns, 'loan')).status!['stableRS'] };

    const recorder = await Recorder.start(kube, ns);
    let release: { id: string; targets: { rollout: string; revision: string }[] };
    try {
      verdict.set(false);
      for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      const paused = await s.waitGroup('release of both ready', (g) => g.status?.phase === 'Paused' && g.status.release?.targets.length === 2);
      release = paused.status!.release!;
      await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': release.id });

      const degraded = await s.waitGroup('rolled back', (g) => g.status?.phase === 'Degraded' && (g.status.release?.rolledBack ?? []).includes('loan') && g.status.message?.includes('rolled back loan') === true, 180_000);
      expect(verdict.asked()).toBeGreaterThan(0);
      expect(degraded.status!.message).toContain('member interest failed');
      expect(degraded.status!.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ReleaseRolledBack' });
      // All or nothing: both back on the revisions they had before the release, the new loan never kept.
      await waitFor('both on their previous revisions', async () => {
        const [i, l] = [await kube.rollout(ns, 'interest'), await kube.rollout(ns, 'loan')];
        return i.status!['blueGreen']['activeSelector'] === before.interest && i.status!['stableRS'] === before.interest &&
          l.status!['stableRS'] === before.loan && l.status!['currentPodHash'] === before.loan && l.status!['blueGreen']['activeSelector'] === before.loan;
      }, { dump: s.dump });
      await recorder.caughtUp();
    } finally {
      await recorder.stop();
    }
    const target = (m: string) => release.targets.find((t) => t.rollout === m)!.revision;
    // Through the partial cutover and the rollback: versions matched, and no live pod ever called an empty Service.
    const edges = [{ dependent: 'loan', dependency: 'interest', annotation: addressKey('interest') }];
    expect(matchedVersionViolations(recorder, edges)).toEqual([]);
    expect(emptyServiceViolations(recorder, edges)).toEqual([]);
    const loan = await kube.rollout(ns, 'loan');
    expect(loan.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/loan:1.0');
    expect(loan.spec.template.metadata.labels).toEqual({ app: 'loan' });
    expect((await kube.rollout(ns, 'interest')).status!['abort']).toBe(true);
    const events = await waitFor('ReleaseRolledBack event', async () => {
      const es = await kube.events(ns, 'loans');
      return es.some((e) => e.reason === 'ReleaseRolledBack') ? es : undefined;
    });
    expect(events.find((e) => e.reason === 'ReleaseRolledBack')).toMatchObject({ type: 'Warning', message: expect.stringContaining(`Git still declares ${target('loan')}`) });
    // A promote request for the aborted release is refused.
    await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': release.id });
    await s.waitGroup('stale promote removed', (g) => g.metadata.annotations?.['tandem.dev/promote'] === undefined);

    // Argo would re-promote interest at once if its abort were cleared: a retry is refused, Git is the way on.
    await kube.annotateGroup(ns, 'loans', { 'tandem.dev/retry': release.id });
    await s.waitGroup('retry removed', (g) => g.metadata.annotations?.['tandem.dev/retry'] === undefined);
    await waitFor('RetryRefused event', async () => (await kube.events(ns, 'loans')).some((e) => e.type === 'Warning' && e.reason === 'RetryRefused'));
    expect((await kube.group(ns, 'loans')).status!.phase).toBe('Degraded');

    // Fixing it in Git starts a new release, gated as usual, and this time it completes.
    verdict.set(true);
    await kube.setImage(ns, 'interest', 'ghcr.io/acme/interest:2.1');
    await kube.setImage(ns, 'loan', 'ghcr.io/acme/loan:2.1');
    // The two images land one after the other: the release to promote is the one with both.
    const next = await s.waitGroup('new release of both ready', (g) => g.status?.phase === 'Paused' && g.status.release?.id !== release.id && g.status.release?.targets.length === 2, 180_000);
    await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': next.status!.release!.id });
    await s.waitGroup('Healthy after the new release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
    for (const m of ['interest', 'loan']) {
      const r = await kube.rollout(ns, m);
      expect(r.status!['stableRS'], m).toBe(next.status!.release!.targets.find((t) => t.rollout === m)!.revision);
      expect(r.spec.template.spec.containers[0].image).toBe(`ghcr.io/acme/${m}:2.1`);
    }
    const reasons = (await kube.events(ns, 'loans')).map((e) => e.reason);
    for (const r of ['ReleaseAborted', 'ReleaseRolledBack', 'PromoteRefused', 'RetryRefused', 'ReleaseCompleted']) expect(reasons).toContain(r);
  });
});
