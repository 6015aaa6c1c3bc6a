/** The reconciler's act step against a fake gateway: the order of writes, a 409, a cache behind our write. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { RolloutView } from '../../../src/api/rollout.ts';
import { Reconciler } from '../../../src/controller/reconciler.ts';
import { SETTLE_MS } from '../../../src/planner/plan.ts';
import { KubeError } from '../../../src/kube/errors.ts';
import type { KubeGateway } from '../../../src/kube/gateway.ts';
import { NS, T0, blueGreen, group, loanDependsOnInterest, loanInterestRelease, services, givenLoan, steadyLoan, type StatusInput } from '../../fixtures/builders.ts';
import { AnalysisTemplate } from '../../../src/api/analysis.ts';


/** The gateway's reads from fixed caches, its writes recorded in order (and failing where asked). */
class FakeGateway {
  readonly calls: string[] = [];
  /** The resourceVersion each write returned, by call. */
  readonly versions = new Map<string, string>();
  groupRaw: Record<string, unknown>;
  rollouts: Map<string, RolloutView>;
  replicaSets: ReturnType<typeof blueGreen>['replicaSets'];
  failRequestRemoval = false;
  rv = 200;

  constructor(groupRaw: Record<string, unknown>, members: ReturnType<typeof blueGreen>[]) {
    this.groupRaw = groupRaw;
    this.rollouts = new Map(members.map((m) => [m.view.rollout.metadata.name, m.view]));
    this.replicaSets = members.flatMap((m) => m.replicaSets);
  }

  getGroup = () => this.groupRaw;
  getRollout = (_ns: string, name: string) => this.rollouts.get(name);
  listServices = () => [...services('interest', 'loan').values()];
  getService = (_ns: string, name: string) => services('interest', 'loan').get(name);
  listReplicaSets = () => this.replicaSets;
  /** No EndpointSlices: the data plane is not observable here (data-plane.ts). */
  serviceEndpoints = () => undefined;
  listGroups = () => [this.groupRaw];
  private readonly waiters: { what: string; times: number; resolve: () => void }[] = [];
  /** Resolves once `what` has been called `times` times (no timing: the fake's own record). */
  reached(what: string, times = 1): Promise<void> {
    const count = () => this.calls.filter((c) => c === what).length;
    if (count() >= times) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ what, times, resolve }));
  }
  private write = (what: string) => {
    this.calls.push(what);
    for (const w of this.waiters.filter((w) => this.calls.filter((c) => c === w.what).length >= w.times)) w.resolve();
    this.versions.set(what, String(++this.rv));
    return Promise.resolve(String(this.rv));
  };
  failStatus = false;
  /** Returns the group as the API server would store it, as the gateway does. */
  patchGroupStatus = (_ns: string, _name: string, _rv: string, _from: unknown, to: unknown) => {
    if (this.failStatus) {
      this.calls.push('status: 409');
      return Promise.reject(new KubeError('conflict', 409, 'Conflict'));
    }
    return this.write('status').then((rv) => ({ ...this.groupRaw, metadata: { ...(this.groupRaw['metadata'] as object), resourceVersion: rv }, status: to }));
  };
  patchGroupMetadata = (_ns: string, _name: string, _rv: string, metadata: Record<string, unknown>) => {
    if ('finalizers' in metadata) return this.write('finalizer');
    if (this.failRequestRemoval) {
      this.calls.push('remove request: 409');
      return Promise.reject(new KubeError('conflict', 409, 'Conflict'));
    }
    return this.write(`remove ${Object.keys(metadata['annotations'] as object).join(',')}`);
  };
  createEvent = (_g: unknown, e: { reason: string }) => this.write(`event ${e.reason}`);
  applyRolloutMetadata = (_ns: string, name: string) => this.write(`metadata ${name}`);
  patchRolloutStatus = (_ns: string, name: string) => this.write(`status of ${name}`);
  pinRevision = (_ns: string, rs: string) => this.write(`pin ${rs}`).then(() => undefined);
  nudgeRollout = (_ns: string, name: string) => this.write(`nudge ${name}`).then(() => undefined);
  replaceRolloutTemplate = (_ns: string, name: string) => this.write(`template ${name}`);
  readonly analysisTemplates = new Map<string, unknown>();
  readonly createdRuns: { group: unknown; name: string }[] = [];
  listAnalysisRuns = () => new Map();
  getAnalysisTemplate = (_ns: string, name: string, clusterScope: boolean) => this.analysisTemplates.get(`${clusterScope ? 'cluster' : 'namespaced'}/${name}`);
  createAnalysisRun = (group: unknown, name: string) => {
    this.createdRuns.push({ group, name });
    return this.write(`analysisrun ${name}`).then(() => undefined);
  };
}

const reconcilerFor = (gw: FakeGateway) => new Reconciler({ gateway: gw as unknown as KubeGateway, clusterDomain: 'cluster.local', log: pino({ level: 'silent' }), now: () => T0, peers: () => [] });
const key = `${NS}/loans`;

describe('Reconciler', () => {
  it('writes the group first, then members, then status, then events, and removes a handled request last', async () => {
    const g = group({ members: loanDependsOnInterest, finalizers: [], annotations: { 'tandem.dev/promote': 'deadbeef00' } });
    const gw = new FakeGateway(g as unknown as Record<string, unknown>, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1' })]);
    await reconcilerFor(gw).reconcile(key);
    expect(gw.calls).toEqual(['finalizer', 'metadata loan', 'status', 'event PromoteRefused', 'remove tandem.dev/promote']);
  });

  describe('wiring several members', () => {
    const members = [...loanDependsOnInterest, { rollout: 'quote', dependsOn: [{ rollout: 'interest' }] }];
    /** Metadata writes that return only when the test lets them. */
    const held = () => {
      const gw = new FakeGateway(group({ members }) as unknown as Record<string, unknown>, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1' }), blueGreen({ name: 'quote', stable: 'q1' })]);
      gw.getService = (_ns: string, name: string) => services('interest', 'loan', 'quote').get(name);
      const pending: { name: string; settle: (fail: boolean) => void }[] = [];
      gw.applyRolloutMetadata = (_ns: string, name: string) =>
        new Promise<string>((resolve, reject) => {
          gw.calls.push(`metadata ${name}`);
          pending.push({ name, settle: (fail) => (fail ? reject(new KubeError('unavailable', 503, 'ServiceUnavailable')) : resolve(String(++gw.rv))) });
        });
      return { gw, pending };
    };
    const flush = () => new Promise((r) => setImmediate(r));

    it('writes the members\' metadata together, then the status once all are done', async () => {
      const { gw, pending } = held();
      const done = reconcilerFor(gw).reconcile(key);
      await flush();
      expect(pending.map((p) => p.name).sort()).toEqual(['loan', 'quote']);
      pending[0]!.settle(false);
      await flush();
      expect(gw.calls).not.toContain('status');
      pending[1]!.settle(false);
      await done;
      expect(gw.calls).toEqual(['metadata loan', 'metadata quote', 'status']);
    });

    it('one failed metadata write fails the reconcile after the other has settled, and writes no status', async () => {
      const { gw, pending } = held();
      const done = reconcilerFor(gw).reconcile(key);
      await flush();
      pending[0]!.settle(true);
      await flush();
      pending[1]!.settle(false);
      await expect(done).rejects.toThrow('unavailable');
      expect(gw.calls).toEqual(['metadata loan', 'metadata quote']);
    });
  });

  it('a 409 removing a handled request plans again soon; the events it records are sent before', async () => {
    const g = group({ members: loanDependsOnInterest, annotations: { 'tandem.dev/promote': 'deadbeef00' } });
    const gw = new FakeGateway(g as unknown as Record<string, unknown>, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1', ...steadyLoan })]);
    gw.failRequestRemoval = true;
    const result = await reconcilerFor(gw).reconcile(key);
    expect(gw.calls).toEqual(['status', 'event PromoteRefused', 'remove request: 409']);
    expect(result.requeueAfterMs).toBe(200);
  });

  it('does not plan from a cache that has yet to show its own write to a member', async () => {
    const g = group({ members: loanDependsOnInterest });
    const gw = new FakeGateway(g as unknown as Record<string, unknown>, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1' })]);
    const r = reconcilerFor(gw);
    await r.reconcile(key);
    expect(gw.calls).toContain('metadata loan');
    const before = gw.calls.length;
    // The informer still holds loan as it was before the write: nothing is planned or written.
    const again = await r.reconcile(key);
    expect(again.requeueAfterMs).toBe(200);
    expect(gw.calls.slice(before)).toEqual([]);
  });

  it('does not plan from a cache showing the middle of two group writes (status written, request not yet removed)', async () => {
    const g = group({ members: loanDependsOnInterest, annotations: { 'tandem.dev/promote': 'deadbeef00' } });
    const gw = new FakeGateway(g as unknown as Record<string, unknown>, [blueGreen({ name: 'interest', stable: 'i1' }), blueGreen({ name: 'loan', stable: 'l1', ...steadyLoan })]);
    const r = reconcilerFor(gw);
    await r.reconcile(key);
    expect(gw.calls).toEqual(['status', 'event PromoteRefused', 'remove tandem.dev/promote']);
    const before = gw.calls.length;
    // The informer delivers the version the status patch made: its request is still there and its
    // resourceVersion is not the group's any more (a write from it would be a 409).
    const middle = structuredClone(g) as unknown as { metadata: { resourceVersion: string } };
    middle.metadata.resourceVersion = gw.versions.get('status')!;
    gw.groupRaw = middle as unknown as Record<string, unknown>;
    const again = await r.reconcile(key);
    expect(again.requeueAfterMs).toBe(200);
    expect(gw.calls.slice(before)).toEqual([]);
  });

  it('creates the group AnalysisRun a ready release needs through the gateway, owned by the group, before the status', async () => {
    const analysis = { prePromotion: { templates: [{ templateName: 'ok' }] } };
    const g = group({ members: loanDependsOnInterest, analysis });
    const gw = new FakeGateway(g as unknown as Record<string, unknown>, [
      blueGreen({ name: 'interest', stable: 'i1', desired: 'i2' }),
      blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...givenLoan }),
    ]);
    gw.analysisTemplates.set('namespaced/ok', AnalysisTemplate.parse({ metadata: { name: 'ok', namespace: NS }, spec: { metrics: [{ name: 'ok' }] } }));
    await reconcilerFor(gw).reconcile(key);
    const name = `loans-${loanInterestRelease}-pre-1`;
    expect(gw.createdRuns).toEqual([{ group: { namespace: NS, name: 'loans', uid: 'uid-group' }, name }]);
    expect(gw.calls.indexOf(`analysisrun ${name}`)).toBeLessThan(gw.calls.indexOf('status'));
  });

  it('unpins a completed release’s members together, and records the completion only once every unpin has succeeded', async () => {
    const members = [...loanDependsOnInterest, { rollout: 'quote', dependsOn: [{ rollout: 'interest' }] }];
    const at = new Date(T0 - 60_000).toISOString();
    const targets = [
      { rollout: 'interest', revision: 'i2', from: 'i1' },
      { rollout: 'loan', revision: 'l2', from: 'l1' },
      { rollout: 'quote', revision: 'q2', from: 'q1' },
    ];
    const status: StatusInput = {
      phase: 'Promoting',
      members: [],
      conditions: [],
      release: { state: 'CuttingOver', id: loanInterestRelease, targets, startedAt: at, readyAt: at, promotedAt: at, promotedMembers: ['loan', 'quote', 'interest'], pinned: ['loan@l2', 'quote@q2'] },
    };
    const gw = new FakeGateway(group({ members, status }) as unknown as Record<string, unknown>, [
      blueGreen({ name: 'interest', stable: 'i2' }),
      blueGreen({ name: 'loan', stable: 'l2', ...steadyLoan }),
      blueGreen({ name: 'quote', stable: 'q2', ...steadyLoan }),
    ]);
    gw.getService = (_ns: string, name: string) => services('interest', 'loan', 'quote').get(name);
    const pending: { rs: string; settle: () => void }[] = [];
    gw.pinRevision = (_ns: string, rs: string) =>
      new Promise<undefined>((resolve) => {
        gw.calls.push(`pin ${rs}`);
        pending.push({ rs, settle: () => resolve(undefined) });
      });
    const done = reconcilerFor(gw).reconcile(key);
    const flush = () => new Promise((r) => setImmediate(r));
    await flush();
    // Both unpins are in flight at once; nothing is recorded while one is.
    expect(pending.map((p) => p.rs).sort()).toEqual(['loan-l2', 'quote-q2']);
    pending[0]!.settle();
    await flush();
    expect(gw.calls).not.toContain('status');
    pending[1]!.settle();
    await done;
    expect(gw.calls.slice(0, 3).sort()).toEqual(['pin loan-l2', 'pin quote-q2', 'status']);
    expect(gw.calls[2]).toBe('status');
  });

  describe('a handoff (a member moved on: persist it, then promote the next)', () => {
    /** The gate open, loan (the dependent) promoted by Argo and not yet recorded, interest at its gate. */
    const handoff = () => {
      const at = new Date(T0).toISOString();
      const status: StatusInput = {
        phase: 'Promoting',
        members: [],
        conditions: [],
        release: {
          id: loanInterestRelease,
          targets: [
            { rollout: 'interest', revision: 'i2' },
            { rollout: 'loan', revision: 'l2' },
          ],
          startedAt: at,
          readyAt: at,
          promotedAt: at,
          state: 'CuttingOver',
          promotedMembers: [],
          pinned: ['loan@l2'],
        },
      };
      const g = group({ members: loanDependsOnInterest, status });
      const loan = blueGreen({ name: 'loan', stable: 'l2', desired: 'l2', activeSwitched: true, ...steadyLoan });
      return new FakeGateway(g as unknown as Record<string, unknown>, [blueGreen({ name: 'interest', stable: 'i1', desired: 'i2' }), loan]);
    };

    it('goes on from the copy its status write returned: persisted, then the next member promoted, in one reconcile', async () => {
      const gw = handoff();
      await reconcilerFor(gw).reconcile(key);
      expect(gw.calls).toEqual(['status', 'event MemberPromoted', 'status of interest', 'status']);
    });

    it('promotes the next member without waiting for the MemberPromoted Event, and ends only once the Event is written', async () => {
      const gw = handoff();
      let release!: () => void;
      const held = new Promise<string>((resolve) => (release = () => resolve('1')));
      gw.createEvent = (_g: unknown, e: { reason: string }) => {
        gw.calls.push(`event ${e.reason}`);
        return held;
      };
      let ended = false;
      const done = reconcilerFor(gw)
        .reconcile(key)
        .then(() => (ended = true));
      await gw.reached('status of interest');
      // The promote and the status after it went out while the Event was still being written.
      expect(gw.calls).toEqual(['status', 'event MemberPromoted', 'status of interest']);
      await gw.reached('status', 2);
      expect(ended).toBe(false);
      release();
      await done;
      expect(ended).toBe(true);
    });

    it('promotes nothing when the persisting write fails (persist-then-act)', async () => {
      const gw = handoff();
      gw.failStatus = true;
      await expect(reconcilerFor(gw).reconcile(key)).rejects.toThrow(KubeError);
      expect(gw.calls).toEqual(['status: 409']);
    });

    it('a later reconcile from the cache, still showing the version before those writes, waits for the cache', async () => {
      const gw = handoff();
      const r = reconcilerFor(gw);
      await r.reconcile(key);
      const before = gw.calls.length;
      // The informer has yet to deliver either write: planning from it would record loan again.
      expect(await r.reconcile(key)).toEqual({ requeueAfterMs: 200 });
      expect(gw.calls.slice(before)).toEqual([]);
    });
  });
});

describe('Reconciler: the nudge budget across all Rollouts', () => {
  const waiting = () => [blueGreen({ name: 'interest', stable: 'i1', desired: 'i2', unpausing: true }), blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', unpausing: true, ...steadyLoan })];
  /** A reconciler on a clock the test moves, over a cache that shows each status write at once. */
  const clocked = (gw: FakeGateway) => {
    const write = gw.patchGroupStatus;
    gw.patchGroupStatus = (...args) =>
      write(...args).then((g) => {
        gw.groupRaw = g;
        return g;
      });
    const clock = { now: T0 };
    const r = new Reconciler({ gateway: gw as unknown as KubeGateway, clusterDomain: 'cluster.local', log: pino({ level: 'silent' }), now: () => clock.now, peers: () => [] });
    return { r, clock };
  };
  const nudges = (gw: FakeGateway) => gw.calls.filter((c) => c.startsWith('nudge'));

  it('nudges one Rollout per turn although two have waited long enough, the other in the next turn', async () => {
    const gw = new FakeGateway(group({ members: loanDependsOnInterest }) as unknown as Record<string, unknown>, waiting());
    const { r, clock } = clocked(gw);
    await r.reconcile(key);
    expect(nudges(gw)).toEqual([]);
    expect(gw.calls).toContain('status');
    clock.now = T0 + 15_000;
    await r.reconcile(key);
    expect(nudges(gw)).toHaveLength(1);
    // Within the same turn: none, though the other Rollout is due.
    clock.now = T0 + 15_100;
    await r.reconcile(key);
    expect(nudges(gw)).toHaveLength(1);
    clock.now = T0 + 15_600;
    await r.reconcile(key);
    expect(new Set(nudges(gw))).toEqual(new Set(['nudge interest', 'nudge loan']));
  });

  it('waiting for Argo, plans again when a nudge can come due (Argo acting is a watch event), not every second', async () => {
    const gw = new FakeGateway(group({ members: loanDependsOnInterest }) as unknown as Record<string, unknown>, waiting());
    const { r, clock } = clocked(gw);
    // First seen waiting: nothing can change before the 15 s nudge period but an event of the Rollouts.
    expect((await r.reconcile(key)).requeueAfterMs).toBe(15_000);
    clock.now = T0 + 6_000;
    expect((await r.reconcile(key)).requeueAfterMs).toBe(9_000);
    // Both due, one nudged: the other waits for the budget's next turn, so the planner's poll stays.
    clock.now = T0 + 15_000;
    expect((await r.reconcile(key)).requeueAfterMs).toBe(SETTLE_MS);
    clock.now = T0 + 15_600;
    const afterBoth = await r.reconcile(key);
    expect(nudges(gw)).toHaveLength(2);
    // Both nudged: the next nudge of each is a doubled period after its own.
    expect(afterBoth.requeueAfterMs).toBe(30_000 - 600);
  });

  it('a group the planner does not nudge (paused) gives its turn back at once', async () => {
    const paused = group({ members: loanDependsOnInterest, paused: true }) as unknown as Record<string, unknown>;
    const gw = new FakeGateway(paused, waiting());
    const { r, clock } = clocked(gw);
    await r.reconcile(key);
    clock.now = T0 + 15_000;
    await r.reconcile(key);
    expect(nudges(gw)).toEqual([]);
    // Unpaused a moment later, within what would have been the paused group's turn.
    const cached = gw.groupRaw as { metadata: object; status?: unknown };
    gw.groupRaw = { ...(group({ members: loanDependsOnInterest }) as unknown as Record<string, unknown>), metadata: { ...cached.metadata, resourceVersion: '900' }, status: cached.status };
    clock.now = T0 + 15_100;
    await r.reconcile(key);
    expect(nudges(gw)).toHaveLength(1);
  });
});
