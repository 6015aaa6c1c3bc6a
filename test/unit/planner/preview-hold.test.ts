/**
 * The preview window (preview-hold.ts, docs/wiring.md): a Lockstep canary dependent's canary pods get
 * a dependency's canary address only once that Service serves the dependency's new revision alone.
 */
import { describe, expect, it } from 'vitest';
import { plan } from '../../../src/planner/plan.ts';
import type { ServiceEndpoints } from '../../../src/planner/data-plane.ts';
import type { Action } from '../../../src/planner/plan-types.ts';
import {
  T0,
  blueGreen,
  canary,
  givenLoan as givenBlueGreenLoan,
  group,
  observed,
  steadyLoan as steadyBlueGreenLoan,
  url,
  INTEREST_KEY,
  loanDependsOnInterest,
  type BlueGreenState,
  type CanaryState,
  type GroupInput,
  type StatusInput,
} from '../../fixtures/builders.ts';

const KEY = INTEREST_KEY;
const iso = new Date(T0 - 60_000).toISOString();
const canaryAddress = { [KEY]: url('interest-canary') };
const stableAddress = { [KEY]: url('interest-stable') };
/** loan as Tandem leaves it outside a release: its stable pods wired, its canary pods not. */
const steadyLoan = { stableMetadata: stableAddress, owned: { stableMetadata: [KEY] } };
/** loan once its canary pods were given interest's canary address. */
const givenLoan = { canaryMetadata: canaryAddress, stableMetadata: stableAddress, owned: { canaryMetadata: [KEY], stableMetadata: [KEY] } };
const both = [
  { rollout: 'interest', revision: 'i2', from: 'i1' },
  { rollout: 'loan', revision: 'l2', from: 'l1' },
];
const gating = (targets = both, extra: Record<string, unknown> = {}): StatusInput => ({
  phase: 'Progressing',
  members: [],
  conditions: [],
  release: { state: 'Gating', id: 'r1', targets, startedAt: iso, promotedMembers: [], ...extra },
});
const slices = (replicaSets: string[], seenAgoMs: number): ServiceEndpoints => ({ replicaSets, ready: true, seenAt: T0 - seenAgoMs });

function run(opts: { g?: Partial<GroupInput>; interest?: Partial<CanaryState>; loan?: Partial<CanaryState>; endpoints?: Map<string, ServiceEndpoints> }) {
  const o = observed(group({ members: loanDependsOnInterest, ...opts.g }), [
    canary({ name: 'interest', stable: 'i1', barriers: 1, ...opts.interest }),
    canary({ name: 'loan', stable: 'l1', barriers: 1, ...steadyLoan, ...opts.loan }),
  ]);
  return plan({ ...o, ...(opts.endpoints ? { endpoints: opts.endpoints } : {}) });
}
const loanWrites = (actions: readonly Action[]) => actions.filter((a) => a.kind === 'ApplyMetadata' && a.rollout === 'loan');

describe('a canary dependent’s canary address for a dependency in the release', () => {
  it('is absent outside a release: Argo creates the next canary ReplicaSet with the metadata it has then', () => {
    expect(loanWrites(run({}).actions)).toEqual([]);
    // One written before (an earlier Tandem) is taken off.
    expect(loanWrites(run({ loan: givenLoan }).actions)).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'canary', metadata: { stableMetadata: stableAddress } }]);
  });

  it('is withheld while interest’s canary Service still selects its stable pods (its new ReplicaSet not yet available)', () => {
    const p = run({ g: { status: gating() }, interest: { desired: 'i2', available: false, stepIndex: 0 }, loan: { desired: 'l2', available: false, stepIndex: 0 } });
    expect(loanWrites(p.actions)).toEqual([]);
    expect(p.status?.release?.state).toBe('Gating');
  });

  it('is withheld until interest-canary’s slices list only new interest for the settle delay, then given', () => {
    const at = (endpoints: Map<string, ServiceEndpoints>) =>
      run({ g: { status: gating() }, interest: { desired: 'i2', atBarrier: 0 }, loan: { desired: 'l2', available: false, stepIndex: 0 }, endpoints });
    const both = at(new Map([['interest-canary', slices(['interest-i1', 'interest-i2'], 60_000)]]));
    expect(loanWrites(both.actions)).toEqual([]);
    const fresh = at(new Map([['interest-canary', slices(['interest-i2'], 1_000)]]));
    expect(loanWrites(fresh.actions)).toEqual([]);
    expect(fresh.requeueAfterMs).toBe(2_000);
    const settled = at(new Map([['interest-canary', slices(['interest-i2'], 3_000)]]));
    expect(loanWrites(settled.actions)).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'canary', metadata: { canaryMetadata: canaryAddress, stableMetadata: stableAddress } }]);
  });

  it('is kept once given while interest-canary selects new interest, though the settle delay starts again (a restart, a relist) or its pod restarts', () => {
    const kept = (endpoints: Map<string, ServiceEndpoints>) =>
      run({ g: { status: gating() }, interest: { desired: 'i2', atBarrier: 0 }, loan: { ...givenLoan, desired: 'l2', atBarrier: 0 }, endpoints });
    expect(loanWrites(kept(new Map([['interest-canary', slices(['interest-i2'], 0)]])).actions)).toEqual([]);
    expect(loanWrites(kept(new Map([['interest-canary', { replicaSets: ['interest-i2'], ready: false, seenAt: T0 }]])).actions)).toEqual([]);
  });

  it('is taken off when the release is aborted and interest’s canary Service is back on its stable pods', () => {
    const aborted: StatusInput = { ...gating(), phase: 'Degraded', release: { ...gating().release!, state: 'Aborted', abortedAt: iso, abortReason: 'x' } };
    const p = run({ g: { status: aborted }, interest: { desired: 'i2', abort: true }, loan: { ...givenLoan, desired: 'l2', abort: true } });
    expect(loanWrites(p.actions)).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'canary', metadata: { stableMetadata: stableAddress } }]);
  });
});

describe('a canary dependent’s canary address given at once', () => {
  it('for a dependency outside the release: its canary Service is its stable revision', () => {
    const p = run({ g: { status: gating([{ rollout: 'loan', revision: 'l2', from: 'l1' }]) }, loan: { desired: 'l2', available: false, stepIndex: 0 } });
    expect(loanWrites(p.actions)).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'canary', metadata: { canaryMetadata: canaryAddress, stableMetadata: stableAddress } }]);
  });

  it('while rolling back, as before (the restored pods come back through their preview metadata)', () => {
    const back: StatusInput = { ...gating(), phase: 'Degraded', release: { ...gating().release!, state: 'RollingBack', abortedAt: iso, abortReason: 'x', promotedAt: iso, rolledBack: ['loan'] } };
    const p = run({ g: { status: back }, interest: { desired: 'i2', abort: true }, loan: { desired: 'l1', stable: 'l2' } });
    expect(loanWrites(p.actions)).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'canary', metadata: { canaryMetadata: canaryAddress, stableMetadata: stableAddress } }]);
  });

  it('in an Ordered group: canary pods reach the dependency’s stable Service, which never lags', () => {
    const p = run({ g: { strategy: 'Ordered' } });
    expect(loanWrites(p.actions)).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'canary', metadata: { canaryMetadata: stableAddress, stableMetadata: stableAddress } }]);
  });

});

describe('a blue-green dependent’s preview address, as a canary one’s: Argo points a preview Service at the new pods at once', () => {
  const given = { ...givenBlueGreenLoan };
  function bg(opts: { g?: Partial<GroupInput>; interest?: Partial<BlueGreenState>; loan?: Partial<BlueGreenState>; endpoints?: Map<string, ServiceEndpoints> }) {
    const o = observed(group({ members: loanDependsOnInterest, ...opts.g }), [
      blueGreen({ name: 'interest', stable: 'i1', ...opts.interest }),
      blueGreen({ name: 'loan', stable: 'l1', ...steadyBlueGreenLoan, ...opts.loan }),
    ]);
    return plan({ ...o, ...(opts.endpoints ? { endpoints: opts.endpoints } : {}) });
  }
  const previewAddress = { [KEY]: url('interest-preview') };

  it('is absent outside a release, and taken off once the release is over', () => {
    expect(loanWrites(bg({}).actions)).toEqual([]);
    expect(loanWrites(bg({ loan: given }).actions)).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'blueGreen', metadata: { activeMetadata: given.activeMetadata } }]);
  });

  it('is withheld while interest-preview lists new interest’s pods not yet ready, and until the settle delay has run since it lists only them', () => {
    const at = (endpoints: Map<string, ServiceEndpoints>) =>
      bg({ g: { status: gating() }, interest: { desired: 'i2', previewAvailable: false }, loan: { desired: 'l2', previewAvailable: false }, endpoints });
    expect(loanWrites(at(new Map([['interest-preview', { replicaSets: ['interest-i2'], ready: false, seenAt: T0 - 60_000 }]])).actions)).toEqual([]);
    const fresh = at(new Map([['interest-preview', slices(['interest-i2'], 1_000)]]));
    expect(loanWrites(fresh.actions)).toEqual([]);
    expect(fresh.requeueAfterMs).toBe(2_000);
    expect(loanWrites(at(new Map([['interest-preview', slices(['interest-i2'], 3_000)]])).actions)).toEqual([
      { kind: 'ApplyMetadata', rollout: 'loan', strategy: 'blueGreen', metadata: { previewMetadata: previewAddress, activeMetadata: given.activeMetadata } },
    ]);
  });

  it('holds the gate while it is withheld, though loan’s new pods are ready without it (an app that needs no address)', () => {
    const at = (seenAgoMs: number, loan: Partial<BlueGreenState> = {}) =>
      bg({ g: { status: gating() }, interest: { desired: 'i2' }, loan: { desired: 'l2', ...loan }, endpoints: new Map([['interest-preview', slices(['interest-i2'], seenAgoMs)]]) });
    const held = at(1_000);
    expect(held.status?.release?.readyAt).toBeUndefined();
    expect(held.status?.conditions.find((c) => c.type === 'Ready')?.message).toContain('waiting for loan');
    // Given now, but not yet on loan's Rollout: the gate waits for the write too.
    const writing = at(3_000);
    expect(loanWrites(writing.actions)).toHaveLength(1);
    expect(writing.status?.release?.readyAt).toBeUndefined();
    expect(at(3_000, given).status?.release?.readyAt).toBeDefined();
  });

  it('is kept by pods born with it once Git moved every member past a release cut over in part (the dependency’s preview on newer pods)', () => {
    // loan went live on l2; Git then moved both on. The release is over (Aborted) without a rollback,
    // and loan's l3 pods were born with the address: taking it would make them unready for nothing.
    const cut: StatusInput = { ...gating(), release: { ...gating().release!, state: 'CuttingOver', readyAt: iso, promotedAt: iso, promotedMembers: ['loan'], pinned: ['loan@l2'] } };
    const p = bg({ g: { status: cut }, interest: { desired: 'i3' }, loan: { ...given, stable: 'l2', desired: 'l3' } });
    expect(p.status?.release?.state).toBe('Aborted');
    expect(loanWrites(p.actions)).toEqual([]);
  });
});
