/** DESIGN §4 Ordered: one member at a time, each gated, promoted and completed before the next. */
import { afterEach, describe, expect, it } from 'vitest';
import { addressKey, blueGreenApp, groupManifest } from './support/apps.ts';
import { stableChanges } from './support/invariants.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario, serviceUrl } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

describe('Ordered', () => {
  it('DependenciesFirst promotes the backend, completes it, then the frontend; previews talk to the live backend', async () => {
    s = await Scenario.create('ordered', 'shop', ['api', 'web']);
    const { kube, ns } = s;
    await kube.apply(ns, blueGreenApp('api', '1.0'));
    await kube.apply(ns, blueGreenApp('web', '1.0'));
    await kube.apply(ns, groupManifest('shop', [{ rollout: 'api' }, { rollout: 'web', dependsOn: ['api'] }], '  strategy: Ordered\n  order: DependenciesFirst\n'));
    s.startController();
    await s.waitSteady();
    const api1 = (await kube.rollout(ns, 'api')).status!['stableRS'] as string;
    const web1 = (await kube.rollout(ns, 'web')).status!['stableRS'] as string;

    const recorder = await Recorder.start(kube, ns);
    try {
      for (const m of ['api', 'web']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      const first = await s.waitGroup('Paused at api', (g) => g.status?.phase === 'Paused' && g.status.message?.includes('(api, stage 1/2)') === true);
      const id = first.status!.release!.id;
      const webPreview = (await kube.rollout(ns, 'web')).status!['currentPodHash'] as string;
      await waitFor('web preview pods wired to api-active', async () => {
        const pods = await s!.podAnnotations('web', webPreview);
        return pods.length > 0 && pods.every((a) => a[addressKey('api')] === serviceUrl('api-active', ns));
      }, { dump: s.dump });

      await kube.annotateGroup(ns, 'shop', { 'tandem.dev/promote': id });
      const second = await s.waitGroup('Paused at web', (g) => g.status?.phase === 'Paused' && g.status.message?.includes('(web, stage 2/2)') === true);
      expect(second.status!.release!.id).toBe(id);
      const api = await kube.rollout(ns, 'api');
      expect(api.status!['stableRS']).not.toBe(api1);
      expect(api.status!['stableRS']).toBe(api.status!['currentPodHash']);
      expect((await kube.rollout(ns, 'web')).status!['stableRS']).toBe(web1);

      await kube.annotateGroup(ns, 'shop', { 'tandem.dev/promote': id });
      await s.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
    } finally {
      await recorder.stop();
    }
    const changes = stableChanges(recorder);
    expect(changes.map((c) => c.rollout)).toEqual(['api', 'web']);
    const web = await kube.rollout(ns, 'web');
    expect(web.status!['stableRS']).toBe(web.status!['currentPodHash']);
    expect(web.status!['stableRS']).not.toBe(web1);
  });
});
