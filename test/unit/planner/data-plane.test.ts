/** The data plane (data-plane.ts): pins and promotions wait until the nodes route a Service to the right pods alone. */
import { describe, expect, it } from 'vitest';
import { plan } from '../../../src/planner/plan.ts';
import { servesOnly, type ServiceEndpoints } from '../../../src/planner/data-plane.ts';
import type { Action } from '../../../src/planner/plan-types.ts';
import { T0, blueGreen, group, observed, url, INTEREST_KEY, loanDependsOnInterest, loanInterestRelease, type StatusInput } from '../../fixtures/builders.ts';

const KEY = INTEREST_KEY;
const PIN = `pin.${KEY}`;
const iso = new Date(T0 - 60_000).toISOString();
const loanWiring = {
  previewMetadata: { [KEY]: url('interest-preview') },
  activeMetadata: { [KEY]: url('interest-active') },
  owned: { previewMetadata: [KEY], activeMetadata: [KEY] },
};
const targets = [
  { rollout: 'interest', revision: 'i2', from: 'i1' },
  { rollout: 'loan', revision: 'l2', from: 'l1' },
];
const slices = (replicaSets: string[], seenAgoMs: number): ServiceEndpoints => ({ replicaSets, ready: true, seenAt: T0 - seenAgoMs });
const unpins = (actions: readonly Action[]) => actions.filter((a) => a.kind === 'Pin' && Object.values(a.annotations).every((v) => v === null));

describe('servesOnly', () => {
  it('is settled for a Service with no slice (not observable), and once the slices list only that ReplicaSet for the settle delay', () => {
    expect(servesOnly(undefined, 'interest-i2', T0, 3_000)).toEqual({ settled: true });
    expect(servesOnly(slices(['interest-i2'], 3_000), 'interest-i2', T0, 3_000)).toEqual({ settled: true });
  });

  it('is not while another ReplicaSet is listed or none is ready (a watch event ends that), nor before the delay has run (a requeue does)', () => {
    expect(servesOnly(slices(['interest-i1', 'interest-i2'], 60_000), 'interest-i2', T0, 3_000)).toEqual({ settled: false, inMs: undefined });
    expect(servesOnly({ replicaSets: ['interest-i2'], ready: false, seenAt: 0 }, 'interest-i2', T0, 3_000)).toEqual({ settled: false, inMs: undefined });
    expect(servesOnly(slices(['interest-i2'], 1_000), 'interest-i2', T0, 3_000)).toEqual({ settled: false, inMs: 2_000 });
  });
});

describe('a Lockstep release and its data plane', () => {
  // Both promoted (the object level); interest's previous ReplicaSet already scaled down (a basic canary).
  const cutover: StatusInput = {
    phase: 'Promoting',
    members: [],
    conditions: [],
    release: { state: 'CuttingOver', id: loanInterestRelease, targets, startedAt: iso, readyAt: iso, promotedAt: iso, promotedMembers: ['loan', 'interest'], pinned: ['loan@l2'] },
  };
  const complete = (endpoints: Map<string, ServiceEndpoints>) =>
    plan({
      ...observed(group({ members: loanDependsOnInterest, status: cutover }), [blueGreen({ name: 'interest', stable: 'i2' }), blueGreen({ name: 'loan', stable: 'l2', ...loanWiring })]),
      endpoints,
    });

  it('keeps new loan’s pins while interest-active’s slices still list the previous pods, and until the settle delay has run since they list only the new ones', () => {
    const listed = complete(new Map([['interest-active', slices(['interest-i1'], 60_000)]]));
    expect(unpins(listed.actions)).toEqual([]);
    expect(listed.status?.release?.pinned).toEqual(['loan@l2']);
    expect(listed.status?.message).toContain('pins kept until the previous pods of interest are gone and their active Services reach only the new ones');

    const fresh = complete(new Map([['interest-active', slices(['interest-i2'], 1_000)]]));
    expect(unpins(fresh.actions)).toEqual([]);
    expect(fresh.requeueAfterMs).toBe(2_000);

    const settled = complete(new Map([['interest-active', slices(['interest-i2'], 3_000)]]));
    expect(unpins(settled.actions)).toEqual([{ kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [PIN]: null } }]);
    expect(settled.status?.phase).toBe('Healthy');
  });

  it('promotes interest only once loan-active routes to new loan alone: old loan pods still reached through it call interest-active', () => {
    const status: StatusInput = { ...cutover, release: { ...cutover.release!, promotedMembers: ['loan'] } };
    const promote = (endpoints: Map<string, ServiceEndpoints>) =>
      plan({
        ...observed(group({ members: loanDependsOnInterest, status }), [blueGreen({ name: 'interest', stable: 'i1', desired: 'i2' }), blueGreen({ name: 'loan', stable: 'l2', ...loanWiring })]),
        endpoints,
      });
    const behind = promote(new Map([['loan-active', slices(['loan-l1', 'loan-l2'], 60_000)]]));
    expect(behind.actions.filter((a) => a.kind === 'Promote')).toEqual([]);
    expect(behind.status?.message).toContain("waiting for the nodes to route loan's active Service to the new pods alone before interest");
    const followed = promote(new Map([['loan-active', slices(['loan-l2'], 3_000)]]));
    expect(followed.actions.filter((a) => a.kind === 'Promote').map((a) => a.rollout)).toEqual(['interest']);
  });

  it('promotes loan only once interest-preview routes to new interest alone; its new pods (not live yet) are pinned meanwhile, so the handoff is the promote alone', () => {
    const cut = (pinned: string[] | undefined, endpoints: Map<string, ServiceEndpoints>) =>
      plan({
        ...observed(group({ members: loanDependsOnInterest, status: { ...cutover, release: { ...cutover.release!, promotedMembers: [], pinned } } }), [
          blueGreen({ name: 'interest', stable: 'i1', desired: 'i2' }),
          blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...loanWiring }),
        ]),
        endpoints,
      });
    const behind = new Map([['interest-preview', slices(['interest-i1'], 60_000)]]);
    // The pin gives loan's new pods the address their preview wiring already gives them: nothing they reach changes.
    const pinning = cut(undefined, behind);
    expect(pinning.actions.filter((a) => a.kind === 'Promote')).toEqual([]);
    expect(pinning.actions.filter((a) => a.kind === 'Pin').map((a) => a.annotations)).toEqual([{ [PIN]: url('interest-preview') }]);
    expect(loanWiring.previewMetadata[KEY]).toBe(url('interest-preview'));
    expect(pinning.status?.release?.pinned).toEqual(['loan@l2']);
    expect(pinning.requeueAfterMs).toBe(0);
    // Pinned and recorded: the promote waits for the data plane.
    const held = cut(['loan@l2'], behind);
    expect(held.actions.filter((a) => a.kind === 'Pin' || a.kind === 'Promote')).toEqual([]);
    expect(held.status?.message).toContain("waiting for the nodes to route interest's preview to the new pods alone before loan");
    const settling = cut(['loan@l2'], new Map([['interest-preview', slices(['interest-i2'], 1_000)]]));
    expect(settling.actions.filter((a) => a.kind === 'Promote')).toEqual([]);
    expect(settling.requeueAfterMs).toBe(2_000);
    const followed = cut(['loan@l2'], new Map([['interest-preview', slices(['interest-i2'], 3_000)]]));
    expect(followed.actions.filter((a) => a.kind === 'Pin' || a.kind === 'Promote').map((a) => `${a.kind} ${'rollout' in a ? a.rollout : ''}`)).toEqual(['Promote loan']);
  });

  it('promotes a member past its last barrier only once its active (stable) Service lists no terminating pod: without a ready one for a moment, the nodes send calls to those', () => {
    const status: StatusInput = { ...cutover, release: { ...cutover.release!, promotedMembers: [], pinned: ['loan@l2'] } };
    const cut = (endpoints: Map<string, ServiceEndpoints>) =>
      plan({
        ...observed(group({ members: loanDependsOnInterest, status }), [blueGreen({ name: 'interest', stable: 'i1', desired: 'i2' }), blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...loanWiring })]),
        endpoints,
      });
    const preview = slices(['interest-i2'], 60_000);
    const terminating = cut(new Map([['interest-preview', preview], ['loan-active', { ...slices(['loan-l1'], 60_000), terminating: true }]]));
    expect(terminating.actions.filter((a) => a.kind === 'Promote')).toEqual([]);
    expect(terminating.status?.message).toContain("waiting for the terminating pods of loan's active Service to be gone before loan");
    const gone = cut(new Map([['interest-preview', preview], ['loan-active', slices(['loan-l1'], 60_000)]]));
    expect(gone.actions.filter((a) => a.kind === 'Promote').map((a) => a.rollout)).toEqual(['loan']);
  });

  // interest's post-promotion analysis failed: Argo aborted it (interest-active back on i1, the object); loan is live on l2.
  const rollingBack = (pinned: string[]): StatusInput => ({
    phase: 'Degraded',
    members: [],
    conditions: [],
    release: { state: 'RollingBack', id: loanInterestRelease, targets, startedAt: iso, readyAt: iso, promotedAt: iso, promotedMembers: ['loan'], abortedAt: iso, abortReason: 'analysis failed', rolledBack: ['interest', 'loan'], pinned },
  });

  it('restores loan only once interest-active routes to interest’s previous pods again: they are what loan’s previous pods are pinned to', () => {
    const back = (endpoints: Map<string, ServiceEndpoints>) => {
      const l = blueGreen({ name: 'loan', stable: 'l2', desired: 'l2', activeSwitched: true, ...loanWiring });
      const previous = blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...loanWiring }).replicaSets.filter((rs) => rs.metadata.name === 'loan-l1');
      return plan({
        ...observed(group({ members: loanDependsOnInterest, status: rollingBack(['loan@l1', 'loan@l2']) }), [blueGreen({ name: 'interest', stable: 'i1', desired: 'i2', abort: true }), { ...l, replicaSets: [...l.replicaSets, ...previous] }]),
        endpoints,
      });
    };
    expect(back(new Map([['interest-active', slices(['interest-i2'], 60_000)]])).actions.filter((a) => a.kind === 'RestoreTemplate')).toEqual([]);
    expect(back(new Map([['interest-active', slices(['interest-i1'], 3_000)]])).actions.filter((a) => a.kind === 'RestoreTemplate').map((a) => a.revision)).toEqual(['l1']);
  });

  it('keeps new loan’s pin after loan-active is back on l1 (the object) while its slices still list the new pods', () => {
    const after = (endpoints: Map<string, ServiceEndpoints>) => {
      const l = blueGreen({ name: 'loan', stable: 'l1', desired: 'l1', ...loanWiring });
      const newer = blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...loanWiring }).replicaSets.filter((rs) => rs.metadata.name === 'loan-l2');
      return plan({
        ...observed(group({ members: loanDependsOnInterest, status: rollingBack(['loan@l2']) }), [blueGreen({ name: 'interest', stable: 'i1', desired: 'i2', abort: true }), { ...l, replicaSets: [...l.replicaSets, ...newer] }]),
        endpoints,
      });
    };
    expect(unpins(after(new Map([['loan-active', slices(['loan-l2'], 60_000)]])).actions)).toEqual([]);
    expect(unpins(after(new Map([['loan-active', slices(['loan-l1'], 3_000)]])).actions).map((a) => a.kind === 'Pin' && a.revision)).toEqual(['l2']);
  });

  it('takes that kept pin off l2’s template at once: Argo CD’s self-heal re-applying l2 would otherwise meet it as a hash collision', () => {
    const l = blueGreen({ name: 'loan', stable: 'l1', desired: 'l1', ...loanWiring });
    const newer = blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...loanWiring }).replicaSets.filter((rs) => rs.metadata.name === 'loan-l2');
    const pinned = newer.map((rs) => ({ ...rs, spec: { ...rs.spec, template: { ...rs.spec.template, metadata: { ...rs.spec.template?.metadata, annotations: { ...rs.spec.template?.metadata?.annotations, [PIN]: url('interest-preview') } } } } }));
    const p = plan({
      ...observed(group({ members: loanDependsOnInterest, status: rollingBack(['loan@l2']) }), [blueGreen({ name: 'interest', stable: 'i1', desired: 'i2', abort: true }), { ...l, replicaSets: [...l.replicaSets, ...pinned] }]),
      endpoints: new Map([['loan-active', slices(['loan-l2'], 60_000)]]),
    });
    expect(p.actions.filter((a) => a.kind === 'Pin')).toEqual([{ kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [PIN]: null }, templateOnly: true }]);
    expect(p.status?.release?.pinned).toEqual(['loan@l2']);
  });
});
