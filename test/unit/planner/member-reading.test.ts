import { describe, expect, it } from 'vitest';
import { readMember } from '../../../src/planner/member-reading.ts';
import { blueGreen } from '../../fixtures/builders.ts';

describe('readMember', () => {
  it('a paused member with its preview available is ready', () => {
    const { view, replicaSets } = blueGreen({ name: 'web', stable: 'a', desired: 'b' });
    expect(readMember(view.rollout, replicaSets)).toMatchObject({ trusted: true, changed: true, ready: true, atGate: true, promoted: false });
  });

  it('without a preview Service (Argo leaves previewSelector empty) readiness comes from the ReplicaSet', () => {
    const { view, replicaSets } = blueGreen({ name: 'web', stable: 'a', desired: 'b' });
    delete view.rollout.spec.strategy.blueGreen!.previewService;
    view.rollout.status.blueGreen!.previewSelector = '';
    expect(readMember(view.rollout, replicaSets).ready).toBe(true);
  });

  it('with a preview Service that does not select the new revision yet, it is not ready', () => {
    const { view, replicaSets } = blueGreen({ name: 'web', stable: 'a', desired: 'b' });
    view.rollout.status.blueGreen!.previewSelector = 'a';
    expect(readMember(view.rollout, replicaSets).ready).toBe(false);
  });

  it('is not trusted while Argo has not observed the generation, or while it unpauses', () => {
    expect(readMember(blueGreen({ name: 'web', stable: 'a', generation: 3, observedGeneration: 2 }).view.rollout, []).trusted).toBe(false);
    const unpausing = blueGreen({ name: 'web', stable: 'a', desired: 'b', unpausing: true });
    expect(readMember(unpausing.view.rollout, unpausing.replicaSets)).toMatchObject({ trusted: false, unpausing: true });
  });

  it('stays ready while the ReplicaSet controller has yet to observe a write to its template’s metadata (a pin), but not a scale it has yet to observe', () => {
    const { view, replicaSets } = blueGreen({ name: 'web', stable: 'a', desired: 'b' });
    const ahead = (rs: (typeof replicaSets)[number], spec: number, counted: number, available: number) =>
      replicaSets.map((r) => (r === rs ? { ...rs, metadata: { ...rs.metadata, generation: 2 }, spec: { ...rs.spec, replicas: spec }, status: { observedGeneration: 1, replicas: counted, availableReplicas: available } } : r));
    const own = replicaSets.find((r) => r.metadata.name === 'web-b')!;
    const n = own.spec.replicas;
    expect(own.status).toEqual({ observedGeneration: 1, replicas: n, availableReplicas: n });
    // Pinned: generation 2, the status still of generation 1, counting the replicas asked for.
    expect(readMember(view.rollout, ahead(own, n, n, n)).ready).toBe(true);
    // Scaled up (or down) and not yet observed: the status counts another number of replicas.
    expect(readMember(view.rollout, ahead(own, n + 1, n, n)).ready).toBe(false);
    expect(readMember(view.rollout, ahead(own, n - 1, n, n)).ready).toBe(false);
    expect(readMember(view.rollout, ahead(own, n, n, n - 1)).ready).toBe(false);
  });

  it('an aborted member is failed, not ready', () => {
    const { view, replicaSets } = blueGreen({ name: 'web', stable: 'a', desired: 'b', abort: true });
    expect(readMember(view.rollout, replicaSets)).toMatchObject({ failed: true, aborted: true, ready: false });
  });
});
