import type { Logger } from 'pino';
import { FINALIZER, RolloutGroup, type RolloutGroupStatus } from '../api/rolloutgroup.ts';
import { serviceNamesOf, type RolloutView, type Service } from '../api/rollout.ts';
import type { KubeGateway } from '../kube/gateway.ts';
import { isConflict } from '../kube/errors.ts';
import type { Observed, PeerGroup } from '../planner/observed.ts';
import type { AuthorityPolicy } from '../planner/authority.ts';
import { awaitingArgo } from '../planner/member-reading.ts';
import { plan } from '../planner/plan.ts';
import type { Action, Plan } from '../planner/plan-types.ts';
import type { ReconcileResult } from '../runtime/workers.ts';
import { groupKey, parseGroupKey } from './group-key.ts';
import { jsonEqual } from './json-equal.ts';
import { parseGroup } from './group-index.ts';
import { crashIfArmed } from './failpoint.ts';
import type { ReleaseMetrics } from './release-metrics.ts';
import { ArgoNudge, NudgeBudget } from './argo-nudge.ts';
import { WriteExpectations } from './write-expectations.ts';
import { templateKey } from '../planner/analysis.ts';
import type { AnalysisTemplate } from '../api/analysis.ts';
import type { ServiceEndpoints } from '../planner/data-plane.ts';

/** How soon to look again while the cache has yet to show this controller's own write. */
const CACHE_LAG_MS = 200;
/** Plans one reconcile may make in a row from its own status writes (a three-member cutover needs a few). */
const MAX_STEPS = 8;

type RawGroup = { metadata?: { resourceVersion?: string }; status?: unknown };

export interface ReconcilerOptions {
  readonly gateway: KubeGateway;
  readonly clusterDomain: string;
  /** Key allow-list and consent mode (DESIGN §8). */
  readonly authority?: AuthorityPolicy | undefined;
  readonly log: Logger;
  readonly now?: () => number;
  /** See failpoint.ts; tests only. */
  readonly failpoint?: string | undefined;
  readonly metrics?: ReleaseMetrics | undefined;
  /** Other live groups of the namespace that list any of this group's Rollouts (see GroupIndex). */
  readonly peers: (namespace: string, name: string) => PeerGroup[];
  /**
   * Annotations another part of the controller keeps on the group (the notifications record),
   * written here, in the group's own turn after the plan's writes, so they never race them.
   */
  readonly extraAnnotations?: (key: string, annotations: Readonly<Record<string, string>>) => Record<string, string> | undefined;
}

/** Observe (from caches) → plan (pure) → act (gateway), for one RolloutGroup. */
export class Reconciler {
  private readonly gw: KubeGateway;
  private readonly clusterDomain: string;
  private readonly authority: AuthorityPolicy | undefined;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly failpoint: string | undefined;
  private readonly metrics: ReleaseMetrics | undefined;
  private readonly peers: (namespace: string, name: string) => PeerGroup[];
  private readonly extraAnnotations: ReconcilerOptions['extraAnnotations'];
  private readonly expectations = new WriteExpectations();
  /**
   * Groups this controller has just written. A reconcile right after its own status write (the
   * planner asks for one at once after persisting a cutover step) would otherwise plan from the old
   * copy, be refused with 409 and wait out a backoff: it waits for the watch event instead.
   */
  private readonly groupWrites = new WriteExpectations();
  private readonly nudge = new ArgoNudge();
  /** Nudges across all Rollouts: shared by every reconcile of this controller. */
  private readonly nudgeBudget = new NudgeBudget();

  constructor(options: ReconcilerOptions) {
    this.gw = options.gateway;
    this.clusterDomain = options.clusterDomain;
    this.authority = options.authority;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.failpoint = options.failpoint;
    this.metrics = options.metrics;
    this.peers = options.peers;
    this.extraAnnotations = options.extraAnnotations;
  }

  private timed<T>(action: string, fn: () => Promise<T>): Promise<T> {
    return this.metrics ? this.metrics.action(action, fn) : fn();
  }

  private planned<T>(fn: () => T): T {
    return this.metrics ? this.metrics.planned(fn) : fn();
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const events = new EventSender();
    try {
      return await this.reconcileSteps(key, events);
    } finally {
      // A reconcile ends once its Events are written, whatever a later step did.
      await events.settled();
    }
  }

  private async reconcileSteps(key: string, events: EventSender): Promise<ReconcileResult> {
    const { namespace, name } = parseGroupKey(key);
    let raw = this.gw.getGroup(namespace, name) as RawGroup | undefined;
    if (!raw) return {};
    for (let step = 0; ; step++) {
      const parsed = parseGroup(raw);
      if (!parsed.success) return this.reportUnreadable(namespace, name, raw, parsed.error.issues);
      const group = parsed.data;
      // A copy the status write just returned is newer than the cache: no need to wait for the cache.
      if (step === 0 && this.groupWrites.stale(key, group.metadata.resourceVersion, this.now())) return { requeueAfterMs: CACHE_LAG_MS };
      const planned = this.planned(() => {
        const observed = this.observe(group);
        const now = observed.now;
        if ([...observed.rollouts.values()].some((v) => this.expectations.stale(rolloutKey(v.rollout.metadata), v.rollout.metadata.resourceVersion, now))) return undefined;
        return { observed, p: this.planWithinBudget(namespace, observed) };
      });
      if (!planned) return { requeueAfterMs: CACHE_LAG_MS };
      const { observed, p } = planned;
      const log = this.log.child({ group: key, release: p.status?.release?.id });
      const { requeue, written } = await this.act(group, raw, observed, p, log, events);
      // The planner persisted a step and asks to go on at once (a member moved on: promote the
      // next). Going on from the copy the API server returned for that write saves the round trip
      // of its watch event and a wait in the queue behind every other group's events, which made up
      // most of a handoff under load. Persist-then-act holds: the step is persisted before the next
      // plan acts on it, and a crash in between resumes from the persisted status as before.
      if (requeue !== undefined || p.requeueAfterMs !== 0 || written === undefined || step + 1 >= MAX_STEPS) return { requeueAfterMs: requeue ?? this.requeueFor(namespace, p, observed.now) };
      raw = written;
    }
  }

  /**
   * Plans with the members whose nudge is due limited to the controller-wide budget (at most one,
   * taken here); the turn is given back when the plan does not nudge. Nothing is awaited between.
   */
  private planWithinBudget(namespace: string, observed: Observed): Plan {
    const due = observed.nudgeDue ?? new Set<string>();
    const granted = [...due].find((name) => this.nudgeBudget.take(rolloutKey({ namespace, name }), observed.now, this.nudge.lastActedAt));
    const p = plan({ ...observed, nudgeDue: new Set(granted === undefined ? [] : [granted]) });
    if (granted !== undefined && !p.actions.some((a) => a.kind === 'Nudge' && a.rollout === granted)) this.nudgeBudget.giveBack(rolloutKey({ namespace, name: granted }));
    return p;
  }

  /**
   * When to plan again. A plan that waits for Argo to act on members decides nothing until it has,
   * and Argo acting is a watch event of those Rollouts, which wakes the group (EventRouter): the
   * planner's poll (SETTLE_MS, every second) is then needed only for the time a nudge comes due,
   * which no event shows. The poll was most of the reconciles of a storm: every group waiting on a
   * slow Argo was planned again every second. A member that was due but got no turn of the budget
   * keeps the poll, as does one not seen waiting (no nudge clock to go by).
   */
  private requeueFor(namespace: string, p: Plan, now: number): number | undefined {
    const waiting = p.waitingForArgo ?? [];
    if (waiting.length === 0 || p.requeueAfterMs === undefined) return p.requeueAfterMs;
    const dueIn = waiting.map((m) => this.nudge.dueInMs(rolloutKey({ namespace, name: m }), now));
    if (dueIn.some((ms) => ms === undefined || ms === 0)) return p.requeueAfterMs;
    return Math.max(p.requeueAfterMs, Math.min(...(dueIn as number[])));
  }

  /** Members Argo has left waiting (a generation not observed, a promote or retry not acted on) too long. */
  private nudgeDue(rollouts: ReadonlyMap<string, RolloutView>, now: number): Set<string> {
    const due = new Set<string>();
    for (const [name, { rollout }] of rollouts) {
      const { metadata } = rollout;
      const state = awaitingArgo(rollout) ? `${metadata.generation}/${metadata.resourceVersion}` : undefined;
      if (this.nudge.due(rolloutKey(metadata), state, now)) due.add(name);
    }
    return due;
  }

  private observe(group: RolloutGroup): Observed {
    const ns = group.metadata.namespace;
    const names = new Set([...group.spec.members.map((m) => m.rollout), ...(group.status?.members ?? []).map((m) => m.rollout)]);
    const rollouts = new Map<string, RolloutView>();
    for (const n of names) {
      const view = this.gw.getRollout(ns, n);
      if (view) rollouts.set(n, view);
    }
    // Only the Services the group's Rollouts name: all the planner looks up.
    const services = new Map<string, Service>();
    for (const { rollout } of rollouts.values()) {
      for (const s of serviceNamesOf(rollout.spec.strategy)) {
        const svc = services.has(s) ? undefined : this.gw.getService(ns, s);
        if (svc) services.set(s, svc);
      }
    }
    // What the data plane routes those Services to (planner/data-plane.ts).
    const endpoints = new Map<string, ServiceEndpoints>();
    for (const s of services.keys()) {
      const e = this.gw.serviceEndpoints(ns, s);
      if (e) endpoints.set(s, e);
    }
    // The templates the group's analysis names (validation reports the missing and those of the other kind).
    const analysisTemplates = new Map<string, AnalysisTemplate>();
    for (const step of Object.values(group.spec.analysis ?? {})) {
      for (const ref of step?.templates ?? []) {
        for (const clusterScope of [false, true]) {
          const t = this.gw.getAnalysisTemplate(ns, ref.templateName, clusterScope);
          if (t) analysisTemplates.set(templateKey({ templateName: ref.templateName, clusterScope }), t);
        }
      }
    }
    const now = this.now();
    return {
      now,
      analysisRuns: this.gw.listAnalysisRuns(ns, group.metadata.uid),
      analysisTemplates,
      ...(this.gw.readsClusterTemplates === false ? { clusterTemplatesUnreadable: true } : {}),
      nudgeDue: this.nudgeDue(rollouts, now),
      clusterDomain: this.clusterDomain,
      authority: this.authority,
      group,
      rollouts,
      replicaSets: this.gw.listReplicaSets(ns, names),
      services,
      endpoints,
      peers: this.peers(ns, group.metadata.name),
    };
  }

  /**
   * Performs the plan; returns a requeue delay when it must be planned again sooner, and the group
   * as the API server returned it when the status write was the last write to the group.
   */
  private async act(group: RolloutGroup, raw: { status?: unknown }, observed: Observed, p: Plan, log: Logger, events: EventSender): Promise<{ requeue: number | undefined; written?: RawGroup }> {
    const { namespace, name } = group.metadata;
    let rv = group.metadata.resourceVersion;
    let written: RawGroup | undefined;
    /** Writes the group from the version `rv` names and moves `rv` on, remembering the one it replaced. */
    const writeGroup = async (kind: string, write: (from: string) => Promise<string>) => {
      const from = rv;
      rv = await this.timed(kind, () => write(from));
      written = undefined;
      this.groupWrites.wrote(groupKey(namespace, name), from, rv, this.now());
    };
    for (let i = 0; i < p.actions.length; i++) {
      const a = p.actions[i]!;
      if (a.kind === 'ApplyMetadata') {
        // Consecutive wiring writes go out together: each is one member's desired metadata, derived
        // anew by every plan, and none waits on another's result (no persist-then-act between them).
        // At start-up every group wires two or three members: one API round trip instead of three.
        const batch = [a];
        while (p.actions[i + 1]?.kind === 'ApplyMetadata') batch.push(p.actions[++i] as typeof a);
        const results = await Promise.allSettled(batch.map((w) => this.applyMetadata(namespace, w, observed)));
        for (const [j, r] of results.entries()) {
          if (r.status === 'rejected') throw r.reason;
          log.info({ action: a.kind, rollout: batch[j]!.rollout }, 'action done');
          crashIfArmed(this.failpoint, `after-action:${a.kind}`);
        }
        continue;
      }
      if (a.kind === 'Nudge') {
        log.warn({ rollout: a.rollout }, 'argo rollouts has not acted on a rollout; nudging it');
        this.nudge.nudged(rolloutKey({ namespace, name: a.rollout }), observed.now);
        try {
          await this.timed(a.kind, () => this.gw.nudgeRollout(namespace, a.rollout, new Date(observed.now).toISOString()));
        } catch (err) {
          log.warn({ rollout: a.rollout, err }, 'nudge failed');
        }
        continue;
      }
      if (a.kind === 'CreateAnalysisRun') {
        await this.timed(a.kind, () => this.gw.createAnalysisRun({ namespace, name, uid: group.metadata.uid }, a.name, a.labels, a.spec));
        log.info({ action: a.kind, analysisRun: a.name }, 'action done');
        crashIfArmed(this.failpoint, `after-action:${a.kind}`);
        continue;
      }
      if (a.kind === 'TerminateAnalysisRun') {
        await this.timed(a.kind, () => this.gw.terminateAnalysisRun(namespace, a.name, a.reason));
        log.info({ action: a.kind, analysisRun: a.name, reason: a.reason }, 'action done');
        crashIfArmed(this.failpoint, `after-action:${a.kind}`);
        continue;
      }
      if (a.kind === 'Pin') {
        // Consecutive pins of distinct ReplicaSets go out together (a cutover pins its movers at
        // once, a completion unpins them): none reads another's result, and the status recording
        // them is written only once all have succeeded.
        const batch = [a];
        const sets = new Set([a.replicaSet]);
        for (let n = p.actions[i + 1]; n?.kind === 'Pin' && !sets.has(n.replicaSet); n = p.actions[i + 1]) {
          batch.push(n);
          sets.add(n.replicaSet);
          i++;
        }
        const results = await Promise.allSettled(batch.map((pin) => this.timed(pin.kind, () => this.gw.pinRevision(namespace, pin.replicaSet, pin.revision, pin.annotations, pin.podsOnly === true, pin.templateOnly === true))));
        for (const [j, r] of results.entries()) {
          if (r.status === 'rejected') throw r.reason;
          const pin = batch[j]!;
          log.info({ action: pin.kind, rollout: pin.rollout, replicaSet: pin.replicaSet, annotations: pin.annotations }, 'action done');
          crashIfArmed(this.failpoint, `after-action:${pin.kind}`);
        }
        continue;
      }
      if ('rollout' in a) {
        const before = observed.rollouts.get(a.rollout)?.rollout.metadata.resourceVersion ?? '';
        const after = await this.timed(a.kind, () => this.performOnRollout(namespace, a));
        this.expectations.wrote(rolloutKey({ namespace, name: a.rollout }), before, after, this.now());
      } else {
        await writeGroup(a.kind, (from) => this.performOnGroup(group, from, a));
      }
      log.info({ action: a.kind, rollout: 'rollout' in a ? a.rollout : undefined }, 'action done');
      crashIfArmed(this.failpoint, `after-action:${a.kind}`);
    }
    const status = p.status;
    if (status && !jsonEqual(raw.status ?? {}, status)) {
      let updated: RawGroup | undefined;
      await writeGroup('UpdateStatus', async (from) => {
        updated = (await this.gw.patchGroupStatus(namespace, name, from, raw.status, status satisfies RolloutGroupStatus)) as RawGroup;
        return updated.metadata?.resourceVersion ?? '';
      });
      written = updated;
      this.metrics?.recorded(p.events, group.status?.release, status.release, this.now());
      log.info({ phase: p.status.phase, message: p.status.message }, 'status updated');
      for (const e of p.events) crashIfArmed(this.failpoint, `after-status:${e.reason}`);
    }
    // Events describe what the persisted status records: they go out before anything else can fail.
    // The next write does not wait for them (an Event is a record, not a step: a handoff's promote
    // waited one API round trip for its MemberPromoted Event); the reconcile ends once they are written.
    for (const e of p.events) {
      events.send(() =>
        this.timed('RecordEvent', () => this.gw.createEvent({ namespace, name, uid: group.metadata.uid }, e)).then(
          () => undefined,
          (err: unknown) => log.warn({ reason: e.reason, err }, 'event not recorded'),
        ),
      );
    }
    for (const r of p.handledRequests) {
      try {
        await writeGroup('RemoveRequest', (from) => this.gw.patchGroupMetadata(namespace, name, from, { annotations: { [r.annotation]: null } }));
        log.info({ request: r.annotation, value: r.value }, 'request handled');
      } catch (err) {
        // The group changed meanwhile (a new request?): plan again from the cache; the request stays until then.
        if (!isConflict(err)) throw err;
        log.info({ request: r.annotation, err }, 'request not removed: the group changed; planning again');
        return { requeue: CACHE_LAG_MS };
      }
    }
    const extra = group.metadata.deletionTimestamp ? undefined : this.extraAnnotations?.(groupKey(namespace, name), group.metadata.annotations);
    if (extra) {
      try {
        await writeGroup('RecordNotified', (from) => this.gw.patchGroupMetadata(namespace, name, from, { annotations: extra }));
      } catch (err) {
        if (!isConflict(err)) throw err;
        return { requeue: CACHE_LAG_MS };
      }
    }
    return { requeue: undefined, ...(written ? { written } : {}) };
  }

  private async applyMetadata(namespace: string, a: Extract<Action, { kind: 'ApplyMetadata' }>, observed: Observed): Promise<void> {
    const before = observed.rollouts.get(a.rollout)?.rollout.metadata.resourceVersion ?? '';
    const after = await this.timed(a.kind, () => this.performOnRollout(namespace, a));
    this.expectations.wrote(rolloutKey({ namespace, name: a.rollout }), before, after, this.now());
  }

  /** Writes the group itself; returns its new resourceVersion. */
  private performOnGroup(group: RolloutGroup, rv: string, a: Extract<Action, { kind: 'AddFinalizer' | 'RemoveFinalizer' }>): Promise<string> {
    const { namespace, name, finalizers } = group.metadata;
    const kept = finalizers.filter((f) => f !== FINALIZER);
    return this.gw.patchGroupMetadata(namespace, name, rv, { finalizers: a.kind === 'AddFinalizer' ? [...kept, FINALIZER] : kept });
  }

  /** Writes a member Rollout; returns its new resourceVersion. */
  private performOnRollout(namespace: string, a: Exclude<Action, { kind: 'AddFinalizer' | 'RemoveFinalizer' | 'Nudge' | 'Pin' | 'CreateAnalysisRun' | 'TerminateAnalysisRun' }>): Promise<string> {
    switch (a.kind) {
      case 'ApplyMetadata':
        return this.gw.applyRolloutMetadata(namespace, a.rollout, a.strategy, a.metadata);
      case 'Promote':
        return this.gw.patchRolloutStatus(namespace, a.rollout, a.resourceVersion, { pauseConditions: null });
      case 'Abort':
        return this.gw.patchRolloutStatus(namespace, a.rollout, a.resourceVersion, { abort: true });
      case 'Retry':
        return this.gw.patchRolloutStatus(namespace, a.rollout, a.resourceVersion, { abort: false });
      case 'RestoreTemplate':
        return this.gw.replaceRolloutTemplate(namespace, a.rollout, a.resourceVersion, a.template);
    }
  }

  /** A group the schema rejects (the CRD normally prevents this): say why in its status. */
  private async reportUnreadable(namespace: string, name: string, raw: RawGroup, issues: readonly { path: PropertyKey[]; message: string }[]): Promise<ReconcileResult> {
    const message = `spec cannot be read: ${issues.map((i) => `${i.path.join('.') || 'object'}: ${i.message}`).join('; ')}`;
    const old = raw.status as RolloutGroupStatus | undefined;
    const previous = old?.conditions?.find((c) => c.type === 'SpecValid');
    if (previous?.message === message) return {};
    const nowIso = new Date(this.now()).toISOString();
    const status = {
      ...(old ?? {}),
      phase: 'Degraded',
      message,
      conditions: [{ type: 'SpecValid', status: 'False', reason: 'SchemaInvalid', message, lastTransitionTime: nowIso }],
    };
    await this.gw.patchGroupStatus(namespace, name, raw.metadata?.resourceVersion ?? '', raw.status, status);
    return {};
  }
}

const rolloutKey = (m: { namespace: string; name: string }) => `${m.namespace}/${m.name}`;

/** A reconcile's Events, written one after another in the order planned, while its next writes go on. */
class EventSender {
  private last: Promise<void> | undefined;

  /** Starts `write` now if nothing is in flight, else after the Event before it; `write` never rejects. */
  send(write: () => Promise<void>): void {
    this.last = this.last ? this.last.then(write) : write();
  }

  settled(): Promise<void> {
    return this.last ?? Promise.resolve();
  }
}
