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

  it('an aborted member is failed, not ready', () => {
    const { view, replicaSets } = blueGreen({ name: 'web', stable: 'a', desired: 'b', abort: true });
    expect(readMember(view.rollout, replicaSets)).toMatchObject({ failed: true, aborted: true, ready: false });
  });
});
