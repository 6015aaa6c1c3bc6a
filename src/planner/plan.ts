import {
  FINALIZER,
  REQUEST,
  type Condition,
  type MemberState,
  type MemberStatus,
  type Phase,
  type ReleaseStatus,
  type ReleaseTarget,
  type RolloutGroupStatus,
} from '../api/rolloutgroup.ts';
import type { DependencyGraph } from '../graph/dependency-graph.ts';
import { setCondition, type ConditionInput } from './conditions.ts';
import { readMember, type MemberReading } from './member-reading.ts';
import type { Observed } from './observed.ts';
import type { Action, HandledRequest, Plan, PlannedEvent } from './plan-types.ts';
import { releaseId } from './release-id.ts';
import { validate, type SpecProblem } from './validation.ts';
import { desiredMetadata, metadataInSync, ownsAnyMetadata, type ServiceRole } from './wiring.ts';

/** How often a release in flight is looked at even when no watch event arrives. */
export const RESYNC_MS = 10_000;
/** How soon to look again after Argo has yet to observe a change. */
export const SETTLE_MS = 1_000;

/**
 * The one pure entry point: from what was observed, the writes to make and the status to persist.
 * Holds the rules of DESIGN §2–§5 for Lockstep groups of blue-green members.
 */
export function plan(o: Observed): Plan {
  if (o.group.metadata.deletionTimestamp) return planDeletion(o);
  const actions: Action[] = [];
  if (!o.group.metadata.finalizers.includes(FINALIZER)) actions.push({ kind: 'AddFinalizer' });
  const validation = validate(o);
  if (!validation.valid) return planInvalid(o, actions, validation.problems);
  return new LockstepPlanner(o, validation.graph, actions).plan();
}

function planDeletion(o: Observed): Plan {
  if (!o.group.metadata.finalizers.includes(FINALIZER)) {
    return { actions: [], status: undefined, handledRequests: [], events: [], requeueAfterMs: undefined };
  }
  const names = new Set([...o.group.spec.members.map((m) => m.rollout), ...(o.group.status?.members ?? []).map((m) => m.rollout)]);
  const actions: Action[] = [];
  for (const name of names) {
    const view = o.rollouts.get(name);
    if (!view || !ownsAnyMetadata(view) || listedByPeer(name, o)) continue;
    actions.push({ kind: 'ApplyMetadata', rollout: name, strategy: strategyKey(view.rollout), metadata: {} });
  }
  actions.push({ kind: 'RemoveFinalizer' });
  return { actions, status: undefined, handledRequests: [], events: [], requeueAfterMs: undefined };
}

function planInvalid(o: Observed, actions: Action[], problems: readonly SpecProblem[]): Plan {
  const prev = o.group.status;
  const first = problems[0]!;
  const message = problems.map((p) => p.message).join('; ');
  const now = new Date(o.now).toISOString();
  const gen = o.group.metadata.generation;
  const prevConditions = prev?.conditions ?? [];
  const conditions = [
    setCondition(prevConditions, { type: 'Ready', status: 'False', reason: 'InvalidSpec', message }, gen, now),
    setCondition(prevConditions, { type: 'SpecValid', status: 'False', reason: first.reason, message }, gen, now),
  ];
  const members = [...o.group.spec.members.map((m) => m.rollout), ...formerMembers(o)].map((m) => memberStatus(m, o, undefined));
  const status: RolloutGroupStatus = {
    observedGeneration: gen,
    phase: 'Degraded',
    message: `invalid spec: ${message}`,
    readyMembers: `0/${members.length}`,
    ...(prev?.release ? { release: prev.release } : {}),
    members,
    conditions,
  };
  const old = prevConditions.find((c) => c.type === 'SpecValid');
  const events: PlannedEvent[] =
    old?.status === 'False' && old.message === message ? [] : [{ type: 'Warning', reason: 'InvalidSpec', message }];
  // Members only become valid through a watched change, but a slow poll costs little.
  return { actions, status, handledRequests: [], events, requeueAfterMs: 60_000 };
}

function memberStatus(name: string, o: Observed, reading: MemberReading | undefined, state?: MemberState): MemberStatus {
  if (!reading) return { rollout: name, images: [], state: o.rollouts.has(name) ? (state ?? 'Stable') : 'Missing' };
  return {
    rollout: name,
    ...(reading.strategy ? { strategy: reading.strategy } : {}),
    ...(reading.phase ? { phase: reading.phase } : {}),
    ...(reading.stableRevision ? { stableRevision: reading.stableRevision } : {}),
    ...(reading.desiredRevision ? { desiredRevision: reading.desiredRevision } : {}),
    images: [...reading.images],
    state: state ?? (reading.failed ? 'Failed' : reading.changed ? 'Deploying' : 'Stable'),
  };
}

/** All groups share Tandem's field manager: a Rollout another group lists keeps its keys. */
const listedByPeer = (rollout: string, o: Observed): boolean => o.peers.some((p) => p.members.includes(rollout));

/** Rollouts removed from the spec that still carry Tandem's keys: remembered until released. */
function formerMembers(o: Observed): string[] {
  const current = new Set(o.group.spec.members.map((m) => m.rollout));
  return (o.group.status?.members ?? [])
    .map((m) => m.rollout)
    .filter((r) => {
      const view = o.rollouts.get(r);
      return !current.has(r) && view !== undefined && ownsAnyMetadata(view) && !listedByPeer(r, o);
    });
}

const strategyKey = (r: { spec: { strategy: { blueGreen?: unknown } } }): 'blueGreen' | 'canary' =>
  r.spec.strategy.blueGreen ? 'blueGreen' : 'canary';

interface Outcome {
  readonly phase: Phase;
  readonly message: string;
  readonly ready: ConditionInput;
}

/** The phase and message of a plan, and the Ready condition that says the same. */
const outcome = (phase: Phase, status: 'True' | 'False', reason: string, message: string): Outcome => ({
  phase,
  message,
  ready: { type: 'Ready', status, reason, message },
});

/** Sorted for stable ids and comparisons. */
const byName = (a: ReleaseTarget, b: ReleaseTarget) => (a.rollout < b.rollout ? -1 : a.rollout > b.rollout ? 1 : 0);

class LockstepPlanner {
  private readonly o: Observed;
  private readonly graph: DependencyGraph;
  /** Writes to the group itself (finalizer); they come first. */
  private readonly actions: Action[];
  private readonly wiring: Action[] = [];
  private readonly releaseActions: Action[] = [];
  private readonly events: PlannedEvent[] = [];
  private readonly handled: HandledRequest[] = [];
  private readonly readings = new Map<string, MemberReading>();
  private readonly states = new Map<string, MemberState>();
  private readonly nowIso: string;
  private readonly paused: boolean;
  private requeue: number | undefined;
  /** Dependents whose active pods must reach their changed dependencies' previews (§4a). */
  private readonly repointed = new Set<string>();
  /** Rollouts removed from the spec that still carry Tandem's keys. */
  private readonly formers: readonly string[];
  /** Whether this plan releases the formers' keys (it does whenever it writes wiring at all). */
  private formersReleased = false;
  private release: ReleaseStatus | undefined;

  constructor(o: Observed, graph: DependencyGraph, actions: Action[]) {
    this.o = o;
    this.graph = graph;
    this.actions = actions;
    this.nowIso = new Date(o.now).toISOString();
    this.paused = o.group.spec.paused;
    this.formers = formerMembers(o);
    for (const name of graph.members) {
      const view = o.rollouts.get(name);
      if (view) this.readings.set(name, readMember(view.rollout, o.replicaSets));
    }
  }

  plan(): Plan {
    if (this.paused) return this.planPaused();
    const prev = this.o.group.status?.release;
    const readings = [...this.readings.values()];
    const untrusted = readings.filter((r) => !r.trusted);
    let result: Outcome;
    if (untrusted.length > 0) {
      // Argo has not caught up with a spec change or a promote; decide nothing until it has.
      this.release = prev;
      this.wait(SETTLE_MS);
      const phase = prev?.abortedAt ? 'Degraded' : prev?.promotedAt ? 'Promoting' : 'Progressing';
      result = outcome(phase, 'False', 'WaitingForArgo', `waiting for Argo Rollouts to observe ${names(untrusted)}`);
    } else {
      const targets = readings
        .filter((r) => r.changed)
        .map((r) => ({ rollout: r.name, revision: r.desiredRevision! }))
        .sort(byName);
      this.release = this.resolveRelease(prev, targets);
      result = this.release ? this.planRelease(this.release) : this.planSteady(prev);
    }

    // Without a trusted reading of every member the cutover state is unknown: write nothing.
    if (untrusted.length === 0) this.planWiring();
    return {
      actions: [...this.actions, ...this.wiring, ...this.releaseActions],
      status: this.status(result),
      handledRequests: this.handled,
      events: this.events,
      requeueAfterMs: this.requeue,
    };
  }

  /** `spec.paused`: report what is observed; decide, write and announce nothing (not even the deadline). */
  private planPaused(): Plan {
    this.release = this.o.group.status?.release;
    const changed = [...this.readings.values()].filter((r) => r.changed).map((r) => r.name);
    const seen = changed.length > 0 ? `changed: ${changed.join(', ')}` : `${this.graph.members.length}/${this.graph.members.length} members stable`;
    const message = `paused: observing only; ${seen}`;
    return {
      actions: this.actions,
      status: this.status(outcome('Paused', 'False', 'GroupPaused', message)),
      handledRequests: [],
      events: [],
      requeueAfterMs: undefined,
    };
  }

  /** The release in flight: the persisted one while its targets still hold, else a new one. */
  private resolveRelease(prev: ReleaseStatus | undefined, targets: ReleaseTarget[]): ReleaseStatus | undefined {
    if (prev && this.stillHolds(prev, targets)) return { ...prev, promotedMembers: [...prev.promotedMembers] };
    if (targets.length === 0) return undefined;
    const id = releaseId(targets);
    const summary = targets.map((t) => `${t.rollout}@${t.revision}`).join(', ');
    this.events.push({
      type: 'Normal',
      reason: 'ReleaseStarted',
      message: prev ? `release ${id} (${summary}) replaces release ${prev.id}` : `release ${id} started: ${summary}`,
    });
    return { id, targets, startedAt: this.nowIso, promotedMembers: [] };
  }

  /** Every target still heads to its revision, and no other member changed. */
  private stillHolds(prev: ReleaseStatus, changed: readonly ReleaseTarget[]): boolean {
    const sameTargets = prev.targets.every((t) => this.readings.get(t.rollout)?.desiredRevision === t.revision);
    const noNewChange = changed.every((c) => prev.targets.some((t) => t.rollout === c.rollout && t.revision === c.revision));
    return sameTargets && noNewChange && prev.targets.length > 0;
  }

  private planSteady(prev: ReleaseStatus | undefined) {
    // Completed while this controller was down; a release Git walked away from is not announced.
    const completed = prev?.targets.every((t) => this.readings.get(t.rollout)?.stableRevision === t.revision);
    if (prev?.promotedAt && !prev.abortedAt && completed) {
      this.events.push({ type: 'Normal', reason: 'ReleaseCompleted', message: `release ${prev.id} completed` });
    }
    this.promoteRequest(undefined, false);
    this.refuseAbort('no release is in flight');
    const message = `${this.graph.members.length}/${this.graph.members.length} members stable`;
    return outcome('Healthy', 'True', 'Stable', message);
  }

  private planRelease(release: ReleaseStatus) {
    const targets = release.targets.map((t) => t.rollout);
    const at = (name: string) => this.readings.get(name)!;
    for (const t of targets) this.states.set(t, at(t).promoted ? 'Promoted' : at(t).ready ? 'Ready' : 'Deploying');

    const live = targets.filter((t) => at(t).promoted);
    // Rolling promoted members back is not implemented yet: an abort now would split the versions.
    const abortRefused = live.length > 0 && !release.abortedAt;
    if (abortRefused) this.refuseAbort(`${live.join(', ')} already promoted; rollback after a partial cutover is not supported yet`);
    const abortRequest = abortRefused ? undefined : this.request(REQUEST.abort);
    const failed = targets.filter((t) => at(t).failed && !at(t).promoted);
    const allReady = targets.every((t) => at(t).ready || at(t).promoted);
    const deadline = Date.parse(release.startedAt) + this.o.group.spec.progressDeadlineSeconds * 1000;
    const deadlinePassed = !release.promotedAt && !release.firstReadyAt && !allReady && this.o.now >= deadline;

    if (release.abortedAt || failed.length > 0 || deadlinePassed || abortRequest !== undefined) {
      if (!release.abortedAt) {
        release.abortedAt = this.nowIso;
        release.abortReason =
          failed.length > 0
            ? `member ${failed.map((f) => `${f} failed (${at(f).message ?? at(f).phase ?? 'aborted'})`).join(', ')}`
            : deadlinePassed
              ? `not ready within ${this.o.group.spec.progressDeadlineSeconds}s: waiting for ${targets.filter((t) => !at(t).ready).join(', ')}`
              : `abort requested: ${abortRequest || 'no reason given'}`;
        this.events.push({ type: 'Warning', reason: 'ReleaseAborted', message: `release ${release.id} aborted: ${release.abortReason}` });
      }
      if (abortRequest !== undefined) this.handled.push({ annotation: REQUEST.abort, value: abortRequest });
      this.promoteRequest(release, false);
      for (const t of targets) {
        const r = at(t);
        if (r.failed) this.states.set(t, 'Failed');
        if (!r.promoted && !r.aborted) {
          this.releaseActions.push({ kind: 'Abort', rollout: t, resourceVersion: this.rv(t) });
          this.states.set(t, 'Failed');
        }
      }
      const kept = targets.filter((t) => at(t).promoted);
      const message =
        `release ${release.id} aborted: ${release.abortReason}` +
        (kept.length > 0 ? `; ${kept.join(', ')} already promoted and left on the new revision` : '');
      return outcome('Degraded', 'False', 'ReleaseAborted', message);
    }

    if (!release.promotedAt) return this.planGate(release, targets, allReady, deadline);
    return this.planCutover(release, targets);
  }

  private planGate(release: ReleaseStatus, targets: readonly string[], allReady: boolean, deadline: number) {
    const { auto, soakSeconds } = this.o.group.spec.promotion;
    const readyCount = targets.filter((t) => this.readings.get(t)!.ready).length;
    if (!allReady) {
      delete release.readyAt;
      this.wait(release.firstReadyAt ? RESYNC_MS : Math.max(0, Math.min(RESYNC_MS, deadline - this.o.now)));
      this.promoteRequest(release, false);
      const waiting = targets.filter((t) => !this.readings.get(t)!.ready);
      const message = `release ${release.id}: ${readyCount}/${targets.length} members ready; waiting for ${waiting.join(', ')}`;
      return outcome('Progressing', 'False', 'ReleaseProgressing', message);
    }
    release.firstReadyAt ??= this.nowIso;
    if (!release.readyAt) {
      release.readyAt = this.nowIso;
      this.events.push({ type: 'Normal', reason: 'ReleaseReady', message: `release ${release.id} ready: ${targets.length}/${targets.length} members` });
    }
    const soakEnds = Date.parse(release.readyAt) + soakSeconds * 1000;
    const requested = this.promoteRequest(release, !this.paused);
    if (requested || (auto && this.o.now >= soakEnds && !this.paused)) {
      release.promotedAt = this.nowIso;
      const by = requested ? 'promote request' : 'auto promotion';
      this.events.push({ type: 'Normal', reason: 'PromotionStarted', message: `release ${release.id}: cutover started by ${by}` });
      this.wait(0);
      const message = `release ${release.id} promoting: cutover started`;
      return outcome('Promoting', 'False', 'Promoting', message);
    }
    if (auto) this.wait(Math.max(0, soakEnds - this.o.now));
    const message = auto
      ? `release ${release.id} ready: ${targets.length}/${targets.length} members; soaking until ${new Date(soakEnds).toISOString()}`
      : `release ${release.id} ready: ${targets.length}/${targets.length} members; waiting for promote`;
    return outcome('Paused', 'False', auto ? 'Soaking' : 'AwaitingPromotion', message);
  }

  /** Dependents first: repoint, promote, wait until promoted, then the next (§4). */
  private planCutover(release: ReleaseStatus, targets: readonly string[]) {
    this.promoteRequest(release, false);
    const order = this.graph.dependenciesFirst.filter((m) => targets.includes(m)).reverse();
    for (const m of order) {
      const r = this.readings.get(m)!;
      if (r.promoted) this.repointed.add(m);
      if (r.promoted && release.promotedMembers.includes(m)) continue;
      if (r.promoted) {
        // Persist the progress before the next member moves, so a restart resumes from here (§4b).
        release.promotedMembers.push(m);
        this.events.push({ type: 'Normal', reason: 'MemberPromoted', message: `release ${release.id}: ${m} promoted to ${r.desiredRevision}` });
        if (release.promotedMembers.length < targets.length) {
          this.wait(0);
          const message = `release ${release.id} promoting: ${m} promoted (${release.promotedMembers.length}/${targets.length})`;
          return outcome('Promoting', 'False', 'Promoting', message);
        }
        continue;
      }
      this.states.set(m, 'Promoting');
      this.wait(SETTLE_MS * 2);
      const view = this.o.rollouts.get(m)!;
      const unpause = () => {
        if (view.rollout.spec.paused === true) this.releaseActions.push({ kind: 'Unpause', rollout: m });
      };
      const promoting = (message: string) => (outcome('Promoting', 'False', 'Promoting', message));
      const progress = `${release.promotedMembers.length}/${targets.length} promoted`;
      if (!r.atGate) {
        // Promoted already (its pause is gone): Argo is switching its active Service.
        this.repointed.add(m);
        unpause();
        return promoting(`release ${release.id} promoting ${m} (${progress})`);
      }
      const notReady = order.filter((t) => !this.readings.get(t)!.promoted && !this.readings.get(t)!.ready);
      if (notReady.length > 0) {
        // No member moves while another changed member is not ready (§5 Order).
        return promoting(`release ${release.id} promoting: waiting for ${notReady.join(', ')} to be ready again before ${m} (${progress})`);
      }
      this.repointed.add(m);
      if (metadataInSync(view, this.desiredFor(m))) {
        this.releaseActions.push({ kind: 'Promote', rollout: m, resourceVersion: this.rv(m) });
        unpause();
      }
      return promoting(`release ${release.id} promoting ${m} (${progress})`);
    }
    this.repointed.clear();
    this.events.push({ type: 'Normal', reason: 'ReleaseCompleted', message: `release ${release.id} completed: ${order.join(', ')} promoted` });
    this.release = undefined;
    const message = `release ${release.id} completed; ${this.graph.members.length}/${this.graph.members.length} members stable`;
    return outcome('Healthy', 'True', 'ReleaseCompleted', message);
  }

  /**
   * Handles a `tandem.dev/promote` request; true when it opens the gate now. A request naming another
   * release is refused and removed; one naming this release is kept until the release is ready.
   */
  private promoteRequest(release: ReleaseStatus | undefined, canAccept: boolean): boolean {
    const value = this.request(REQUEST.promote);
    if (value === undefined) return false;
    const handle = () => this.handled.push({ annotation: REQUEST.promote, value });
    const refuse = (why: string) => {
      handle();
      this.events.push({ type: 'Warning', reason: 'PromoteRefused', message: `promote request for release ${value} refused: ${why}` });
      return false;
    };
    if (!release) return refuse('no release is in flight');
    if (value !== release.id) return refuse(`the release in flight is ${release.id}`);
    if (release.abortedAt) return refuse(`release ${release.id} was aborted`);
    if (release.promotedAt) {
      handle(); // already promoting: the request is spent
      return false;
    }
    if (!canAccept) return false;
    handle();
    return true;
  }

  /** Removes an abort request that cannot be honoured, with a Warning saying why. */
  private refuseAbort(why: string): void {
    const value = this.request(REQUEST.abort);
    if (value === undefined) return;
    this.handled.push({ annotation: REQUEST.abort, value });
    this.events.push({ type: 'Warning', reason: 'AbortRefused', message: `abort request refused: ${why}` });
  }

  private planWiring() {
    // Members removed from the spec keep Tandem's keys until released here (status.members remembers them).
    for (const former of this.formers) {
      const view = this.o.rollouts.get(former)!;
      this.wiring.push({ kind: 'ApplyMetadata', rollout: former, strategy: strategyKey(view.rollout), metadata: {} });
    }
    this.formersReleased = true;
    for (const name of this.graph.members) {
      const view = this.o.rollouts.get(name);
      if (!view) continue;
      const desired = this.desiredFor(name);
      if (!metadataInSync(view, desired)) {
        this.wiring.push({ kind: 'ApplyMetadata', rollout: name, strategy: strategyKey(view.rollout), metadata: desired });
        this.wait(SETTLE_MS);
      }
    }
  }

  private desiredFor(name: string) {
    const member = this.o.group.spec.members.find((m) => m.rollout === name)!;
    const targets = new Set(this.release?.targets.map((t) => t.rollout) ?? []);
    const repointed = this.repointed.has(name);
    return desiredMetadata({
      member,
      rollouts: this.o.rollouts,
      services: this.o.services,
      clusterDomain: this.o.clusterDomain,
      previewRole: (): ServiceRole => 'preview',
      activeRole: (dep): ServiceRole => (repointed && targets.has(dep) ? 'preview' : 'active'),
    });
  }

  private status({ phase, message, ready }: Outcome): RolloutGroupStatus {
    const prev = this.o.group.status;
    const gen = this.o.group.metadata.generation;
    const prevConditions: readonly Condition[] = prev?.conditions ?? [];
    const pending = this.formersReleased ? [] : this.formers;
    const members = [
      ...this.graph.members.map((m) => memberStatus(m, this.o, this.readings.get(m), this.states.get(m))),
      ...pending.map((m) => memberStatus(m, this.o, undefined)),
    ];
    const release = this.release;
    const counted = release ? release.targets.map((t) => t.rollout) : this.graph.members;
    const good = counted.filter((m) => {
      const r = this.readings.get(m);
      return r && (release ? r.ready || r.promoted : !r.changed && !r.failed);
    }).length;
    return {
      observedGeneration: gen,
      phase,
      message,
      readyMembers: `${good}/${counted.length}`,
      ...(release ? { release } : {}),
      members,
      conditions: [
        setCondition(prevConditions, ready, gen, this.nowIso),
        setCondition(prevConditions, { type: 'SpecValid', status: 'True', reason: 'Valid', message: 'spec is valid' }, gen, this.nowIso),
      ],
    };
  }

  private request(annotation: string): string | undefined {
    return this.o.group.metadata.annotations[annotation];
  }

  private rv(name: string): string {
    return this.o.rollouts.get(name)!.rollout.metadata.resourceVersion;
  }

  private wait(ms: number) {
    this.requeue = this.requeue === undefined ? ms : Math.min(this.requeue, ms);
  }
}

const names = (rs: readonly MemberReading[]) => rs.map((r) => r.name).join(', ');
