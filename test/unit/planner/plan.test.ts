import { describe, expect, it } from 'vitest';
import { REQUEST, type RolloutGroupStatus } from '../../../src/api/rolloutgroup.ts';
import { plan } from '../../../src/planner/plan.ts';
import { releaseId } from '../../../src/planner/release-id.ts';
import { T0, blueGreen, givenLoan, group, observed, steadyLoan, url, type BlueGreenState, type GroupInput, type ReleaseInput, type StatusInput } from '../../fixtures/builders.ts';

const KEY = 'tandem.dev/interest-url';
const loanDependsOnInterest = [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: [{ rollout: 'interest' }] }];
const repointedLoan = { ...givenLoan, activeMetadata: { [KEY]: url('interest-preview') } };
const release = releaseId([
  { rollout: 'interest', revision: 'i2' },
  { rollout: 'loan', revision: 'l2' },
]);

function run(g: Partial<GroupInput>, interest: Partial<BlueGreenState>, loan: Partial<BlueGreenState>, now = T0) {
  const grp = group({ members: loanDependsOnInterest, ...g });
  return plan(
    observed(grp, [blueGreen({ name: 'interest', stable: 'i1', ...interest }), blueGreen({ name: 'loan', stable: 'l1', ...(g.status?.release ? givenLoan : steadyLoan), ...loan })], { now }),
  );
}

const inFlight = (extra: ReleaseInput = {}): StatusInput => ({
  phase: 'Progressing',
  members: [],
  conditions: [],
  release: {
    id: release,
    targets: [
      { rollout: 'interest', revision: 'i2' },
      { rollout: 'loan', revision: 'l2' },
    ],
    startedAt: new Date(T0).toISOString(),
    promotedMembers: [],
    ...extra,
  },
});
const gateOpen = (promotedMembers: string[] = []) =>
  inFlight({ readyAt: new Date(T0).toISOString(), promotedAt: new Date(T0).toISOString(), promotedMembers });
/** The gate open and loan's new pods pinned to interest's preview. */
const pinnedOpen = (promotedMembers: string[] = []) => inFlight({ readyAt: new Date(T0).toISOString(), promotedAt: new Date(T0).toISOString(), promotedMembers, pinned: ['loan@l2'] });
const PIN = `pin.${KEY}`;

describe('steady state', () => {
  it('is Healthy with nothing to do when every member is stable and wired', () => {
    const p = run({}, {}, {});
    expect(p.actions).toEqual([]);
    expect(p.status?.phase).toBe('Healthy');
    expect(p.status?.release).toBeUndefined();
    expect(p.status?.readyMembers).toBe('2/2');
    expect(p.status?.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Stable'],
      ['SpecValid', 'True', 'Valid'],
    ]);
    expect(p.status?.members.map((m) => m.state)).toEqual(['Stable', 'Stable']);
  });

  it('wires a dependent: active pods to the active Service, preview pods to none outside a release (preview-hold.ts)', () => {
    const p = run({}, {}, { previewMetadata: undefined, activeMetadata: undefined, owned: {} });
    expect(p.actions).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'blueGreen', metadata: { activeMetadata: { [KEY]: url('interest-active') } } }]);
  });

  it('honours annotation, port, scheme and path of a dependency, and role annotations', () => {
    const grp = group({
      members: [
        { rollout: 'interest' },
        {
          rollout: 'loan',
          dependsOn: [{ rollout: 'interest', annotation: 'acme.io/backend', port: 'http', scheme: 'https', path: '/api' }],
          roleAnnotations: { preview: { 'tandem.dev/queue': 'loans-preview' }, active: { 'tandem.dev/queue': 'loans' } },
        },
      ],
    });
    const p = plan(observed(grp, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1' })]));
    expect(p.actions).toContainEqual({
      kind: 'ApplyMetadata',
      rollout: 'loan',
      strategy: 'blueGreen',
      metadata: {
        previewMetadata: { 'tandem.dev/queue': 'loans-preview' },
        activeMetadata: { 'tandem.dev/queue': 'loans', 'acme.io/backend': 'https://interest-active.shop.svc.cluster.local:8080/api' },
      },
    });
  });

  it('releases a key Tandem owns but no longer wants', () => {
    const p = run({}, {}, { owned: { previewMetadata: [KEY, 'tandem.dev/old-url'], activeMetadata: [KEY] } });
    expect(p.actions.map((a) => a.kind)).toEqual(['ApplyMetadata']);
  });

  it('is Progressing while Argo has yet to observe a member: it cannot tell Tandem’s own write from a new release', () => {
    const healthy: RolloutGroupStatus = { phase: 'Healthy', members: [], conditions: [] };
    const p = run({ status: healthy }, {}, { generation: 2, observedGeneration: 1 });
    expect(p.status?.phase).toBe('Progressing');
    expect(p.status?.message).toBe('waiting for Argo Rollouts to observe loan');
    expect(p.actions).toEqual([]);
  });

  it('adds its finalizer before anything else', () => {
    const p = run({ finalizers: [] }, {}, { previewMetadata: undefined, activeMetadata: undefined, owned: {} });
    expect(p.actions.map((a) => a.kind)).toEqual(['AddFinalizer', 'ApplyMetadata']);
  });
});

describe('a release before the gate', () => {
  it('starts when a member changes and waits while members are not ready', () => {
    const p = run({}, { desired: 'i2', previewAvailable: false }, {});
    expect(p.status?.phase).toBe('Progressing');
    expect(p.status?.release).toMatchObject({ id: releaseId([{ rollout: 'interest', revision: 'i2' }]), targets: [{ rollout: 'interest', revision: 'i2' }] });
    expect(p.events.map((e) => e.reason)).toEqual(['ReleaseStarted']);
    // loan's preview pods may reach interest's preview: it selects interest's new pods (no EndpointSlices observed: the Service object decides, data-plane.ts).
    expect(p.actions).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'blueGreen', metadata: { previewMetadata: givenLoan.previewMetadata, activeMetadata: givenLoan.activeMetadata } }]);
    expect(p.status?.members.find((m) => m.rollout === 'interest')?.state).toBe('Deploying');
    expect(p.requeueAfterMs).toBeGreaterThan(0);
  });

  it('is Paused once every changed member is ready, and waits for a promote request', () => {
    const p = run({ status: inFlight() }, { desired: 'i2' }, { desired: 'l2' });
    expect(p.status?.phase).toBe('Paused');
    expect(p.status?.message).toContain('waiting for promote');
    expect(p.status?.release?.readyAt).toBe(new Date(T0).toISOString());
    expect(p.events.map((e) => e.reason)).toEqual(['ReleaseReady']);
    expect(p.actions).toEqual([]);
    expect(p.status?.conditions.find((c) => c.type === 'Ready')?.reason).toBe('AwaitingPromotion');
  });

  it('does not count a paused member whose preview ReplicaSet lost availability', () => {
    const p = run({ status: inFlight() }, { desired: 'i2', paused: true, previewAvailable: false }, { desired: 'l2' });
    expect(p.status?.phase).toBe('Progressing');
    expect(p.status?.readyMembers).toBe('1/2');
  });

  it('opens the gate on a promote request for this release, without touching a Rollout in the same step', () => {
    const p = run({ status: inFlight({ readyAt: new Date(T0).toISOString() }), annotations: { [REQUEST.promote]: release } }, { desired: 'i2' }, { desired: 'l2' });
    expect(p.status?.release?.promotedAt).toBe(new Date(T0).toISOString());
    expect(p.status?.phase).toBe('Promoting');
    expect(p.handledRequests).toEqual([{ annotation: REQUEST.promote, value: release }]);
    expect(p.events.map((e) => e.reason)).toEqual(['PromotionStarted']);
    expect(p.actions).toEqual([]);
    expect(p.requeueAfterMs).toBe(0);
  });

  it('refuses a promote request for another release and removes it', () => {
    const p = run({ status: inFlight({ readyAt: new Date(T0).toISOString() }), annotations: { [REQUEST.promote]: 'abc123' } }, { desired: 'i2' }, { desired: 'l2' });
    expect(p.status?.release?.promotedAt).toBeUndefined();
    expect(p.handledRequests).toEqual([{ annotation: REQUEST.promote, value: 'abc123' }]);
    expect(p.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'PromoteRefused' }));
  });

  it('refuses a promote request when no release is in flight', () => {
    const p = run({ annotations: { [REQUEST.promote]: 'abc123' } }, {}, {});
    expect(p.handledRequests).toEqual([{ annotation: REQUEST.promote, value: 'abc123' }]);
    expect(p.events.map((e) => e.reason)).toEqual(['PromoteRefused']);
  });

  it('keeps an early promote request for this release until the release is ready', () => {
    const p = run({ status: inFlight(), annotations: { [REQUEST.promote]: release } }, { desired: 'i2', previewAvailable: false }, { desired: 'l2' });
    expect(p.handledRequests).toEqual([]);
    expect(p.status?.release?.promotedAt).toBeUndefined();
  });

  it('promotes automatically once the release has soaked', () => {
    const readyAt = new Date(T0).toISOString();
    const soaking = run({ auto: true, soakSeconds: 30, status: inFlight({ readyAt }) }, { desired: 'i2' }, { desired: 'l2' }, T0 + 10_000);
    expect(soaking.status?.phase).toBe('Paused');
    expect(soaking.status?.release?.promotedAt).toBeUndefined();
    expect(soaking.requeueAfterMs).toBe(20_000);
    const soaked = run({ auto: true, soakSeconds: 30, status: inFlight({ readyAt }) }, { desired: 'i2' }, { desired: 'l2' }, T0 + 30_000);
    expect(soaked.status?.release?.promotedAt).toBe(new Date(T0 + 30_000).toISOString());
  });

  it('starts over when a member changes again mid-release', () => {
    const p = run({ status: inFlight({ readyAt: new Date(T0).toISOString() }) }, { desired: 'i3' }, { desired: 'l2' });
    const id = releaseId([
      { rollout: 'interest', revision: 'i3' },
      { rollout: 'loan', revision: 'l2' },
    ]);
    expect(p.status?.release?.id).toBe(id);
    expect(p.status?.release?.readyAt).toBe(new Date(T0).toISOString()); // ready again, at once, for the new id
    expect(p.events.map((e) => e.reason)).toEqual(['ReleaseStarted', 'ReleaseReady']);
    expect(p.events[0]?.message).toContain(`replaces release ${release}`);
  });
});

describe('cutover, dependents first', () => {
  it('pins the dependent’s new pods to its changed dependency’s preview before promoting it, leaving the role metadata alone', () => {
    const p = run({ status: gateOpen() }, { desired: 'i2' }, { desired: 'l2' });
    expect(p.actions).toEqual([{ kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [PIN]: url('interest-preview') } }]);
    expect(p.status?.release?.pinned).toEqual(['loan@l2']);
    expect(p.status?.phase).toBe('Promoting');
    expect(p.status?.members.find((m) => m.rollout === 'loan')?.state).toBe('Promoting');
  });

  it('promotes the dependent once its pin is recorded', () => {
    const p = run({ status: pinnedOpen() }, { desired: 'i2' }, { desired: 'l2' });
    expect(p.actions).toEqual([{ kind: 'Promote', rollout: 'loan', resourceVersion: 'rv-loan-l2' }]);
  });

  it('undoes a repoint left by an earlier version (role metadata now always points at the active side)', () => {
    const p = run({ status: pinnedOpen() }, { desired: 'i2' }, { desired: 'l2', ...repointedLoan });
    expect(p.actions).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'blueGreen', metadata: { previewMetadata: givenLoan.previewMetadata, activeMetadata: givenLoan.activeMetadata } }]);
  });

  it('never promotes or unpauses a member a person holds (spec.paused): reports the hold and waits (§4b)', () => {
    const p = run({ status: gateOpen() }, { desired: 'i2' }, { desired: 'l2', specPaused: true });
    expect(p.actions).toEqual([]);
    expect(p.status?.phase).toBe('Paused');
    expect(p.status?.conditions.find((c) => c.type === 'Ready')?.reason).toBe('WaitingForPerson');
    expect(p.status?.message).toContain('loan is paused by a person (spec.paused)');
    expect(p.status?.release?.held).toEqual(['loan']);
    expect(p.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'MemberHeld' }));
  });

  it('waits while Argo acts on the promote, without promoting anything', () => {
    const p = run({ status: { ...pinnedOpen(), phase: 'Paused' } }, { desired: 'i2' }, { desired: 'l2', unpausing: true });
    expect(p.actions).toEqual([]);
    expect(p.requeueAfterMs).toBe(1_000);
    expect(p.status?.phase).toBe('Promoting');
  });

  it('leaves spec.paused alone on a member promoted and then paused by a person', () => {
    const p = run({ status: pinnedOpen() }, { desired: 'i2' }, { desired: 'l2', paused: false, specPaused: true });
    expect(p.actions).toEqual([]);
    expect(p.status?.release?.held).toEqual(['loan']);
  });

  it('neither repoints nor promotes while another changed member is not ready', () => {
    const p = run({ status: gateOpen() }, { desired: 'i2', paused: true, previewAvailable: false }, { desired: 'l2' });
    expect(p.actions).toEqual([]);
    expect(p.status?.message).toContain('waiting for interest to be ready again before loan');
  });

  it('waits while the dependent’s active Service switches', () => {
    const p = run({ status: pinnedOpen() }, { desired: 'i2' }, { desired: 'l2', activeSwitched: true, paused: false });
    expect(p.actions).toEqual([]);
    expect(p.status?.phase).toBe('Promoting');
  });

  it('records the promoted dependent first, without moving the next member in the same step', () => {
    const p = run({ status: pinnedOpen() }, { desired: 'i2' }, { stable: 'l2', desired: 'l2', activeSwitched: true });
    expect(p.actions).toEqual([]);
    expect(p.status?.release?.promotedMembers).toEqual(['loan']);
    expect(p.events.map((e) => e.reason)).toEqual(['MemberPromoted']);
    expect(p.requeueAfterMs).toBe(0);
  });

  it('then promotes the dependency, recording the dependent once', () => {
    const p = run({ status: pinnedOpen(['loan']) }, { desired: 'i2' }, { stable: 'l2', desired: 'l2', activeSwitched: true });
    expect(p.actions).toEqual([{ kind: 'Promote', rollout: 'interest', resourceVersion: 'rv-interest-i2' }]);
    expect(p.events).toEqual([]);
    expect(p.status?.release?.promotedMembers).toEqual(['loan']);
  });

  it('completes: removes the pins (the active side is the new revision now), drops the release, Healthy', () => {
    const p = run({ status: pinnedOpen(['loan']) }, { stable: 'i2', desired: 'i2', activeSwitched: true }, { stable: 'l2', desired: 'l2', activeSwitched: true });
    // Out of the release, loan's preview pods lose interest's preview address, so the next release's ReplicaSet is born without it.
    expect(p.actions).toEqual([
      { kind: 'ApplyMetadata', rollout: 'loan', strategy: 'blueGreen', metadata: { activeMetadata: steadyLoan.activeMetadata } },
      { kind: 'Pin', rollout: 'loan', replicaSet: 'loan-l2', revision: 'l2', annotations: { [PIN]: null } },
    ]);
    expect(p.status?.phase).toBe('Healthy');
    expect(p.status?.release).toBeUndefined();
    expect(p.events.map((e) => e.reason)).toEqual(['MemberPromoted', 'ReleaseCompleted']);
  });

  it('rolls the live dependent back when Git reverts its dependency mid-cutover: no completion announced (§4b)', () => {
    const p = run({ status: pinnedOpen(['loan']) }, {}, { stable: 'l2', desired: 'l2', activeSwitched: true });
    expect(p.status?.release?.state).toBe('RollingBack');
    expect(p.status?.release?.abortReason).toContain('superseded: interest@i1 arrived before interest was promoted');
    expect(p.events.map((e) => e.reason)).not.toContain('ReleaseCompleted');
    expect(p.events.map((e) => e.reason)).toContain('ReleaseRolledBack');
  });

  it('promotes only changed members: an unchanged dependent is not repointed or promoted', () => {
    const status = { ...gateOpen(), release: { ...gateOpen().release!, id: 'x', targets: [{ rollout: 'interest', revision: 'i2' }] } };
    const p = run({ status }, { desired: 'i2' }, {});
    expect(p.actions).toEqual([{ kind: 'Promote', rollout: 'interest', resourceVersion: 'rv-interest-i2' }]);
  });
});

describe('failure and abort', () => {
  it('aborts every changed member when one fails before cutover', () => {
    const p = run({ status: inFlight() }, { desired: 'i2', abort: true }, { desired: 'l2' });
    expect(p.actions).toEqual([{ kind: 'Abort', rollout: 'loan', resourceVersion: 'rv-loan-l2' }]);
    expect(p.status?.phase).toBe('Degraded');
    expect(p.status?.message).toContain('interest failed');
    expect(p.status?.release?.abortedAt).toBe(new Date(T0).toISOString());
    expect(p.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'ReleaseAborted' }));
    expect(p.status?.members.map((m) => m.state)).toEqual(['Failed', 'Failed']);
  });

  it('aborts when the release is not ready by its deadline', () => {
    const p = run({ status: inFlight(), progressDeadlineSeconds: 60 }, { desired: 'i2', previewAvailable: false }, { desired: 'l2' }, T0 + 61_000);
    expect(p.actions.map((a) => a.kind)).toEqual(['Abort', 'Abort']);
    expect(p.status?.message).toContain('not ready within 60s: waiting for interest');
  });

  it('does not abort a release that was ready in time and dips while waiting at the gate', () => {
    const ready = inFlight({ firstReadyAt: new Date(T0).toISOString(), readyAt: new Date(T0).toISOString() });
    const p = run({ status: ready, progressDeadlineSeconds: 60 }, { desired: 'i2', paused: true, previewAvailable: false }, { desired: 'l2' }, T0 + 3_600_000);
    expect(p.actions).toEqual([]);
    expect(p.status?.phase).toBe('Progressing');
    expect(p.status?.release?.readyAt).toBeUndefined();
    expect(p.status?.release?.firstReadyAt).toBe(new Date(T0).toISOString());
  });

  it('wakes up at the deadline', () => {
    const p = run({ status: inFlight(), progressDeadlineSeconds: 5 }, { desired: 'i2', previewAvailable: false }, { desired: 'l2' }, T0 + 2_000);
    expect(p.requeueAfterMs).toBe(3_000);
  });

  it('aborts on an abort request and removes the request', () => {
    const p = run({ status: inFlight(), annotations: { [REQUEST.abort]: 'bad data' } }, { desired: 'i2' }, { desired: 'l2' });
    expect(p.actions.map((a) => a.kind)).toEqual(['Abort', 'Abort']);
    expect(p.handledRequests).toEqual([{ annotation: REQUEST.abort, value: 'bad data' }]);
    expect(p.status?.message).toContain('abort requested: bad data');
  });

  it('refuses and removes an abort request when no release is in flight', () => {
    const p = run({ annotations: { [REQUEST.abort]: 'oops' } }, {}, {});
    expect(p.handledRequests).toEqual([{ annotation: REQUEST.abort, value: 'oops' }]);
    expect(p.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'AbortRefused' })]);
  });

  it('takes an abort request after a member went live: aborts the rest and marks the live one for rollback', () => {
    const p = run({ status: pinnedOpen(['loan']), annotations: { [REQUEST.abort]: 'stop' } }, { desired: 'i2' }, { stable: 'l2', desired: 'l2', activeSwitched: true });
    // loan's live new pods keep reaching interest's new pods (its preview) until loan is rolled back.
    expect(p.actions).toEqual([{ kind: 'Abort', rollout: 'interest', resourceVersion: 'rv-interest-i2' }]);
    expect(p.handledRequests).toEqual([{ annotation: REQUEST.abort, value: 'stop' }]);
    expect(p.status?.release?.rolledBack).toEqual(['loan']);
    expect(p.status?.phase).toBe('Degraded');
    expect(p.events.map((e) => [e.type, e.reason])).toEqual([
      ['Warning', 'ReleaseAborted'],
      ['Warning', 'ReleaseRolledBack'],
    ]);
    expect(p.events[1]!.message).toContain('Git still declares l2');
  });

  it('stays Degraded without aborting twice', () => {
    const aborted = inFlight({ abortedAt: new Date(T0).toISOString(), abortReason: 'member interest failed' });
    const p = run({ status: aborted }, { desired: 'i2', abort: true }, { desired: 'l2', abort: true });
    expect(p.actions).toEqual([]);
    expect(p.events).toEqual([]);
    expect(p.status?.phase).toBe('Degraded');
  });

  it('is Healthy again once Git goes back to the stable revisions', () => {
    const aborted = inFlight({ abortedAt: new Date(T0).toISOString(), abortReason: 'x' });
    const p = run({ status: aborted }, {}, {});
    expect(p.status?.phase).toBe('Healthy');
    expect(p.status?.release).toBeUndefined();
    expect(p.events).toEqual([]);
  });
});

describe('hands off', () => {
  it('waits for Argo to observe a spec change before deciding anything', () => {
    const p = run({ status: gateOpen() }, { desired: 'i2' }, { desired: 'l2', ...repointedLoan, generation: 5, observedGeneration: 4 });
    expect(p.actions.filter((a) => a.kind !== 'ApplyMetadata')).toEqual([]);
    expect(p.requeueAfterMs).toBe(1_000);
    expect(p.status?.release).toEqual({ ...gateOpen().release, state: 'CuttingOver' });
  });

  it('a paused group changes nothing but reports what it sees', () => {
    const p = run({ paused: true, status: inFlight({ readyAt: new Date(T0).toISOString() }), annotations: { [REQUEST.promote]: release } }, { desired: 'i2' }, { desired: 'l2', previewMetadata: undefined, owned: {} });
    expect(p.actions).toEqual([]);
    expect(p.handledRequests).toEqual([]);
    expect(p.status?.release?.promotedAt).toBeUndefined();
    expect(p.status?.message).toMatch(/^paused: observing only/);
    expect(p.status?.conditions.find((c) => c.type === 'Ready')?.reason).toBe('GroupPaused');
  });

  it('a paused group does not abort a failed release, nor record or announce anything', () => {
    const p = run({ paused: true, status: inFlight(), progressDeadlineSeconds: 1 }, { desired: 'i2', abort: true }, { desired: 'l2' }, T0 + 60_000);
    expect(p.actions).toEqual([]);
    expect(p.events).toEqual([]);
    expect(p.status?.release).toEqual({ ...inFlight().release, state: 'Gating' });
  });

  it('a paused group leaves a refused promote request for later', () => {
    const p = run({ paused: true, annotations: { [REQUEST.promote]: 'abc' } }, {}, {});
    expect(p.handledRequests).toEqual([]);
    expect(p.events).toEqual([]);
  });
});

describe('a member removed from the spec', () => {
  const formerLoan = (peers: { name: string; creationTimestamp: string; members: string[] }[] = []) => {
    const grp = group({
      members: [{ rollout: 'interest' }],
      status: { members: [{ rollout: 'interest', images: [], state: 'Stable' }, { rollout: 'loan', images: [], state: 'Stable' }], conditions: [] },
    });
    return plan(observed(grp, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1', ...steadyLoan })], { peers }));
  };

  it('gets Tandem’s keys released, and is forgotten', () => {
    const p = formerLoan();
    expect(p.actions).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'blueGreen', metadata: {} }]);
    expect(p.status?.members.map((m) => m.rollout)).toEqual(['interest']);
  });

  it('is left alone when another group lists it, older or younger', () => {
    expect(formerLoan([{ name: 'older', creationTimestamp: '2025-01-01T00:00:00Z', members: ['loan'] }]).actions).toEqual([]);
    expect(formerLoan([{ name: 'younger', creationTimestamp: '2026-06-01T00:00:00Z', members: ['loan'] }]).actions).toEqual([]);
  });

  it('is remembered while the group cannot release it (paused)', () => {
    const grp = group({
      members: [{ rollout: 'interest' }],
      paused: true,
      status: { members: [{ rollout: 'interest', images: [], state: 'Stable' }, { rollout: 'loan', images: [], state: 'Stable' }], conditions: [] },
    });
    const p = plan(observed(grp, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1', ...steadyLoan })]));
    expect(p.actions).toEqual([]);
    expect(p.status?.members.map((m) => m.rollout)).toEqual(['interest', 'loan']);
  });
});

describe('deletion', () => {
  it('removes Tandem’s keys from members, then the finalizer', () => {
    const p = run({ deletionTimestamp: '2026-01-01T00:00:00Z' }, {}, {});
    expect(p.actions).toEqual([
      { kind: 'ApplyMetadata', rollout: 'loan', strategy: 'blueGreen', metadata: {} },
      { kind: 'RemoveFinalizer' },
    ]);
    expect(p.status).toBeUndefined();
  });

  it('leaves a Rollout that an older group owns', () => {
    const grp = group({ members: loanDependsOnInterest, deletionTimestamp: '2026-01-01T00:00:00Z', creationTimestamp: '2025-12-02T00:00:00Z' });
    const p = plan(
      observed(grp, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1', ...steadyLoan })], {
        peers: [{ name: 'older', creationTimestamp: '2025-11-01T00:00:00Z', members: ['loan'] }],
      }),
    );
    expect(p.actions).toEqual([{ kind: 'RemoveFinalizer' }]);
  });

  it('leaves a Rollout that a younger group also lists', () => {
    const grp = group({ members: loanDependsOnInterest, deletionTimestamp: '2026-01-01T00:00:00Z' });
    const p = plan(
      observed(grp, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1', ...steadyLoan })], {
        peers: [{ name: 'younger', creationTimestamp: '2026-06-01T00:00:00Z', members: ['loan'] }],
      }),
    );
    expect(p.actions).toEqual([{ kind: 'RemoveFinalizer' }]);
  });

  it('does nothing once its finalizer is gone', () => {
    const p = run({ deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [] }, {}, {});
    expect(p.actions).toEqual([]);
  });

  it('releases a former member removed from the spec when the group goes', () => {
    const grp = group({
      members: [{ rollout: 'interest' }],
      deletionTimestamp: '2026-01-01T00:00:00Z',
      status: { members: [{ rollout: 'interest', images: [], state: 'Stable' }, { rollout: 'loan', images: [], state: 'Stable' }], conditions: [] },
    });
    const p = plan(observed(grp, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1', ...steadyLoan })]));
    expect(p.actions).toEqual([{ kind: 'ApplyMetadata', rollout: 'loan', strategy: 'blueGreen', metadata: {} }, { kind: 'RemoveFinalizer' }]);
  });
});
