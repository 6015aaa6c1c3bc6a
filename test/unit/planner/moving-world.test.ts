/** The world moves during a release (DESIGN §4b, issue "release as an explicit state machine"): one test per scenario. */
import { describe, expect, it } from 'vitest';
import { REQUEST } from '../../../src/api/rolloutgroup.ts';
import type { Action } from '../../../src/planner/plan-types.ts';
import { plan } from '../../../src/planner/plan.ts';
import { specHashOf } from '../../../src/planner/spec-hash.ts';
import { RolloutGroupSpec } from '../../../src/api/rolloutgroup.ts';
import {
  INTEREST_KEY as KEY,
  T0,
  blueGreen,
  canary,
  givenLoan,
  group,
  loanDependsOnInterest,
  loanInterestRelease as id,
  observed,
  replicaSet,
  steadyLoan,
  url,
  type BlueGreenState,
  type GroupInput,
  type ReleaseInput,
  type StatusInput,
} from '../../fixtures/builders.ts';

const iso = (ms = 0) => new Date(T0 + ms).toISOString();
const PIN = `pin.${KEY}`;
const lockstepHash = specHashOf(RolloutGroupSpec.parse({ members: loanDependsOnInterest }));

/** A release as this version persists it: with its state and the graph it started with. */
const release = (extra: ReleaseInput = {}): StatusInput => ({
  phase: 'Progressing',
  members: [],
  conditions: [],
  release: {
    state: 'Gating',
    id,
    targets: [
      { rollout: 'interest', revision: 'i2', from: 'i1' },
      { rollout: 'loan', revision: 'l2', from: 'l1' },
    ],
    startedAt: iso(),
    stage: 0,
    stageStartedAt: iso(),
    progressAt: iso(),
    promotedMembers: [],
    strategy: 'Lockstep',
    sequence: ['interest', 'loan'],
    specHash: lockstepHash,
    ...extra,
  },
});
/** The gate open; loan's new pods pinned to interest's preview once loan is on its way. */
const cuttingOver = (promotedMembers: string[] = [], extra: ReleaseInput = {}) =>
  release({ state: 'CuttingOver', readyAt: iso(), firstReadyAt: iso(), promotedAt: iso(), openedBy: 'promote request', promotedMembers, pinned: ['loan@l2'], ...extra });
const liveLoan: Partial<BlueGreenState> = { stable: 'l2', desired: 'l2', activeSwitched: true, ...givenLoan };
const unpinLoan = { kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [PIN]: null } };

function run(g: Partial<GroupInput>, interest: Partial<BlueGreenState>, loan: Partial<BlueGreenState>, now = T0, extra: { nudgeDue?: Set<string> } = {}) {
  const o = observed(group({ members: loanDependsOnInterest, ...g }), [blueGreen({ name: 'interest', stable: 'i1', ...interest }), blueGreen({ name: 'loan', stable: 'l1', ...(g.status?.release ? givenLoan : steadyLoan), ...loan })], { now });
  return plan({ ...o, ...extra });
}
/** Runs the plan's status back in, as the next reconcile would see it. */
const again = (p: ReturnType<typeof plan>): StatusInput => p.status as StatusInput;
const kinds = (actions: readonly Action[]) => actions.map((a) => `${a.kind}${'rollout' in a ? `:${a.rollout}` : ''}`);
const metadataFor = (actions: readonly Action[], rollout: string) => actions.find((a) => a.kind === 'ApplyMetadata' && a.rollout === rollout) as Extract<Action, { kind: 'ApplyMetadata' }> | undefined;

describe('1. a newer revision arrives mid-cutover', () => {
  it('a newer dependency after its dependent went live: the live dependent is rolled back, never left with the old dependency', () => {
    const p = run({ status: cuttingOver(['loan']) }, { desired: 'i3' }, liveLoan);
    expect(p.status?.release?.state).toBe('RollingBack');
    expect(p.status?.release?.abortReason).toContain('superseded: interest@i3 arrived before interest was promoted');
    expect(p.status?.release?.deferred).toEqual(['interest@i3']);
    expect(p.events.map((e) => e.reason)).toEqual(['ChangeDeferred', 'ReleaseAborted', 'ReleaseRolledBack']);
    // The new revision is not aborted: it is the next release's.
    expect(kinds(p.actions)).not.toContain('Abort:interest');
    // interest@i2's pods are no longer behind a Service: live loan@l2's pin goes at once, it uses interest's active side until it is back.
    expect(p.actions).toContainEqual(unpinLoan);
    expect(p.status?.release?.pinned).toBeUndefined();
    // The next step restores loan's previous template (recorded first, then done); its l1 ReplicaSet is still up.
    const o = observed(group({ members: loanDependsOnInterest, status: again(p) }), [blueGreen({ name: 'interest', stable: 'i1', desired: 'i3' }), blueGreen({ name: 'loan', stable: 'l1', ...givenLoan, ...liveLoan })]);
    const q = plan({ ...o, replicaSets: [...o.replicaSets, replicaSet('loan', 'l1', true, givenLoan.activeMetadata)] });
    // Its previous pods pinned to interest's active side first (back live, they carry preview metadata a while).
    expect(kinds(q.actions)).toEqual(['Pin:loan']);
    const o2 = observed(group({ members: loanDependsOnInterest, status: again(q) }), [blueGreen({ name: 'interest', stable: 'i1', desired: 'i3' }), blueGreen({ name: 'loan', stable: 'l1', ...givenLoan, ...liveLoan })]);
    const r = plan({ ...o2, replicaSets: [...o2.replicaSets, replicaSet('loan', 'l1', true, givenLoan.activeMetadata)] });
    expect(kinds(r.actions)).toContain('RestoreTemplate:loan');
  });

  it('the new release does not start before the rollback is done; then it gets a gate of its own', () => {
    const rolling = cuttingOver(['loan'], { state: 'RollingBack', abortedAt: iso(), abortReason: 'superseded', rolledBack: ['loan'], openedBy: undefined });
    const p = run({ status: rolling }, { desired: 'i3' }, liveLoan);
    expect(p.status?.release?.id).toBe(id);
    expect(p.events.map((e) => e.reason)).not.toContain('ReleaseStarted');
    // loan is back on l1 (its l2 ReplicaSet kept, scaled down): forward again to what Git declares.
    const backObserved = observed(group({ members: loanDependsOnInterest, status: { ...rolling, release: { ...rolling.release!, superseded: true } } }), [
      blueGreen({ name: 'interest', stable: 'i1', desired: 'i3' }),
      blueGreen({ name: 'loan', stable: 'l1', desired: 'l1', ...givenLoan }),
    ]);
    const back = plan({ ...backObserved, replicaSets: [...backObserved.replicaSets, replicaSet('loan', 'l2', false, givenLoan.previewMetadata, 0)] });
    expect(back.status?.release?.state).toBe('Aborted');
    expect(back.actions).toContainEqual(expect.objectContaining({ kind: 'RestoreTemplate', rollout: 'loan', revision: 'l2' }));
    // Then both newest revisions are released together, behind a gate of their own.
    const next = run({ status: again(back) }, { desired: 'i3' }, { stable: 'l1', desired: 'l2', ...givenLoan });
    expect(next.status?.release).toMatchObject({ state: 'Gating', targets: [{ rollout: 'interest', revision: 'i3' }, { rollout: 'loan', revision: 'l2' }] });
    expect(next.events.map((e) => e.reason)).toContain('ReleaseStarted');
  });

  it('a newer revision of a member already promoted: the cutover is finished first, the change waits', () => {
    // loan@l2 is live (stable, active Service) and Git now declares loan@l3.
    const loanL3 = { stable: 'l2', desired: 'l3', ...givenLoan };
    const p = run({ status: cuttingOver(['loan']) }, { desired: 'i2' }, loanL3);
    expect(p.status?.release).toMatchObject({ state: 'CuttingOver', id, deferred: ['loan@l3'] });
    expect(kinds(p.actions)).toContain('Promote:interest');
    // loan@l2's live pods keep their pin to interest's preview (interest@i2) throughout.
    expect(p.status?.release?.pinned).toEqual(['loan@l2']);
    expect(p.actions.filter((a) => a.kind === 'Pin' || a.kind === 'ApplyMetadata')).toEqual([]);
    expect(p.events).toContainEqual(expect.objectContaining({ reason: 'ChangeDeferred', message: expect.stringContaining('loan@l3') }));
    const q = run({ status: again(p) }, { desired: 'i2' }, loanL3);
    expect(q.events.filter((e) => e.reason === 'ChangeDeferred')).toEqual([]);
  });

  it('Git moves the live dependent and its dependency on: the dependent stays live, reaching the dependency’s active side until its newest pods are up, then those; never an empty Service', () => {
    // loan@l2 is live and pinned to interest's preview (interest@i2); one commit now declares
    // interest@i3 and loan@l3. interest@i2's pods are gone, and loan cannot go back: Git moved it on.
    const world = (i3Up: boolean, loanLive = 'l2') =>
      [blueGreen({ name: 'interest', stable: 'i1', desired: 'i3', previewAvailable: i3Up }), blueGreen({ name: 'loan', stable: 'l2', desired: 'l3', previewAvailable: true, activeSwitched: loanLive === 'l3', ...givenLoan })] as const;
    const step = (status: StatusInput, i3Up: boolean, loanLive?: string) => plan(observed(group({ members: loanDependsOnInterest, status }), [...world(i3Up, loanLive)]));
    const pinOf = (p: ReturnType<typeof plan>) => p.actions.filter((a) => a.kind === 'Pin');
    const p = step(cuttingOver(['loan']), false);
    expect(p.status?.release).toMatchObject({ state: 'Aborted', superseded: true });
    expect(p.status?.release?.abortReason).toContain('loan@l2 stay live');
    expect(p.status?.release?.abortReason).not.toContain('loan go back');
    // interest@i3 is not up: the pin follows the pods that run, interest's active side.
    expect(pinOf(p)).toEqual([{ kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [PIN]: url('interest-active') } }]);
    expect(p.status?.release?.pinned).toEqual([expect.stringMatching(/^loan@l2#[0-9a-f]{8}$/)]);
    // The next release (both newest revisions) keeps that pin, and writes it once only. Should it
    // fail, loan goes back to l1, the last revision that matched interest's (not to stranded l2).
    const q = step(again(p), false);
    expect(q.status?.release).toMatchObject({ state: 'Gating', targets: [{ rollout: 'interest', revision: 'i3', from: 'i1' }, { rollout: 'loan', revision: 'l3', from: 'l1' }] });
    expect(pinOf(q)).toEqual([]);
    expect(q.status?.release?.pinned).toEqual(p.status?.release?.pinned);
    // interest@i3 is up: loan@l2's pods now reach it through interest's preview (old loan, new interest).
    const r = step(again(q), true);
    expect(pinOf(r)).toEqual([{ kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [PIN]: url('interest-preview') } }]);
    const repinned = r.status?.release?.pinned;
    expect(repinned).toEqual([expect.stringMatching(/^loan@l2#[0-9a-f]{8}$/)]);
    expect(repinned).not.toEqual(q.status?.release?.pinned);
    // A crash before that status write: the old entry is read again, and the pin planned again.
    expect(pinOf(step(again(q), true))).toEqual(pinOf(r));
    expect(pinOf(step(again(r), true))).toEqual([]);
    // Once loan@l3 is live, loan@l2's pin goes.
    const s = step(again(r), true, 'l3');
    expect(pinOf(s)).toEqual([{ kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [PIN]: null } }]);
    expect(s.status?.release?.pinned).toBeUndefined();
  });

  it('a change of a member outside the release waits for the next release', () => {
    const members = [...loanDependsOnInterest, { rollout: 'worker' }];
    const o = observed(group({ members, status: cuttingOver(['loan']) }), [
      blueGreen({ name: 'interest', stable: 'i1', desired: 'i2' }),
      blueGreen({ name: 'loan', stable: 'l1', ...liveLoan }),
      blueGreen({ name: 'worker', stable: 'w1', desired: 'w2' }),
    ]);
    const p = plan(o);
    expect(p.status?.release).toMatchObject({ state: 'CuttingOver', id, deferred: ['worker@w2'] });
    expect(kinds(p.actions)).toContain('Promote:interest');
  });

  it('a target removed from the spec mid-cutover stays in the release until it ends', () => {
    const p = run({ members: [{ rollout: 'interest' }], status: cuttingOver(['loan']) }, { desired: 'i2' }, liveLoan);
    expect(p.status?.release?.state).toBe('CuttingOver');
    expect(kinds(p.actions)).toContain('Promote:interest');
    // Its keys are kept (not released) while the release needs them.
    expect(p.actions.some((a) => a.kind === 'ApplyMetadata' && a.rollout === 'loan')).toBe(false);
  });
});

describe('1b. a release of the dependent alone', () => {
  const loanOnly = (extra: ReleaseInput = {}) =>
    release({ state: 'CuttingOver', readyAt: iso(), firstReadyAt: iso(), promotedAt: iso(), openedBy: 'promote request', targets: [{ rollout: 'loan', revision: 'l2', from: 'l1' }], sequence: ['loan'], ...extra });

  it('pins its new pods to the dependency’s active Service before promoting it: Argo may strip their role metadata or give them preview metadata', () => {
    const p = run({ status: loanOnly() }, {}, { desired: 'l2', paused: true });
    expect(p.actions).toEqual([{ kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [PIN]: url('interest-active') } }]);
    expect(p.status?.release?.pinned).toEqual(['loan@l2']);
    const q = run({ status: again(p) }, {}, { desired: 'l2', paused: true });
    expect(kinds(q.actions)).toEqual(['Promote:loan']);
  });
});

describe('2. the spec is edited mid-release', () => {
  it('Lockstep → Ordered mid-cutover: the release keeps its graph: dependents first, behind the gate, previews to previews', () => {
    const p = run({ strategy: 'Ordered', status: cuttingOver() }, { desired: 'i2' }, { desired: 'l2' });
    expect(kinds(p.actions)).toEqual(['Promote:loan']);
    expect(p.events).toContainEqual(expect.objectContaining({ reason: 'SpecChangeDeferred' }));
    expect(p.status?.release?.strategy).toBe('Lockstep');
    const q = run({ strategy: 'Ordered', status: again(p) }, { desired: 'i2' }, { desired: 'l2' });
    expect(q.events.filter((e) => e.reason === 'SpecChangeDeferred')).toEqual([]);
  });

  it('the edit applies from the next release', () => {
    const p = run({ strategy: 'Ordered' }, { desired: 'i2' }, { desired: 'l2' });
    expect(p.status?.release?.strategy).toBe('Ordered');
    // Ordered previews talk to the active side.
    expect(metadataFor(p.actions, 'loan')?.metadata.previewMetadata).toEqual({ [KEY]: url('interest-active') });
  });
});

describe('3. nothing waits forever', () => {
  it('readiness lost after the release was ready: aborted once progressDeadlineSeconds pass without it coming back', () => {
    const wasReady = release({ readyAt: iso(), firstReadyAt: iso() });
    const dip = run({ status: wasReady, progressDeadlineSeconds: 60 }, { desired: 'i2', paused: true, previewAvailable: false }, { desired: 'l2', ...givenLoan }, T0 + 3_600_000);
    expect(dip.status?.release?.state).toBe('Gating');
    expect(dip.status?.release?.progressAt).toBe(iso(3_600_000));
    const later = run({ status: again(dip), progressDeadlineSeconds: 60 }, { desired: 'i2', paused: true, previewAvailable: false }, { desired: 'l2', ...givenLoan }, T0 + 3_661_000);
    expect(later.status?.release?.state).toBe('Aborted');
    expect(later.status?.release?.abortReason).toBe('not ready within 60s: waiting for interest');
    expect(later.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'ReleaseAborted' }));
    expect(kinds(later.actions)).toEqual(['Abort:interest', 'Abort:loan']);
  });

  it('a member that never reaches promoted during cutover: the live ones are rolled back, naming the one that stalled', () => {
    const stuck = cuttingOver(['loan'], { progressAt: iso() });
    const p = run({ status: stuck, progressDeadlineSeconds: 60 }, { desired: 'i2', paused: false, unpausing: false }, liveLoan, T0 + 61_000);
    expect(p.status?.release?.state).toBe('RollingBack');
    expect(p.status?.release?.abortReason).toBe('not promoted within 60s: waiting for interest');
    expect(p.status?.phase).toBe('Degraded');
  });

  it('a dependency live in its post-promotion analysis at the deadline is aborted, not restored; its dependent goes back once it is back', () => {
    // Restoring interest's template would move its preview and active Services to i1 at once, while
    // loan@l2 is pinned to its preview; an abort moves only the active one and keeps i2 behind the preview.
    const stuck = cuttingOver(['loan'], { progressAt: iso() });
    const interestLive = { desired: 'i2', activeSwitched: true, paused: false };
    const p = run({ status: stuck, progressDeadlineSeconds: 60 }, interestLive, liveLoan, T0 + 61_000);
    expect(p.status?.release?.state).toBe('RollingBack');
    expect(p.status?.release?.abortReason).toBe('not promoted within 60s: waiting for interest');
    const q = run({ status: again(p), progressDeadlineSeconds: 60 }, interestLive, liveLoan, T0 + 62_000);
    expect(kinds(q.actions)).toEqual(['Abort:interest']);
    expect(q.status?.release?.pinned).toEqual(['loan@l2']);
    const o = observed(group({ members: loanDependsOnInterest, status: again(q), progressDeadlineSeconds: 60 }), [blueGreen({ name: 'interest', stable: 'i1', desired: 'i2', abort: true }), blueGreen({ name: 'loan', stable: 'l1', ...liveLoan })], { now: T0 + 63_000 });
    const r = plan({ ...o, replicaSets: [...o.replicaSets, replicaSet('loan', 'l1', true, givenLoan.activeMetadata)] });
    expect(kinds(r.actions)).toEqual(['Pin:loan']);
    const o2 = observed(group({ members: loanDependsOnInterest, status: again(r), progressDeadlineSeconds: 60 }), [blueGreen({ name: 'interest', stable: 'i1', desired: 'i2', abort: true }), blueGreen({ name: 'loan', stable: 'l1', ...liveLoan })], { now: T0 + 64_000 });
    const t = plan({ ...o2, replicaSets: [...o2.replicaSets, replicaSet('loan', 'l1', true, givenLoan.activeMetadata)] });
    expect(kinds(t.actions)).toEqual(['RestoreTemplate:loan']);
  });

  it('waits while the deadline has not passed, and wakes up for it', () => {
    const stuck = cuttingOver(['loan'], { progressAt: iso() });
    const p = run({ status: stuck, progressDeadlineSeconds: 60 }, { desired: 'i2', paused: false }, liveLoan, T0 + 55_000);
    expect(p.status?.release?.state).toBe('CuttingOver');
    expect(p.requeueAfterMs).toBeLessThanOrEqual(5_000);
  });

  it('a person waiting at the gate is not a stall: no deadline while ready and waiting for a promote', () => {
    const p = run({ status: release({ readyAt: iso(), firstReadyAt: iso() }), progressDeadlineSeconds: 60 }, { desired: 'i2' }, { desired: 'l2', ...givenLoan }, T0 + 86_400_000);
    expect(p.status?.phase).toBe('Paused');
    expect(p.status?.release?.state).toBe('Gating');
  });
});

describe('4. a person’s hold wins', () => {
  it('a member held at the gate keeps the gate shut, even with a promote request; no deadline runs meanwhile', () => {
    const p = run({ status: release(), annotations: { [REQUEST.promote]: id }, progressDeadlineSeconds: 60 }, { desired: 'i2', specPaused: true }, { desired: 'l2', ...givenLoan }, T0 + 3_600_000);
    expect(p.status?.release?.state).toBe('Gating');
    expect(p.status?.phase).toBe('Paused');
    expect(p.status?.message).toContain('interest is paused by a person (spec.paused)');
    expect(p.handledRequests).toEqual([]); // kept until the gate can open
    expect(p.actions).toEqual([]);
  });

  it('once the person resumes, the deadline counts from then', () => {
    const held = release({ held: ['interest'] });
    const p = run({ status: held, progressDeadlineSeconds: 60 }, { desired: 'i2', previewAvailable: false }, { desired: 'l2', ...givenLoan }, T0 + 3_600_000);
    expect(p.status?.release?.held).toBeUndefined();
    expect(p.status?.release?.progressAt).toBe(iso(3_600_000));
    expect(p.status?.release?.state).toBe('Gating');
  });
});

describe('5. out-of-band promotion is seen', () => {
  it('a dependency promoted by hand before the gate, the rest ready: reported, and the gate opens at once so the mismatch lasts one cutover', () => {
    const p = run({ status: release({ readyAt: iso(), firstReadyAt: iso() }) }, { desired: 'i2', stable: 'i2', activeSwitched: true }, { desired: 'l2', ...givenLoan });
    expect(p.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'OutOfBandPromotion', message: expect.stringContaining('interest promoted by someone else') }));
    expect(p.status?.release).toMatchObject({ state: 'CuttingOver', openedBy: 'out-of-band promotion of interest' });
    const q = run({ status: again(p) }, { desired: 'i2', stable: 'i2', activeSwitched: true }, { desired: 'l2' });
    expect(kinds(q.actions)).toEqual(['Pin:loan']);
    const r = run({ status: again(q) }, { desired: 'i2', stable: 'i2', activeSwitched: true }, { desired: 'l2' });
    expect(kinds(r.actions)).toEqual(['Promote:loan']);
  });

  it('promoted by hand while another member is not ready: the early one is rolled back (all or nothing)', () => {
    const p = run({ status: release() }, { desired: 'i2', stable: 'i2', activeSwitched: true }, { desired: 'l2', ...givenLoan, previewAvailable: false });
    expect(p.status?.release?.state).toBe('RollingBack');
    expect(p.status?.release?.abortReason).toBe('interest promoted by someone else while loan is not ready');
    expect(p.events.map((e) => e.reason)).toEqual(['OutOfBandPromotion', 'ReleaseAborted', 'ReleaseRolledBack']);
  });

  it('a member aborted by someone else fails the release at once', () => {
    const p = run({ status: release() }, { desired: 'i2', abort: true, phase: 'Degraded' }, { desired: 'l2', ...givenLoan });
    expect(p.status?.release?.state).toBe('Aborted');
    expect(kinds(p.actions)).toEqual(['Abort:loan']);
  });

  it('after an aborted release, a new revision of one member while the other is still aborted: deferred, not aborted; then one release of both', () => {
    const aborted = release({ state: 'Aborted', abortedAt: iso(), abortReason: 'member interest failed (aborted)' });
    // Argo CD applied loan's new revision first: interest is still aborted on i2 for a moment.
    const p = run({ status: aborted }, { desired: 'i2', abort: true, phase: 'Degraded' }, { desired: 'l3', ...givenLoan });
    expect(p.status?.release).toMatchObject({ id, state: 'Aborted', deferred: ['loan@l3'] });
    expect(kinds(p.actions).filter((k) => k.startsWith('Abort'))).toEqual([]);
    expect(p.events.map((e) => e.reason)).toEqual(['ChangeDeferred']);
    expect(p.status?.message).toBe(`release ${id} aborted: member interest failed (aborted); loan@l3 waits for the next release`);
    // interest's new revision arrives too (Argo clears an abort on a new revision): one release of both, gated.
    const q = run({ status: again(p) }, { desired: 'i3' }, { desired: 'l3', ...givenLoan });
    expect(q.status?.release).toMatchObject({ state: 'Gating', targets: [{ rollout: 'interest', revision: 'i3' }, { rollout: 'loan', revision: 'l3' }] });
    expect(q.status?.release?.id).not.toBe(id);
    expect(kinds(q.actions).filter((k) => k.startsWith('Abort'))).toEqual([]);
  });
});

describe('6. no live dependent points at an empty Service', () => {
  const rolling = cuttingOver(['loan'], { state: 'RollingBack', abortedAt: iso(), abortReason: 'member interest failed', rolledBack: ['loan'], openedBy: undefined });
  it('while the aborted dependency’s new pods still run, the live dependent keeps its pin to them', () => {
    const p = run({ status: rolling }, { desired: 'i2', abort: true, previewAvailable: true }, liveLoan);
    expect(p.actions.filter((a) => a.kind === 'Pin' || a.kind === 'ApplyMetadata')).toEqual([]);
    expect(p.status?.release?.pinned).toEqual(['loan@l2']);
  });
  it('once they are scaled down, the pin goes: it follows the pods that still run, the dependency’s active side', () => {
    const p = run({ status: rolling }, { desired: 'i2', abort: true, previewAvailable: false }, liveLoan);
    expect(p.actions).toContainEqual(unpinLoan);
    expect(metadataFor(p.actions, 'loan')).toBeUndefined(); // its active metadata points at interest-active already
    expect(p.status?.release?.pinned).toBeUndefined();
  });
});

describe('7. canary edge cases', () => {
  it('a barrier before any setWeight is refused: the canary could never be ready', () => {
    const o = observed(group({ members: [{ rollout: 'c' }] }), [canary({ name: 'c', stable: 'c1' })]);
    const steps = o.rollouts.get('c')!.rollout.spec.strategy.canary!.steps!;
    steps.unshift({ pause: {} });
    const p = plan(o);
    expect(p.status?.conditions.find((c) => c.type === 'SpecValid')).toMatchObject({ status: 'False', reason: 'MemberMisconfigured' });
    expect(p.status?.message).toContain('no pods at its first `pause: {}` (step 1)');
    expect(p.actions.filter((a) => 'rollout' in a)).toEqual([]);
  });

  it('a member paused at its barrier and for an inconclusive analysis is not ready: auto promotion waits for a person', () => {
    const o = observed(group({ members: [{ rollout: 'c' }], auto: true }), [canary({ name: 'c', stable: 'c1', desired: 'c2', atBarrier: 0 })]);
    o.rollouts.get('c')!.rollout.status.pauseConditions!.push({ reason: 'InconclusiveAnalysisRun' });
    const p = plan(o);
    expect(p.actions).toEqual([]);
    expect(p.status?.phase).toBe('Paused');
    expect(p.status?.message).toContain('c is paused by Argo for a person (InconclusiveAnalysisRun)');
    expect(p.status?.release?.state).toBe('Gating');
  });
});

describe('8. status stays within the CRD’s bounds', () => {
  it('a huge problem message is cut to 32768 characters, and members to 50', () => {
    const members = Array.from({ length: 50 }, (_, i) => ({ rollout: `m${i}-${'x'.repeat(200)}` }));
    const o = observed(group({ members }), []);
    const p = plan(o);
    expect(p.status!.message!.length).toBeLessThanOrEqual(32_768);
    for (const c of p.status!.conditions) expect(c.message.length).toBeLessThanOrEqual(32_768);
    expect(p.status!.members.length).toBeLessThanOrEqual(50);
  });

  it('former members beyond 50 are not listed', () => {
    const members = Array.from({ length: 50 }, (_, i) => ({ rollout: `m${i}` }));
    const formers = Array.from({ length: 10 }, (_, i) => ({ rollout: `old${i}`, images: [], state: 'Stable' as const }));
    const all = [...members.map((m) => blueGreen({ name: m.rollout, stable: 'a' })), ...formers.map((f) => blueGreen({ name: f.rollout, stable: 'a', ...givenLoan }))];
    const p = plan(observed(group({ members, status: { members: formers, conditions: [] } }), all));
    expect(p.status!.members.length).toBe(50);
  });
});

describe('9. nudges are planned: never for a paused, invalid or deleting group', () => {
  const due = { nudgeDue: new Set(['loan']) };
  it('an active group nudges a member Argo left waiting', () => {
    const p = run({}, {}, {}, T0, due);
    expect(p.actions).toEqual([{ kind: 'Nudge', rollout: 'loan' }]);
  });
  it('a paused group does not', () => {
    expect(run({ paused: true }, {}, {}, T0, due).actions).toEqual([]);
  });
  it('an invalid group does not', () => {
    expect(run({ members: [...loanDependsOnInterest, { rollout: 'ghost' }] }, {}, {}, T0, due).actions).toEqual([]);
  });
  it('a deleting group does not', () => {
    const p = run({ deletionTimestamp: iso() }, {}, {}, T0, due);
    expect(p.actions.map((a) => a.kind)).not.toContain('Nudge');
  });
});
