/** Lockstep canary barriers and Ordered groups (DESIGN §4). */
import { describe, expect, it } from 'vitest';
import { REQUEST, } from '../../../src/api/rolloutgroup.ts';
import { plan } from '../../../src/planner/plan.ts';
import { T0, blueGreen, canary, group, observed, url, type CanaryState, type GroupInput, INTEREST_KEY, loanDependsOnInterest, loanInterestRelease, type ReleaseInput, type StatusInput } from '../../fixtures/builders.ts';

const KEY = INTEREST_KEY;
const members = loanDependsOnInterest;
const wiredLoan = {
  canaryMetadata: { [KEY]: url('interest-canary') },
  stableMetadata: { [KEY]: url('interest-stable') },
  owned: { canaryMetadata: [KEY], stableMetadata: [KEY] },
};
const id = loanInterestRelease;
const iso = (t = T0) => new Date(t).toISOString();

function run(g: Partial<GroupInput>, interest: Partial<CanaryState>, loan: Partial<CanaryState>, now = T0) {
  return plan(
    observed(group({ members, ...g }), [canary({ name: 'interest', stable: 'i1', ...interest }), canary({ name: 'loan', stable: 'l1', ...wiredLoan, ...loan })], { now }),
  );
}

const inFlight = (extra: ReleaseInput = {}): StatusInput => ({
  phase: 'Progressing',
  members: [],
  conditions: [],
  release: {
    id,
    targets: [
      { rollout: 'interest', revision: 'i2', from: 'i1' },
      { rollout: 'loan', revision: 'l2', from: 'l1' },
    ],
    startedAt: iso(),
    promotedMembers: [],
    ...extra,
  },
});
const opened = (extra: ReleaseInput = {}) => inFlight({ readyAt: iso(), firstReadyAt: iso(), promotedAt: iso(), ...extra });
const kinds = (p: ReturnType<typeof plan>) => p.actions.map((a) => `${a.kind}:${'rollout' in a ? a.rollout : ''}`);

describe('Lockstep canary, barrier by barrier', () => {
  it('wires stable pods to the dependency’s stable Service; canary pods get no address outside a release (preview-hold.ts)', () => {
    const p = run({}, {}, { canaryMetadata: undefined, stableMetadata: undefined, owned: {} });
    expect(p.actions).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'canary', metadata: { stableMetadata: { [KEY]: url('interest-stable') } } }]);
  });

  it('waits at the first barrier until every changed member is paused there', () => {
    const p = run({}, { desired: 'i2', atBarrier: 0 }, { desired: 'l2', stepIndex: 0 });
    expect(p.status?.phase).toBe('Progressing');
    expect(p.status?.release).toMatchObject({ id, stages: 2 });
    expect(p.status?.release?.stage).toBe(0);
    expect(p.status?.message).toBe(`release ${id} (barrier 1/2): 1/2 members ready; waiting for loan`);
    expect(kinds(p)).toEqual([]);
  });

  it('gates each barrier: Paused until a promote request for this release', () => {
    const p = run({ status: inFlight() }, { desired: 'i2', atBarrier: 0 }, { desired: 'l2', atBarrier: 0 });
    expect(p.status?.phase).toBe('Paused');
    expect(p.status?.message).toBe(`release ${id} (barrier 1/2) ready: 2/2 members; waiting for promote`);
    const q = run({ status: inFlight(), annotations: { [REQUEST.promote]: id } }, { desired: 'i2', atBarrier: 0 }, { desired: 'l2', atBarrier: 0 });
    expect(q.status?.phase).toBe('Promoting');
    expect(q.status?.release?.promotedAt).toBe(iso());
    expect(kinds(q)).toEqual([]);
  });

  it('resumes the dependent first at an intermediate barrier, without repointing it', () => {
    const p = run({ status: opened() }, { desired: 'i2', atBarrier: 0 }, { desired: 'l2', atBarrier: 0 });
    expect(p.actions).toEqual([{ kind: 'Promote', rollout: 'loan', resourceVersion: 'rv-loan-l2-1' }]);
  });

  it('takes a promote request naming a stage only at that stage’s gate; refuses a passed or unknown stage', () => {
    const atFirst = { status: inFlight({ stages: 2 }) };
    const later = run({ ...atFirst, annotations: { [REQUEST.promote]: `${id}/2` } }, { desired: 'i2', atBarrier: 0 }, { desired: 'l2', atBarrier: 0 });
    expect(later.status?.phase).toBe('Paused');
    expect(later.handledRequests).toEqual([]);
    const now = run({ status: inFlight({ stage: 1, stages: 2 }), annotations: { [REQUEST.promote]: `${id}/2` } }, { desired: 'i2', atBarrier: 1 }, { desired: 'l2', atBarrier: 1 });
    expect(now.status?.phase).toBe('Promoting');
    expect(now.handledRequests).toEqual([{ annotation: REQUEST.promote, value: `${id}/2` }]);
    for (const value of [`${id}/1`, `${id}/3`, `${id}/x`]) {
      const p = run({ status: inFlight({ stage: 1, stages: 2 }), annotations: { [REQUEST.promote]: value } }, { desired: 'i2', atBarrier: 1 }, { desired: 'l2', atBarrier: 1 });
      expect(p.status?.phase, value).toBe('Paused');
      expect(p.events.map((e) => e.reason), value).toEqual(['ReleaseReady', 'PromoteRefused']);
      expect(p.handledRequests, value).toEqual([{ annotation: REQUEST.promote, value }]);
    }
  });

  it('spends a promote request seen while a barrier is already open: it never opens the next one by itself', () => {
    const p = run({ status: opened(), annotations: { [REQUEST.promote]: id } }, { desired: 'i2', atBarrier: 0 }, { desired: 'l2', stepIndex: 2 });
    expect(p.handledRequests).toEqual([{ annotation: REQUEST.promote, value: id }]);
  });

  it('resumes the dependency once the dependent has moved past the barrier', () => {
    const p = run({ status: opened() }, { desired: 'i2', atBarrier: 0 }, { desired: 'l2', stepIndex: 2 });
    expect(p.status?.release?.promotedMembers).toEqual(['loan']);
    expect(kinds(p)).toEqual([]);
    const q = run({ status: opened({ promotedMembers: ['loan'] }) }, { desired: 'i2', atBarrier: 0 }, { desired: 'l2', stepIndex: 2 });
    expect(q.actions).toEqual([{ kind: 'Promote', rollout: 'interest', resourceVersion: 'rv-interest-i2-1' }]);
  });

  it('moves to the next barrier once every member passed, with a fresh gate and deadline', () => {
    const p = run({ status: opened({ promotedMembers: ['loan'] }) }, { desired: 'i2', stepIndex: 2 }, { desired: 'l2', stepIndex: 2 }, T0 + 5_000);
    expect(p.status?.release).toMatchObject({ stage: 1, stages: 2, promotedMembers: [], stageStartedAt: iso(T0 + 5_000) });
    expect(p.status?.release?.promotedAt).toBeUndefined();
    expect(p.status?.release?.readyAt).toBeUndefined();
    expect(p.status?.phase).toBe('Progressing');
  });

  it('at the last barrier pins the dependent’s new pods to the dependency’s canary before resuming it', () => {
    const p = run({ status: opened({ stage: 1 }) }, { desired: 'i2', atBarrier: 1 }, { desired: 'l2', atBarrier: 1 });
    expect(p.actions).toEqual([{ kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [`pin.${KEY}`]: url('interest-canary') } }]);
    const q = run({ status: opened({ stage: 1, pinned: ['loan@l2'] }) }, { desired: 'i2', atBarrier: 1 }, { desired: 'l2', atBarrier: 1 });
    expect(q.actions).toEqual([{ kind: 'Promote', rollout: 'loan', resourceVersion: 'rv-loan-l2-3' }]);
  });

  it('completes when both are promoted and removes the pins, and the canary address the next release must not be born with', () => {
    const p = run({ status: opened({ stage: 1, promotedMembers: ['loan'], pinned: ['loan@l2'] }) }, { stable: 'i2' }, { stable: 'l2' });
    expect(p.status?.phase).toBe('Healthy');
    expect(p.status?.release).toBeUndefined();
    expect(p.actions).toEqual([
      { kind: 'ApplyMetadata', rollout: 'loan', strategy: 'canary', metadata: { stableMetadata: { [KEY]: url('interest-stable') } } },
      { kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [`pin.${KEY}`]: null } },
    ]);
  });

  it('does not count a canary as promoted until its stable Service selects the new pods', () => {
    const g = group({ members, status: opened({ stage: 1, promotedMembers: ['loan'], pinned: ['loan@l2'] }) });
    const o = observed(g, [canary({ name: 'interest', stable: 'i2' }), canary({ name: 'loan', stable: 'l2', ...wiredLoan })]);
    o.services.get('interest-stable')!.spec.selector['rollouts-pod-template-hash'] = 'i1';
    const p = plan(o);
    expect(p.status?.phase).toBe('Promoting');
    expect(p.actions).toEqual([]);
  });

  it('a retry request restarts an aborted canary release from its first barrier', () => {
    const status = inFlight({ stage: 1, abortedAt: iso(), abortReason: 'abort requested: x' });
    const p = run({ status, annotations: { [REQUEST.retry]: id } }, { desired: 'i2', abort: true }, { desired: 'l2', abort: true });
    // Aborted, interest's canary Service is back on its stable pods: loan's canary pods lose the address.
    expect(kinds(p)).toEqual(['ApplyMetadata:loan', 'Retry:interest', 'Retry:loan']);
    expect(p.actions[0]).toMatchObject({ metadata: { stableMetadata: { [KEY]: url('interest-stable') } } });
    expect(p.actions[0]).not.toHaveProperty('metadata.canaryMetadata');
    expect(p.status?.release).toMatchObject({ id, retries: 1, promotedMembers: [] });
    expect(p.status?.message).toBe(`release ${id} retried (attempt 2): interest, loan`);
    expect(p.events[0]?.message).toBe(p.status?.message);
    expect(p.status?.release?.stage).toBe(0);
    expect(p.events.map((e) => e.reason)).toEqual(['ReleaseRetried']);
  });

  // Past its last barrier a canary's weight rises to 100 % by itself: users reach its new pods before Argo calls it stable.
  const finalCutover = (extra: ReleaseInput = {}) => opened({ state: 'CuttingOver', stage: 1, strategy: 'Lockstep', sequence: ['interest', 'loan'], openedBy: 'promote request', pinned: ['loan@l2'], ...extra });

  it('rolls back a dependent resumed past its last barrier when Git moves its dependency on before Argo calls it stable', () => {
    const p = run({ status: finalCutover() }, { desired: 'i3', stepIndex: 0 }, { desired: 'l2', stepIndex: 4 });
    expect(p.status?.release).toMatchObject({ id, state: 'RollingBack', superseded: true, rolledBack: ['loan'] });
    expect(p.status?.release?.abortReason).toBe('superseded: interest@i3 arrived before interest was promoted; loan go back to their previous revision, then forward with it in a new release');
    expect(p.events.map((e) => e.reason)).toEqual(['ChangeDeferred', 'ReleaseAborted', 'ReleaseRolledBack']);
    expect(kinds(p)).not.toContain('Promote:interest');
    // Then back to l1 as any live member of a superseded release: its previous pods pinned first, then its template.
    const q = run({ status: p.status! }, { desired: 'i3', stepIndex: 0 }, { desired: 'l2', stepIndex: 4 });
    expect(kinds(q)).toEqual(['Pin:loan']);
    const r = run({ status: q.status! }, { desired: 'i3', stepIndex: 0 }, { desired: 'l2', stepIndex: 4 });
    expect(kinds(r)).toEqual(['RestoreTemplate:loan']);
  });

  it('aborts a dependent resumed past its last barrier in the step its release fails, keeping its pin while the dependency’s new pods run', () => {
    const p = run({ status: finalCutover() }, { desired: 'i2', abort: true }, { desired: 'l2', stepIndex: 4 });
    expect(kinds(p)).toEqual(['Abort:loan']);
    expect(p.status?.release).toMatchObject({ id, state: 'RollingBack', rolledBack: ['loan'], pinned: ['loan@l2'] });
    expect(p.events.map((e) => e.reason)).toEqual(['ReleaseAborted', 'ReleaseRolledBack']);
  });

  it('aborts every member when one fails at an intermediate barrier: none is promoted yet', () => {
    const p = run({ status: opened({ promotedMembers: ['loan'] }) }, { desired: 'i2', abort: true }, { desired: 'l2', stepIndex: 2 });
    expect(kinds(p)).toEqual(['ApplyMetadata:loan', 'Abort:loan']);
    expect(p.status?.release?.rolledBack).toBeUndefined();
    expect(p.status?.phase).toBe('Degraded');
  });
});

describe('what a member must look like', () => {
  const validate = (interest: Partial<CanaryState>, loanSteps?: unknown[]) => {
    const l = canary({ name: 'loan', stable: 'l1', ...wiredLoan });
    if (loanSteps) (l.view.rollout.spec.strategy.canary as { steps: unknown[] }).steps = loanSteps;
    return plan(observed(group({ members }), [canary({ name: 'interest', stable: 'i1', ...interest }), l]));
  };

  it('rejects Lockstep canary members with different numbers of barriers, saying what to change', () => {
    const p = validate({ barriers: 3 });
    expect(p.status?.conditions.find((c) => c.type === 'SpecValid')).toMatchObject({ status: 'False', reason: 'MemberMisconfigured' });
    expect(p.status?.message).toContain('same number of barriers (interest: 3, loan: 2');
    expect(p.actions).toEqual([]);
  });

  it('rejects a canary whose last step is not an indefinite pause', () => {
    const p = validate({}, [{ setWeight: 50 }, { pause: {} }, { setWeight: 80 }, { pause: { duration: '1m' } }]);
    expect(p.status?.message).toContain('rollout loan: end spec.strategy.canary.steps with an indefinite pause');
  });

  it('accepts a blue-green dependency with a one-barrier canary dependent', () => {
    const g = group({ members });
    const p = plan(observed(g, [blueGreen({ name: 'interest', stable: 'i1' }), canary({ name: 'loan', stable: 'l1', barriers: 1 })]));
    expect(p.status?.conditions.find((c) => c.type === 'SpecValid')?.status).toBe('True');
    expect(p.actions[0]).toEqual({ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'canary', metadata: { stableMetadata: { [KEY]: url('interest-active') } } });
  });
});

describe('Ordered, one member at a time', () => {
  const bg = (name: string, stable: string, extra = {}) => blueGreen({ name, stable, ...extra });
  const orderedLoan = { previewMetadata: { [KEY]: url('interest-active') }, activeMetadata: { [KEY]: url('interest-active') }, owned: { previewMetadata: [KEY], activeMetadata: [KEY] } };
  const runOrdered = (g: Partial<GroupInput>, interest = {}, loan = {}, now = T0) =>
    plan(observed(group({ members, strategy: 'Ordered', ...g }), [bg('interest', 'i1', interest), bg('loan', 'l1', { ...orderedLoan, ...loan })], { now }));
  const orderedFlight = (extra: ReleaseInput = {}) => {
    const s = inFlight(extra);
    return s;
  };

  it('wires previews to the dependency’s active Service', () => {
    const p = runOrdered({}, {}, { previewMetadata: undefined, activeMetadata: undefined, owned: {} });
    expect(p.actions).toEqual([
      { kind: 'ApplyMetadata', rollout: 'loan', strategy: 'blueGreen', metadata: { previewMetadata: { [KEY]: url('interest-active') }, activeMetadata: { [KEY]: url('interest-active') } } },
    ]);
  });

  it('gates the dependency alone first, even while the dependent is not ready', () => {
    const p = runOrdered({ status: orderedFlight() }, { desired: 'i2' }, { desired: 'l2', previewAvailable: false });
    expect(p.status?.phase).toBe('Paused');
    expect(p.status?.message).toBe(`release ${id} (interest, stage 1/2) ready: 1/1 members; waiting for promote`);
  });

  it('promotes the dependency without repointing anyone', () => {
    const p = runOrdered({ status: orderedFlight({ readyAt: iso(), promotedAt: iso() }) }, { desired: 'i2' }, { desired: 'l2' });
    expect(p.actions).toEqual([{ kind: 'Promote', rollout: 'interest', resourceVersion: 'rv-interest-i2' }]);
  });

  it('then gates the dependent on its own', () => {
    const p = runOrdered({ status: orderedFlight({ readyAt: iso(), promotedAt: iso(), promotedMembers: ['interest'] }) }, { stable: 'i2', desired: 'i2', activeSwitched: true }, { desired: 'l2' });
    expect(p.status?.release).toMatchObject({ stage: 1, promotedMembers: [] });
    const q = runOrdered({ status: p.status! }, { stable: 'i2', desired: 'i2', activeSwitched: true }, { desired: 'l2' });
    expect(q.status?.phase).toBe('Paused');
    expect(q.status?.message).toContain('(loan, stage 2/2) ready');
    expect(q.actions).toEqual([]);
  });

  it('orders DependentsFirst when asked', () => {
    const p = runOrdered({ order: 'DependentsFirst', status: orderedFlight() }, { desired: 'i2' }, { desired: 'l2' });
    expect(p.status?.message).toContain('(loan, stage 1/2)');
  });

  it('a failure aborts the failed member and those after it; members before it stay', () => {
    const status = orderedFlight({ stage: 1, stages: 2 });
    const p = runOrdered({ status }, { stable: 'i2', desired: 'i2', activeSwitched: true }, { desired: 'l2', abort: true });
    expect(p.status?.phase).toBe('Degraded');
    expect(p.status?.release?.rolledBack).toBeUndefined();
    expect(kinds(p).filter((k) => !k.startsWith('ApplyMetadata'))).toEqual([]);
    expect(p.status?.message).toContain('member loan failed');
  });
});
