/**
 * The real Argo Rollouts behaviour Tandem relies on (DESIGN §2–§3), shown without Tandem:
 * a blue-green release pauses with its preview ready, ephemeral metadata changes pods in place
 * without a new revision, a /status patch promotes, and the old ReplicaSet loses its metadata.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { blueGreenApp } from './support/apps.ts';
import { TestKube } from './support/kube.ts';
import { waitFor } from './support/wait.ts';

const kube = new TestKube(inject('kubeconfig'));
let ns: string;

beforeAll(async () => {
  ns = await kube.namespace('argo');
});
afterAll(async () => {
  await kube.deleteNamespace(ns);
});

const podsOf = async (hash: string) =>
  (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: `app=web,rollouts-pod-template-hash=${hash}` })).items;
const allReady = (pods: Awaited<ReturnType<typeof podsOf>>) =>
  pods.length > 0 && pods.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

describe('Argo Rollouts blue-green on the local control plane', () => {
  it('releases, pauses, takes metadata in place, promotes through /status, and strips the old ReplicaSet', async () => {
    const dump = () => kube.describe(ns, 'none', ['web']);
    await kube.apply(ns, blueGreenApp('web', '1.0'));
    const first = await waitFor('web Healthy on 1.0', async () => {
      const r = await kube.rollout(ns, 'web');
      return r.status?.['phase'] === 'Healthy' && r.status['observedGeneration'] === String(r.metadata.generation) ? r : undefined;
    }, { dump });
    const stable = first.status!['stableRS'] as string;
    expect(first.status!['currentPodHash']).toBe(stable);
    expect(allReady(await podsOf(stable))).toBe(true);

    await kube.setImage(ns, 'web', 'ghcr.io/acme/web:2.0');
    const paused = await waitFor('web Paused with BlueGreenPause', async () => {
      const r = await kube.rollout(ns, 'web');
      const s = r.status ?? {};
      return s['phase'] === 'Paused' && (s['pauseConditions'] ?? []).some((p: { reason: string }) => p.reason === 'BlueGreenPause') ? r : undefined;
    }, { dump });
    const s = paused.status!;
    const next = s['currentPodHash'] as string;
    // DESIGN §2 "ready": observed, changed, paused at BlueGreenPause, preview selects the new revision.
    expect(s['observedGeneration']).toBe(String(paused.metadata.generation));
    expect(next).not.toBe(stable);
    expect(s['stableRS']).toBe(stable);
    expect(s['controllerPause']).toBe(true);
    expect(s['blueGreen']).toMatchObject({ previewSelector: next, activeSelector: stable });
    expect(allReady(await podsOf(next))).toBe(true);

    // Ephemeral metadata reaches running pods in place: no new revision, same pods.
    const before = (await podsOf(next)).map((p) => p.metadata!.uid).sort();
    await kube.patchRollout(ns, 'web', {
      spec: { strategy: { blueGreen: { previewMetadata: { annotations: { 'example.com/role': 'preview' } }, activeMetadata: { annotations: { 'example.com/role': 'active' } } } } },
    });
    await waitFor('preview pods annotated in place', async () => {
      const pods = await podsOf(next);
      return pods.length > 0 && pods.every((p) => p.metadata!.annotations?.['example.com/role'] === 'preview');
    }, { dump });
    await waitFor('active pods annotated in place', async () => (await podsOf(stable)).every((p) => p.metadata!.annotations?.['example.com/role'] === 'active'), { dump });
    expect((await podsOf(next)).map((p) => p.metadata!.uid).sort()).toEqual(before);
    const afterMetadata = await kube.rollout(ns, 'web');
    expect(afterMetadata.status!['currentPodHash']).toBe(next);
    expect(afterMetadata.status!['pauseConditions']).toHaveLength(1);

    // Promote exactly as `kubectl argo rollouts promote` does.
    await kube.patchRolloutStatus(ns, 'web', { pauseConditions: null });
    const done = await waitFor('web Healthy on 2.0', async () => {
      const r = await kube.rollout(ns, 'web');
      return r.status?.['phase'] === 'Healthy' && r.status['stableRS'] === next ? r : undefined;
    }, { dump });
    expect(done.status!['blueGreen']).toMatchObject({ activeSelector: next, previewSelector: next });
    await waitFor('new pods carry active metadata', async () => (await podsOf(next)).every((p) => p.metadata!.annotations?.['example.com/role'] === 'active'), { dump });
    // The outgoing ReplicaSet's pods lose injected metadata at once, while they still run.
    await waitFor('old pods stripped of injected metadata', async () => {
      const pods = await podsOf(stable);
      return pods.length > 0 && pods.every((p) => p.metadata!.annotations?.['example.com/role'] === undefined);
    }, { dump });
  });

  it('an abort through /status drops the pause and keeps the stable revision active', async () => {
    const dump = () => kube.describe(ns, 'none', ['web']);
    const start = await kube.rollout(ns, 'web');
    const stable = start.status!['stableRS'];
    await kube.setImage(ns, 'web', 'ghcr.io/acme/web:3.0');
    await waitFor('web Paused', async () => (await kube.rollout(ns, 'web')).status?.['phase'] === 'Paused', { dump });
    await kube.patchRolloutStatus(ns, 'web', { abort: true });
    const aborted = await waitFor('web Degraded after abort', async () => {
      const r = await kube.rollout(ns, 'web');
      return r.status?.['phase'] === 'Degraded' ? r : undefined;
    }, { dump });
    expect(aborted.status!['abort']).toBe(true);
    expect(aborted.status!['stableRS']).toBe(stable);
    expect(aborted.status!['blueGreen']['activeSelector']).toBe(stable);
    expect(aborted.status!['pauseConditions'] ?? []).toEqual([]);
    expect(aborted.status!['controllerPause'] ?? false).toBe(false);
  });
});
