import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RolloutGroup } from '../../../src/api/rolloutgroup.ts';
import { parseConfig } from '../../../src/notifications/config.ts';
import { milestones, NOTIFIED_ANNOTATION, readRecord } from '../../../src/notifications/milestones.ts';
import { Notifier, type NotifierPort } from '../../../src/notifications/notifier.ts';
import type { Delivery } from '../../../src/notifications/render.ts';

const iso = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
const ready = (reason: string) => [{ type: 'Ready', status: reason === 'ReleaseCompleted' ? 'True' : 'False', reason, message: 'm', lastTransitionTime: iso(0) }];
const release = (state: string, extra: Record<string, unknown> = {}) => ({ id: 'r1', state, targets: [{ rollout: 'loan', revision: 'abc', from: 'old' }], startedAt: iso(1), ...extra });
const status = {
  started: { phase: 'Progressing', release: release('Gating'), conditions: ready('ReleaseProgressing') },
  waiting: { phase: 'Paused', release: release('Gating', { readyAt: iso(2) }), conditions: ready('AwaitingPromotion') },
  soaking: { phase: 'Paused', release: release('Gating', { readyAt: iso(2) }), conditions: ready('Soaking') },
  promoted: { phase: 'Promoting', release: release('CuttingOver', { readyAt: iso(2), promotedAt: iso(3), openedBy: 'promote request' }), conditions: ready('Promoting') },
  completed: { phase: 'Healthy', conditions: ready('ReleaseCompleted') },
  rollingBack: { phase: 'Degraded', release: release('RollingBack', { abortedAt: iso(4), abortReason: 'loan failed', promotedAt: iso(3), rolledBack: ['loan'] }), conditions: ready('ReleaseRolledBack') },
  rolledBack: { phase: 'Degraded', release: release('Aborted', { abortedAt: iso(4), abortReason: 'loan failed', promotedAt: iso(3), rolledBack: ['loan'], restored: ['loan'] }), conditions: ready('ReleaseRolledBack') },
  retried: { phase: 'Progressing', release: release('Gating', { retries: 1 }), conditions: ready('ReleaseRetried') },
} as const;

const groupOf = (s: object | undefined, annotations: Record<string, string> = {}) =>
  RolloutGroup.parse({ metadata: { namespace: 'shop', name: 'loans', resourceVersion: '1', annotations }, spec: { members: [{ rollout: 'loan' }] }, ...(s ? { status: s } : {}) });

describe('milestones', () => {
  const keys = (s: object | undefined, record?: { release: string; sent: string[] }) => milestones(groupOf(s), record).map((m) => `${m.releaseKey}:${m.key}`);
  it('what each state of a release implies, oldest first', () => {
    expect(keys(status.started)).toEqual(['r1:started']);
    expect(keys(status.waiting)).toEqual(['r1:started', 'r1:waiting/0']);
    expect(keys(status.soaking)).toEqual(['r1:started']); // auto promotion waits for nobody
    expect(keys(status.promoted)).toEqual(['r1:started', 'r1:promoted/0']);
    expect(keys(status.rollingBack)).toEqual(['r1:started', 'r1:aborted']);
    expect(keys(status.rolledBack)).toEqual(['r1:started', 'r1:aborted', 'r1:rolled-back']);
    expect(keys(status.retried)).toEqual(['r1#1:started']);
  });
  it('a completion is named by the record: the release last seen in flight', () => {
    expect(keys(status.completed)).toEqual([]);
    expect(keys(status.completed, { release: 'r1', sent: [] })).toEqual(['r1:completed']);
    expect(milestones(groupOf(status.completed), { release: 'r1#2', sent: [] })[0]!.release.id).toBe('r1');
    expect(keys({ phase: 'Healthy', conditions: ready('Stable') }, { release: 'r1', sent: [] })).toEqual([]);
  });
});

/** The gateway's cache, in memory, and the reconciler's turn that writes the staged record. */
class FakeGroups implements NotifierPort {
  group: Record<string, any>;
  writes = 0;
  constructor(s: object | undefined, annotations: Record<string, string> = {}) {
    this.group = { metadata: { namespace: 'shop', name: 'loans', resourceVersion: '1', annotations }, spec: { members: [{ rollout: 'loan' }] }, status: s };
  }
  getGroup() {
    return this.group;
  }
  setStatus(s: object | undefined) {
    this.group = { ...this.group, metadata: { ...this.group['metadata'], resourceVersion: String(Number(this.group['metadata'].resourceVersion) + 1) }, status: s };
  }
  /** What Reconciler.act does with Notifier.recordFor: writes the annotations it returns. */
  reconcile(n: Notifier) {
    const extra = n.recordFor('shop/loans', this.group['metadata'].annotations);
    if (!extra) return;
    this.writes++;
    const annotations = { ...this.group['metadata'].annotations, ...extra };
    const resourceVersion = String(Number(this.group['metadata'].resourceVersion) + 1);
    this.group = { ...this.group, metadata: { ...this.group['metadata'], annotations, resourceVersion } };
  }
  record() {
    return readRecord(this.group['metadata'].annotations);
  }
}

const config = parseConfig({ 'service.webhook.hook': 'url: http://127.0.0.1:9/hook', subscriptions: '- recipients: [hook]' }, {});
const log = pino({ level: 'silent' });
const triggerOf = (d: Delivery) => (JSON.parse(d.body) as { trigger: string }).trigger;

let clock = 0;
function harness(groups: FakeGroups, failures = 0) {
  const sent: Delivery[] = [];
  let fail = failures;
  const n = new Notifier({
    port: groups,
    config: () => config,
    log,
    now: () => clock,
    send: async (d) => {
      if (fail-- > 0) throw new Error('receiver down');
      sent.push(d);
    },
  });
  const staged: string[] = [];
  n.onRecordStaged((key) => staged.push(key));
  // A notifier pass, then the reconcile it asked for.
  const pass = async (): Promise<{ requeueAfterMs?: number }> => {
    const r = await n.process('shop/loans');
    groups.reconcile(n);
    return r;
  };
  return { n, sent, staged, pass, triggers: () => sent.map(triggerOf) };
}

describe('notifier', () => {
  it('sends each milestone once across the life of a release and records it on the group', async () => {
    const g = new FakeGroups(status.started);
    const { pass, triggers } = harness(g);
    await pass();
    expect(triggers()).toEqual(['on-release-started']);
    expect(g.record()).toEqual({ release: 'r1', sent: ['started@hook'] });
    await pass(); // nothing new
    g.setStatus(status.waiting);
    await pass();
    g.setStatus(status.promoted);
    await pass();
    g.setStatus(status.completed);
    await pass();
    await pass();
    expect(triggers()).toEqual(['on-release-started', 'on-release-waiting', 'on-release-promoted', 'on-release-completed']);
    expect(g.record()).toEqual({ release: 'r1', sent: ['completed@hook', 'promoted/0@hook', 'started@hook', 'waiting/0@hook'] });
  });

  it('a restarted notifier (a new process) sends nothing the record holds, and what the status implies that it lacks', async () => {
    const g = new FakeGroups(status.waiting);
    await harness(g).pass();
    g.setStatus(status.promoted);
    const after = harness(g); // restart: nothing in memory
    await after.pass();
    expect(after.triggers()).toEqual(['on-release-promoted']);
  });

  it('retries a failed delivery with backoff, oldest first, never skipping ahead', async () => {
    const g = new FakeGroups(status.waiting);
    const { pass, triggers } = harness(g, 2);
    expect((await pass()).requeueAfterMs).toBe(1_000);
    expect(g.writes).toBe(1); // the release is recorded as the one in flight, nothing as sent
    expect(g.record()).toEqual({ release: 'r1', sent: [] });
    // Woken early (the group changed): still waits out the backoff.
    clock += 400;
    expect((await pass()).requeueAfterMs).toBe(600);
    clock += 600;
    expect((await pass()).requeueAfterMs).toBe(2_000);
    expect(triggers()).toEqual([]);
    clock += 2_000;
    expect((await pass()).requeueAfterMs).toBeUndefined();
    expect(triggers()).toEqual(['on-release-started', 'on-release-waiting']);
  });

  it('a message rendered before the release moved on is still delivered', async () => {
    const g = new FakeGroups(status.waiting);
    const { pass, triggers } = harness(g, 1);
    await pass(); // started failed; both rendered
    g.setStatus(status.completed); // the gate opened and the release completed meanwhile
    clock += 1_000;
    await pass();
    expect(triggers()).toEqual(['on-release-started', 'on-release-waiting', 'on-release-completed']);
  });

  it('the record is staged for the reconciler, which writes it once; until the cache shows it nothing is resent', async () => {
    const g = new FakeGroups(status.started);
    const { n, staged, triggers } = harness(g);
    await n.process('shop/loans');
    expect(staged).toEqual(['shop/loans']);
    expect(g.record()).toBeUndefined(); // the notifier writes nothing itself
    await n.process('shop/loans'); // woken again before the reconcile: nothing resent, nothing staged twice
    expect(triggers()).toEqual(['on-release-started']);
    expect(staged).toEqual(['shop/loans']);
    g.reconcile(n);
    expect(g.record()).toEqual({ release: 'r1', sent: ['started@hook'] });
    g.reconcile(n); // the cache shows it: no second write
    expect(g.writes).toBe(1);
  });

  it('a retried release is a new one; an unsubscribed group is never written', async () => {
    const g = new FakeGroups(status.rolledBack, { [NOTIFIED_ANNOTATION]: JSON.stringify({ release: 'r1', sent: ['aborted@hook', 'rolled-back@hook', 'started@hook'] }) });
    const { pass, triggers } = harness(g);
    await pass();
    expect(triggers()).toEqual([]);
    g.setStatus(status.retried);
    await pass();
    expect(triggers()).toEqual(['on-release-started']);
    expect(g.record()).toEqual({ release: 'r1#1', sent: ['started@hook'] });

    const quiet = new FakeGroups(status.waiting);
    const none = parseConfig({ 'service.webhook.hook': 'url: http://127.0.0.1:9/hook' }, {});
    const sent: Delivery[] = [];
    const quietNotifier = new Notifier({ port: quiet, config: () => none, log, send: async (d) => void sent.push(d) });
    await quietNotifier.process('shop/loans');
    quiet.reconcile(quietNotifier);
    expect(sent).toEqual([]);
    expect(quiet.writes).toBe(0);
  });

  it('a refused config sends nothing', async () => {
    const g = new FakeGroups(status.waiting);
    const sent: Delivery[] = [];
    const refused = new Notifier({ port: g, config: () => ({ problems: ['bad'] }), log, send: async (d) => void sent.push(d) });
    await refused.process('shop/loans');
    g.reconcile(refused);
    expect(sent).toEqual([]);
    expect(g.writes).toBe(0);
  });
});
