/** DESIGN §4 canary paragraph: a Lockstep canary release advances barrier by barrier on the real stack. */
import { afterEach, describe, expect, it } from 'vitest';
import { addressKey, canaryApp, groupManifest } from './support/apps.ts';
import { firstAtStep, matchedVersionViolations, previewMatchedViolations, stableChanges } from './support/invariants.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario, serviceUrl } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

describe('Lockstep canary', () => {
  it('moves web and api barrier by barrier (setWeight 25, pause, setWeight 75, pause), web first, versions matched', async () => {
    s = await Scenario.create('canary', 'shop', ['api', 'web']);
    const { kube, ns } = s;
    await kube.apply(ns, canaryApp('api', '1.0'));
    await kube.apply(ns, canaryApp('web', '1.0'));
    await kube.apply(ns, groupManifest('shop', [{ rollout: 'api' }, { rollout: 'web', dependsOn: ['api'] }]));
    s.startController();
    await s.waitSteady();
    const web1 = (await kube.rollout(ns, 'web')).status!['stableRS'] as string;
    await waitFor('web stable pods wired to api-stable', async () => {
      const pods = await s!.podAnnotations('web', web1);
      return pods.length > 0 && pods.every((a) => a[addressKey('api')] === serviceUrl('api-stable', ns));
    }, { dump: s.dump });

    const recorder = await Recorder.start(kube, ns);
    let releaseId: string;
    try {
      for (const m of ['api', 'web']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      const first = await s.waitGroup('Paused at barrier 1/2', (g) => g.status?.phase === 'Paused' && g.status.message?.includes('(barrier 1/2)') === true);
      releaseId = first.status!.release!.id;
      expect(first.status!.release!.stages).toBe(2);
      for (const m of ['api', 'web']) expect((await kube.rollout(ns, m)).status!['currentStepIndex'], m).toBe(1);
      const webCanary = (await kube.rollout(ns, 'web')).status!['currentPodHash'] as string;
      await waitFor('web canary pods wired to api-canary', async () => {
        const pods = await s!.podAnnotations('web', webCanary);
        return pods.length > 0 && pods.every((a) => a[addressKey('api')] === serviceUrl('api-canary', ns));
      }, { dump: s.dump });

      await kube.annotateGroup(ns, 'shop', { 'tandem.dev/promote': releaseId });
      const second = await s.waitGroup('Paused at barrier 2/2', (g) => g.status?.phase === 'Paused' && g.status.message?.includes('(barrier 2/2)') === true);
      expect(second.status!.release).toMatchObject({ id: releaseId, stage: 1 });
      for (const m of ['api', 'web']) {
        const r = await kube.rollout(ns, m);
        expect(r.status!['currentStepIndex'], m).toBe(3);
        expect(r.status!['stableRS'], `${m} not promoted before the last barrier`).not.toBe(r.status!['currentPodHash']);
      }

      // This time the request names the gate, as `kubectl rolloutgroup promote` does for several stages.
      await kube.annotateGroup(ns, 'shop', { 'tandem.dev/promote': `${releaseId}/2` });
      await s.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
      for (const m of ['api', 'web']) {
        const r = await kube.rollout(ns, m);
        expect(r.status!['stableRS'], m).toBe(r.status!['currentPodHash']);
        expect(r.spec.template.spec.containers[0].image).toBe(`ghcr.io/acme/${m}:2.0`);
      }
      const web2 = (await kube.rollout(ns, 'web')).status!['stableRS'] as string;
      await waitFor('web stable pods wired to api-stable again', async () => {
        const pods = await s!.podAnnotations('web', web2);
        return pods.length > 0 && pods.every((a) => a[addressKey('api')] === serviceUrl('api-stable', ns));
      }, { dump: s.dump });
      await recorder.caughtUp();
    } finally {
      await recorder.stop();
    }

    expect(matchedVersionViolations(recorder, [{ dependent: 'web', dependency: 'api', annotation: addressKey('api') }])).toEqual([]);
    // No new web pod behind web-canary ever had an address leading to old api (the preview window):
    // web's canary pods get api-canary's address only once it serves new api (preview-hold.ts).
    expect(previewMatchedViolations(recorder, [{ dependent: 'web', dependency: 'api', annotation: addressKey('api') }])).toEqual([]);
    // Dependents first at each barrier: web left barrier 1 (step 1) and completed before api did.
    const passedFirst = firstAtStep(recorder, 2);
    expect(passedFirst.get('web')).toBeLessThan(passedFirst.get('api')!);
    expect(stableChanges(recorder).map((c) => c.rollout)).toEqual(['web', 'api']);
    const reasons = (await kube.events(ns, 'shop')).map((e) => e.reason);
    expect(reasons.filter((r) => r === 'PromotionStarted')).toHaveLength(2);
    expect(reasons.filter((r) => r === 'MemberPromoted')).toHaveLength(4);
  });

  it('an abort request aborts both canaries; a retry starts them again from the first barrier and the release completes', async () => {
    s = await Scenario.create('canretry', 'shop', ['api', 'web']);
    const { kube, ns } = s;
    await kube.apply(ns, canaryApp('api', '1.0', [50]));
    await kube.apply(ns, canaryApp('web', '1.0', [50]));
    await kube.apply(ns, groupManifest('shop', [{ rollout: 'api' }, { rollout: 'web', dependsOn: ['api'] }]));
    s.startController();
    await s.waitSteady();
    for (const m of ['api', 'web']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
    const paused = await s.waitPhase('Paused');
    const id = paused.status!.release!.id;
    await kube.annotateGroup(ns, 'shop', { 'tandem.dev/abort': 'wrong config' });
    await s.waitGroup('aborted', (g) => g.status?.phase === 'Degraded' && (g.status.members ?? []).every((m) => m.state === 'Failed'));
    for (const m of ['api', 'web']) expect((await kube.rollout(ns, m)).status!['abort'], m).toBe(true);

    await kube.annotateGroup(ns, 'shop', { 'tandem.dev/retry': id });
    const again = await s.waitGroup('retried, at the first barrier', (g) => g.status?.phase === 'Paused' && g.status.release?.retries === 1, 120_000);
    expect(again.status!.release!.id).toBe(id);
    for (const m of ['api', 'web']) {
      const r = await kube.rollout(ns, m);
      expect(r.status!['currentStepIndex'], m).toBe(1);
      expect(r.status!['stableRS'], m).not.toBe(r.status!['currentPodHash']);
    }
    await kube.annotateGroup(ns, 'shop', { 'tandem.dev/promote': id });
    await s.waitGroup('Healthy after the retried release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
    for (const t of again.status!.release!.targets) expect((await kube.rollout(ns, t.rollout)).status!['stableRS']).toBe(t.revision);
  });
});
