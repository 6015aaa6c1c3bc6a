/** Rollback after a partial cutover, and retry and abort requests (DESIGN §4.6, §6). */
import { describe, expect, it } from 'vitest';
import { REQUEST } from '../../../src/api/rolloutgroup.ts';
import { plan } from '../../../src/planner/plan.ts';
import { T0, blueGreen, group, observed, podTemplate, url, type BlueGreenState, type GroupInput, INTEREST_KEY, loanDependsOnInterest, loanInterestRelease, type ReleaseInput, type StatusInput } from '../../fixtures/builders.ts';

const KEY = INTEREST_KEY;
const members = loanDependsOnInterest;
const loanWiring = {
  previewMetadata: { [KEY]: url('interest-preview') },
  activeMetadata: { [KEY]: url('interest-active') },
  owned: { previewMetadata: [KEY], activeMetadata: [KEY] },
};
const id = loanInterestRelease;
const iso = new Date(T0).toISOString();

const aborted = (extra: ReleaseInput = {}): StatusInput => ({
  phase: 'Degraded',
  members: [],
  conditions: [],
  release: {
    id,
    targets: [
      { rollout: 'interest', revision: 'i2', from: 'i1' },
      { rollout: 'loan', revision: 'l2', from: 'l1' },
    ],
    startedAt: iso,
    readyAt: iso,
    promotedAt: iso,
    promotedMembers: ['loan'],
    abortedAt: iso,
    abortReason: 'member interest failed (RolloutAborted: metric "ok" assessed Failed)',
    ...extra,
  },
});

function run(g: Partial<GroupInput>, interest: Partial<BlueGreenState>, loan: Partial<BlueGreenState>) {
  const l = blueGreen({ name: 'loan', stable: 'l1', ...loanWiring, ...loan });
  // The old ReplicaSet is still up (scaleDownDelaySeconds) whatever the loan Rollout now says.
  const keep = blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...loanWiring });
  const replicaSets = [...l.replicaSets, ...keep.replicaSets.filter((rs) => !l.replicaSets.some((x) => x.metadata.name === rs.metadata.name))];
  return plan(observed(group({ members, ...g }), [blueGreen({ name: 'interest', stable: 'i1', ...interest }), { ...l, replicaSets }]));
}
const liveLoan = { stable: 'l2', desired: 'l2', activeSwitched: true };

describe('rollback after a partial cutover (Lockstep)', () => {
  it('a member failing after another went live: records the rollback first, touching no template yet', () => {
    const status = aborted({ abortedAt: undefined, abortReason: undefined });
    const p = run({ status }, { desired: 'i2', abort: true }, liveLoan);
    expect(p.status?.release?.rolledBack).toEqual(['loan']);
    expect(p.actions.some((a) => a.kind === 'RestoreTemplate')).toBe(false);
    expect(p.status?.conditions.find((c) => c.type === 'Ready')?.reason).toBe('ReleaseRolledBack');
    expect(p.events.map((e) => [e.type, e.reason])).toEqual([
      ['Warning', 'ReleaseAborted'],
      ['Warning', 'ReleaseRolledBack'],
    ]);
  });

  it('then pins the previous pods to interest’s active side: back live, Argo gives them their preview metadata until it calls them stable', () => {
    const p = run({ status: aborted({ rolledBack: ['loan'] }) }, { desired: 'i2', abort: true }, liveLoan);
    expect(p.actions).toEqual([{ kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l1', revision: 'l1', annotations: { [`pin.${KEY}`]: url('interest-active') }, podsOnly: true }]);
    expect(p.status?.release?.pinned).toEqual(['loan@l1']);
  });

  it('then restores the previous template, as Argo’s undo does, without the metadata Argo injected', () => {
    const p = run({ status: aborted({ rolledBack: ['loan'], pinned: ['loan@l1'] }) }, { desired: 'i2', abort: true }, liveLoan);
    const restore = p.actions.find((a) => a.kind === 'RestoreTemplate');
    expect(restore).toEqual({ kind: 'RestoreTemplate', rollout: 'loan', resourceVersion: 'rv-loan-l2', revision: 'l1', template: podTemplate('loan', 'l1') });
    expect(p.status?.phase).toBe('Degraded');
    expect(p.status?.message).toContain('rolling back loan; Git still declares the new revisions');
  });

  it('is done once the member is stable on its previous revision, and stays Degraded', () => {
    const p = run({ status: aborted({ rolledBack: ['loan'] }) }, { desired: 'i2', abort: true }, { stable: 'l1', desired: 'l1' });
    expect(p.actions).toEqual([]);
    expect(p.events).toEqual([]);
    expect(p.status?.release?.id).toBe(id);
    expect(p.status?.members.find((m) => m.rollout === 'loan')?.state).toBe('RolledBack');
    expect(p.status?.message).toContain('rolled back loan');
  });

  it('keeps the previous pods’ pin after Argo calls them stable until it has given them the active metadata the pin holds', () => {
    const status = aborted({ rolledBack: ['loan'], restored: ['loan'], pinned: ['loan@l1'] });
    const stableLoan = { stable: 'l1', desired: 'l1' };
    const interest = blueGreen({ name: 'interest', stable: 'i1', desired: 'i2', abort: true });
    const lagging = blueGreen({ name: 'loan', ...loanWiring, ...stableLoan });
    // Argo writes the active metadata a reconcile after stableRS: the ReplicaSet still says preview.
    const [rs] = lagging.replicaSets;
    const preview = { ...rs!, metadata: { ...rs!.metadata, annotations: { 'rollout.argoproj.io/ephemeral-metadata': JSON.stringify({ annotations: { [KEY]: url('interest-preview') } }) } } };
    const kept = plan(observed(group({ members, status }), [interest, { ...lagging, replicaSets: [preview] }]));
    expect(kept.actions).toEqual([]);
    expect(kept.status?.release?.pinned).toEqual(['loan@l1']);

    const settled = plan(observed(group({ members, status }), [interest, blueGreen({ name: 'loan', ...loanWiring, ...stableLoan })]));
    // Argo updates the pods a moment after their ReplicaSet: the pin hands its address over to Argo's key, on the pods alone.
    expect(settled.actions).toEqual([{ kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l1', revision: 'l1', annotations: { [`pin.${KEY}`]: null, [KEY]: url('interest-active') }, podsOnly: true }]);
    expect(settled.status?.release?.pinned).toBeUndefined();
  });

  it('promotes the previous revision when Argo did not fast-track it (old ReplicaSet already gone)', () => {
    const p = run({ status: aborted({ rolledBack: ['loan'] }) }, { desired: 'i2', abort: true }, { stable: 'l2', desired: 'l1' });
    expect(p.actions).toContainEqual({ kind: 'Promote', rollout: 'loan', resourceVersion: 'rv-loan-l1' });
  });

  it('says so when the previous ReplicaSet is gone', () => {
    const status = aborted({ rolledBack: ['loan'] });
    (status.release as { targets: unknown[] }).targets[1] = { rollout: 'loan', revision: 'l2', from: 'l0' };
    const p = run({ status }, { desired: 'i2', abort: true }, liveLoan);
    expect(p.actions.some((a) => a.kind === 'RestoreTemplate')).toBe(false);
    expect(p.status?.message).toContain('cannot roll back loan');
    expect(p.status?.members.find((m) => m.rollout === 'loan')?.state).toBe('Failed');
  });

  it('does not fight a rolled-back member put back on the new revision (Argo CD self-heal): Degraded, no second rollback', () => {
    const status = aborted({ rolledBack: ['loan'], restored: ['loan'] });
    const p = run({ status }, { desired: 'i2', abort: true }, liveLoan);
    expect(p.actions.filter((a) => a.kind !== 'ApplyMetadata')).toEqual([]);
    expect(p.status?.release?.id).toBe(id);
    expect(p.status?.phase).toBe('Degraded');
    expect(p.status?.message).toContain('loan put back on the new revision after the rollback');
  });

  it('records a member as restored once Argo has it stable on its previous revision', () => {
    const p = run({ status: aborted({ rolledBack: ['loan'] }) }, { desired: 'i2', abort: true }, { stable: 'l1', desired: 'l1' });
    expect(p.status?.release?.restored).toEqual(['loan']);
  });

  it('Ordered groups leave earlier members where they are', () => {
    const status = aborted({ abortedAt: undefined, abortReason: undefined, promotedMembers: [], stage: 1 });
    const p = run({ status, strategy: 'Ordered' }, { stable: 'i2', desired: 'i2', activeSwitched: true }, { desired: 'l2', abort: true });
    expect(p.status?.release?.rolledBack).toBeUndefined();
    expect(p.status?.message).toContain('interest already promoted and left on the new revision');
  });
});

describe('retry requests', () => {
  it('are refused for blue-green members: Argo would switch them live at once', () => {
    const status = aborted({ promotedAt: undefined, promotedMembers: [], abortReason: 'abort requested: bad data' });
    const p = run({ status, annotations: { [REQUEST.retry]: id } }, { desired: 'i2', abort: true }, { desired: 'l2', abort: true });
    expect(p.actions.filter((a) => a.kind !== 'ApplyMetadata')).toEqual([]);
    expect(p.handledRequests).toEqual([{ annotation: REQUEST.retry, value: id }]);
    expect(p.events).toEqual([expect.objectContaining({ reason: 'RetryRefused', message: expect.stringContaining('would switch interest, loan live at once') })]);
    expect(p.status?.phase).toBe('Degraded');
  });

  it('are refused for a release that failed during its cutover: Argo would switch members again without a gate', () => {
    const p = run({ status: aborted({ rolledBack: ['loan'] }), annotations: { [REQUEST.retry]: id } }, { desired: 'i2', abort: true }, { stable: 'l1', desired: 'l1' });
    expect(p.actions).toEqual([]);
    expect(p.handledRequests).toEqual([{ annotation: REQUEST.retry, value: id }]);
    expect(p.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'RetryRefused', message: expect.stringContaining('failed during its cutover') })]);
    expect(p.status?.release?.abortedAt).toBe(iso);
  });

  it('keeps the failure in its message while Argo has yet to observe the abort', () => {
    const interest = blueGreen({ name: 'interest', stable: 'i1', desired: 'i2', generation: 2, observedGeneration: 1 });
    const p = plan(observed(group({ members, status: aborted() }), [interest, blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...loanWiring })]));
    expect(p.status?.phase).toBe('Degraded');
    expect(p.status?.message).toBe(`release ${id} aborted: ${aborted().release!.abortReason}; waiting for Argo Rollouts to observe interest`);
  });

  it('after a retry, waits while Argo has yet to act on abort:false', () => {
    const status = aborted({ abortedAt: undefined, abortReason: undefined, promotedAt: undefined, promotedMembers: [], retries: 1 });
    const interest = blueGreen({ name: 'interest', stable: 'i1', desired: 'i2', phase: 'Degraded' });
    (interest.view.rollout.status as { message?: string }).message = 'RolloutAborted: Rollout aborted update to revision 2';
    const p = plan(observed(group({ members, status }), [interest, blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...loanWiring })]));
    expect(p.actions).toEqual([]);
    expect(p.status?.message).toBe('waiting for Argo Rollouts to observe interest');
  });

  it('are refused for another release, or when nothing was aborted', () => {
    const other = run({ status: aborted(), annotations: { [REQUEST.retry]: 'feedbeef00' } }, { desired: 'i2', abort: true }, { desired: 'l2', abort: true });
    expect(other.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'RetryRefused' }));
    expect(other.handledRequests).toEqual([{ annotation: REQUEST.retry, value: 'feedbeef00' }]);
    expect(other.actions.some((a) => a.kind === 'Retry')).toBe(false);
    const running = run({ status: aborted({ abortedAt: undefined, abortReason: undefined }), annotations: { [REQUEST.retry]: id } }, { desired: 'i2' }, { desired: 'l2' });
    expect(running.events).toContainEqual(expect.objectContaining({ reason: 'RetryRefused', message: expect.stringContaining('is not aborted') }));
    const steady = run({ annotations: { [REQUEST.retry]: id } }, {}, {});
    expect(steady.events).toContainEqual(expect.objectContaining({ reason: 'RetryRefused', message: expect.stringContaining('no release is in flight') }));
  });
});
