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
import { hasPassed, readMember, type MemberReading } from './member-reading.ts';
import type { Observed } from './observed.ts';
import type { Action, HandledRequest, Plan, PlannedEvent } from './plan-types.ts';
import { releaseId } from './release-id.ts';
import { stagesOf, type Stage } from './stages.ts';
import { templateOf } from './template-restore.ts';
import { validate, type SpecProblem } from './validation.ts';
import { desiredMetadata, metadataInSync, ownsAnyMetadata, type ServiceRole } from './wiring.ts';

/** How often a release in flight is looked at even when no watch event arrives. */
export const RESYNC_MS = 10_000;
/** How soon to look again after Argo has yet to observe a change. */
export const SETTLE_MS = 1_000;

/**
 * The one pure entry point: from what was observed, the writes to make and the status to persist.
 * Holds the rules of DESIGN §2–§5: Lockstep and Ordered groups of blue-green and canary members.
 */
export function plan(o: Observed): Plan {
  if (o.group.metadata.deletionTimestamp) return planDeletion(o);
  const actions: Action[] = [];
  if (!o.group.metadata.finalizers.includes(FINALIZER)) actions.push({ kind: 'AddFinalizer' });
  const validation = validate(o);
  if (!validation.valid) return planInvalid(o, actions, validation.problems);
  return new ReleasePlanner(o, validation.graph, actions).plan();
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

class ReleasePlanner {
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
  private readonly lockstep: boolean;
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
    this.lockstep = o.group.spec.strategy === 'Lockstep';
    this.formers = formerMembers(o);
    for (const name of graph.members) {
      const view = o.rollouts.get(name);
      if (view) this.readings.set(name, readMember(view.rollout, o.replicaSets, o.services));
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
        .map((r) => ({ rollout: r.name, revision: r.desiredRevision!, ...(r.stableRevision ? { from: r.stableRevision } : {}) }))
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
    if (prev && this.stillHolds(prev, targets)) {
      return { ...prev, promotedMembers: [...prev.promotedMembers], ...(prev.rolledBack ? { rolledBack: [...prev.rolledBack] } : {}) };
    }
    if (targets.length === 0) return undefined;
    const id = releaseId(targets);
    const summary = targets.map((t) => `${t.rollout}@${t.revision}`).join(', ');
    this.events.push({
      type: 'Normal',
      reason: 'ReleaseStarted',
      message: prev ? `release ${id} (${summary}) replaces release ${prev.id}` : `release ${id} started: ${summary}`,
    });
    return { id, targets, startedAt: this.nowIso, stageStartedAt: this.nowIso, promotedMembers: [] };
  }

  /** Every target still heads to its revision (or was rolled back by Tandem), and no other member changed. */
  private stillHolds(prev: ReleaseStatus, changed: readonly ReleaseTarget[]): boolean {
    const rolledBack = new Set(prev.rolledBack ?? []);
    const expected = (t: ReleaseTarget, revision: string | undefined) =>
      revision === t.revision || (rolledBack.has(t.rollout) && revision === t.from);
    const sameTargets = prev.targets.every((t) => expected(t, this.readings.get(t.rollout)?.desiredRevision));
    const noNewChange = changed.every((c) => prev.targets.some((t) => t.rollout === c.rollout && expected(t, c.revision)));
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
    this.refuseRetry('no release is in flight');
    const message = `${this.graph.members.length}/${this.graph.members.length} members stable`;
    return outcome('Healthy', 'True', 'Stable', message);
  }

  private at(name: string): MemberReading {
    return this.readings.get(name)!;
  }

  private planRelease(release: ReleaseStatus): Outcome {
    const targets = release.targets.map((t) => t.rollout);
    const stages = stagesOf(this.o.group.spec, this.graph, targets, this.readings);
    release.stages = stages.length;
    for (const { rollout, revision } of release.targets) {
      const r = this.at(rollout);
      this.states.set(rollout, r.desiredRevision !== revision ? 'RolledBack' : r.promoted ? 'Promoted' : r.ready ? 'Ready' : 'Deploying');
    }
    if (release.abortedAt) return this.planAborted(release, targets);

    const stage = stages[release.stage ?? 0];
    if (!stage) return this.complete(release);
    const abortRequest = this.request(REQUEST.abort);
    if (release.retries && this.request(REQUEST.retry) === release.id) {
      this.handled.push({ annotation: REQUEST.retry, value: release.id }); // taken already; its removal was lost
    } else {
      this.refuseRetry(`release ${release.id} is not aborted`);
    }
    const failed = targets.filter((t) => this.at(t).failed && !this.at(t).promoted);
    const stageReady = stage.movers.every((m) => this.readyAt(m, stage) || this.movedOn(m, stage));
    const deadline = Date.parse(release.stageStartedAt ?? release.startedAt) + this.o.group.spec.progressDeadlineSeconds * 1000;
    const deadlinePassed = !release.promotedAt && !release.firstReadyAt && !stageReady && this.o.now >= deadline;

    if (failed.length > 0 || deadlinePassed || abortRequest !== undefined) {
      release.abortedAt = this.nowIso;
      release.abortReason =
        failed.length > 0
          ? `member ${failed.map((f) => `${f} failed (${this.at(f).message ?? this.at(f).phase ?? 'aborted'})`).join(', ')}`
          : deadlinePassed
            ? `not ready within ${this.o.group.spec.progressDeadlineSeconds}s: waiting for ${stage.movers.filter((m) => !this.readyAt(m, stage)).join(', ')}`
            : `abort requested: ${abortRequest || 'no reason given'}`;
      this.events.push({ type: 'Warning', reason: 'ReleaseAborted', message: `release ${release.id} aborted: ${release.abortReason}` });
      return this.planAborted(release, targets);
    }
    if (!release.promotedAt) return this.planGate(release, stage, stageReady, deadline);
    return this.planCutover(release, stage);
  }

  /** Past this stage's barrier; at the last one that means promoted, not merely resumed (Argo still scales). */
  private movedOn(m: string, stage: Stage): boolean {
    const r = this.at(m);
    return stage.final ? r.promoted : hasPassed(r, stage.barrier);
  }

  /** Paused at exactly this stage's barrier with the new pods available. */
  private readyAt(m: string, stage: Stage): boolean {
    const r = this.at(m);
    return r.ready && r.atBarrier === stage.barrier;
  }

  private stageLabel(release: ReleaseStatus, stage: Stage): string {
    if (this.lockstep) return stage.barriers > 1 ? `release ${release.id} (barrier ${stage.barrier + 1}/${stage.barriers})` : `release ${release.id}`;
    const step = stage.barriers > 1 ? ` barrier ${stage.barrier + 1}/${stage.barriers}` : '';
    return `release ${release.id} (${stage.movers[0]}${step}, stage ${(release.stage ?? 0) + 1}/${release.stages})`;
  }

  private planGate(release: ReleaseStatus, stage: Stage, stageReady: boolean, deadline: number): Outcome {
    const { auto, soakSeconds } = this.o.group.spec.promotion;
    const label = this.stageLabel(release, stage);
    const movers = stage.movers;
    if (movers.every((m) => this.movedOn(m, stage))) {
      // Moved on already (a restart, or a retry of an Ordered release whose first members stayed).
      return this.advance(release, stage);
    }
    const readyCount = movers.filter((m) => this.readyAt(m, stage)).length;
    if (!stageReady) {
      delete release.readyAt;
      this.wait(release.firstReadyAt ? RESYNC_MS : Math.max(0, Math.min(RESYNC_MS, deadline - this.o.now)));
      this.promoteRequest(release, false);
      const waiting = movers.filter((m) => !this.readyAt(m, stage));
      const message = `${label}: ${readyCount}/${movers.length} members ready; waiting for ${waiting.join(', ')}`;
      return outcome('Progressing', 'False', 'ReleaseProgressing', message);
    }
    release.firstReadyAt ??= this.nowIso;
    if (!release.readyAt) {
      release.readyAt = this.nowIso;
      this.events.push({ type: 'Normal', reason: 'ReleaseReady', message: `${label} ready: ${movers.length}/${movers.length} members` });
    }
    const soakEnds = Date.parse(release.readyAt) + soakSeconds * 1000;
    const requested = this.promoteRequest(release, true);
    if (requested || (auto && this.o.now >= soakEnds)) {
      release.promotedAt = this.nowIso;
      const by = requested ? 'promote request' : 'auto promotion';
      this.events.push({ type: 'Normal', reason: 'PromotionStarted', message: `${label}: ${stage.final ? 'cutover' : 'resume'} started by ${by}` });
      this.wait(0);
      return outcome('Promoting', 'False', 'Promoting', `${label} promoting: ${stage.final ? 'cutover' : 'resume'} started`);
    }
    if (auto) this.wait(Math.max(0, soakEnds - this.o.now));
    const message = auto
      ? `${label} ready: ${movers.length}/${movers.length} members; soaking until ${new Date(soakEnds).toISOString()}`
      : `${label} ready: ${movers.length}/${movers.length} members; waiting for promote`;
    return outcome('Paused', 'False', auto ? 'Soaking' : 'AwaitingPromotion', message);
  }

  /** Dependents first: (repoint,) resume, wait until moved on, then the next (§4). */
  private planCutover(release: ReleaseStatus, stage: Stage): Outcome {
    this.promoteRequest(release, false);
    const label = this.stageLabel(release, stage);
    const repoint = this.lockstep && stage.final;
    const movers = stage.movers;
    for (const m of movers) {
      const r = this.at(m);
      const done = this.movedOn(m, stage);
      if (repoint && r.promoted) this.repointed.add(m);
      if (done && release.promotedMembers.includes(m)) continue;
      if (done) {
        // Persist the progress before the next member moves, so a restart resumes from here (§4b).
        release.promotedMembers.push(m);
        const what = stage.final ? `promoted to ${r.desiredRevision}` : `resumed past barrier ${stage.barrier + 1}/${stage.barriers}`;
        this.events.push({ type: 'Normal', reason: 'MemberPromoted', message: `${label}: ${m} ${what}` });
        if (release.promotedMembers.length < movers.length) {
          this.wait(0);
          return outcome('Promoting', 'False', 'Promoting', `${label} promoting: ${m} ${what} (${release.promotedMembers.length}/${movers.length})`);
        }
        continue;
      }
      this.states.set(m, 'Promoting');
      this.wait(SETTLE_MS * 2);
      const view = this.o.rollouts.get(m)!;
      const unpause = () => {
        if (view.rollout.spec.paused === true) this.releaseActions.push({ kind: 'Unpause', rollout: m });
      };
      const promoting = (message: string) => outcome('Promoting', 'False', 'Promoting', message);
      const progress = `${release.promotedMembers.length}/${movers.length} ${stage.final ? 'promoted' : 'resumed'}`;
      if (r.atBarrier !== stage.barrier) {
        // Resumed already (its pause is gone): Argo is moving it on.
        if (repoint) this.repointed.add(m);
        unpause();
        return promoting(`${label} promoting ${m} (${progress})`);
      }
      const notReady = movers.filter((t) => !this.movedOn(t, stage) && !this.readyAt(t, stage));
      if (notReady.length > 0) {
        // No member moves while another is not ready (§5 Order).
        return promoting(`${label} promoting: waiting for ${notReady.join(', ')} to be ready again before ${m} (${progress})`);
      }
      if (repoint) this.repointed.add(m);
      if (metadataInSync(view, this.desiredFor(m))) {
        this.releaseActions.push({ kind: 'Promote', rollout: m, resourceVersion: this.rv(m) });
        unpause();
      }
      return promoting(`${label} promoting ${m} (${progress})`);
    }
    return this.advance(release, stage);
  }

  /** Every mover of the stage moved on: the next stage starts, or the release is complete. */
  private advance(release: ReleaseStatus, stage: Stage): Outcome {
    if ((release.stage ?? 0) + 1 >= (release.stages ?? 1)) return this.complete(release);
    release.stage = (release.stage ?? 0) + 1;
    release.stageStartedAt = this.nowIso;
    release.promotedMembers = [];
    delete release.readyAt;
    delete release.firstReadyAt;
    delete release.promotedAt;
    this.wait(0);
    const passed = stage.final ? `${stage.movers.join(', ')} promoted` : `barrier ${stage.barrier + 1}/${stage.barriers} passed`;
    return outcome('Progressing', 'False', 'ReleaseProgressing', `release ${release.id}: ${passed}; stage ${release.stage + 1}/${release.stages} next`);
  }

  private complete(release: ReleaseStatus): Outcome {
    this.repointed.clear();
    const promoted = release.targets.map((t) => t.rollout).join(', ');
    this.events.push({ type: 'Normal', reason: 'ReleaseCompleted', message: `release ${release.id} completed: ${promoted} promoted` });
    this.release = undefined;
    const message = `release ${release.id} completed; ${this.graph.members.length}/${this.graph.members.length} members stable`;
    return outcome('Healthy', 'True', 'ReleaseCompleted', message);
  }

  /**
   * After a failure: abort what has not gone live. Lockstep also rolls the members that went live back
   * to their previous revision (§4.6), so no member is left on the new revision while another is on the
   * old; Ordered leaves the members before the failed one where they are.
   */
  private planAborted(release: ReleaseStatus, targets: readonly string[]): Outcome {
    this.promoteRequest(release, false);
    const abortRequest = this.request(REQUEST.abort);
    if (abortRequest !== undefined) this.handled.push({ annotation: REQUEST.abort, value: abortRequest });
    const retried = this.retry(release, targets);
    if (retried) return retried;
    const rolledBack = new Set(release.rolledBack ?? []);
    const restored = new Set(release.restored ?? []);
    const reapplied: string[] = [];
    const stuck: string[] = [];
    const returning: string[] = [];
    const kept: string[] = [];
    for (const target of release.targets) {
      const t = target.rollout;
      const r = this.at(t);
      const live = r.desiredRevision === target.revision && r.promoted;
      if (this.lockstep && (live || rolledBack.has(t))) {
        this.states.set(t, 'RolledBack');
        if (restored.has(t) && r.desiredRevision === target.revision) {
          // Rolled back once and put back (Argo CD self-heal re-applying Git, or a person): not fought.
          this.states.set(t, r.promoted ? 'Promoted' : 'Deploying');
          reapplied.push(t);
          continue;
        }
        // While its live pods are the new ones they keep the dependencies' previews (still the new pods).
        if (r.desiredRevision === target.revision || r.stableRevision === target.revision) this.repointed.add(t);
        if (!rolledBack.has(t)) {
          // Persisted before the template is touched, so a restart knows the revision it finds is Tandem's doing.
          rolledBack.add(t);
          returning.push(t);
          this.events.push({
            type: 'Warning',
            reason: 'ReleaseRolledBack',
            message: `release ${release.id}: ${t} rolled back from ${target.revision} to ${target.from ?? 'its previous revision'} because the release failed; Git still declares ${target.revision}: fix or revert it there`,
          });
          continue;
        }
        if (r.desiredRevision === target.revision) {
          const template = target.from ? templateOf(this.o.replicaSets, t, target.from) : undefined;
          if (!template) {
            stuck.push(t);
            this.states.set(t, 'Failed');
            continue;
          }
          this.releaseActions.push({ kind: 'RestoreTemplate', rollout: t, resourceVersion: this.rv(t), revision: target.from!, template });
          returning.push(t);
        } else if (!r.promoted) {
          // Back on the previous revision but its old ReplicaSet was gone: Argo waits at the gate again.
          if (r.atGate) this.releaseActions.push({ kind: 'Promote', rollout: t, resourceVersion: this.rv(t) });
          returning.push(t);
        } else {
          restored.add(t);
        }
        continue;
      }
      if (live) kept.push(t); // Ordered: members before the failed one stay
      if (r.failed) this.states.set(t, 'Failed');
      if (!r.promoted && !r.aborted) {
        this.releaseActions.push({ kind: 'Abort', rollout: t, resourceVersion: this.rv(t) });
        this.states.set(t, 'Failed');
      }
    }
    if (rolledBack.size > 0) release.rolledBack = [...rolledBack].sort();
    if (restored.size > 0) release.restored = [...restored].sort();
    if (returning.length > 0) this.wait(SETTLE_MS * 2);
    let message = `release ${release.id} aborted: ${release.abortReason}`;
    if (rolledBack.size > 0) {
      message += returning.length > 0 ? `; rolling back ${returning.join(', ')}` : `; rolled back ${[...rolledBack].join(', ')}`;
      message += '; Git still declares the new revisions';
    }
    if (stuck.length > 0) message += `; cannot roll back ${stuck.join(', ')}: the ReplicaSet of the previous revision is gone`;
    if (reapplied.length > 0) message += `; ${reapplied.join(', ')} put back on the new revision after the rollback (Argo CD self-heal?), left as is: fix it in Git`;
    if (kept.length > 0) message += `; ${kept.join(', ')} already promoted and left on the new revision`;
    return outcome('Degraded', 'False', rolledBack.size > 0 ? 'ReleaseRolledBack' : 'ReleaseAborted', message);
  }

  /** A `tandem.dev/retry` request for this aborted release: restart every member's update. */
  private retry(release: ReleaseStatus, targets: readonly string[]): Outcome | undefined {
    const value = this.request(REQUEST.retry);
    if (value === undefined) return undefined;
    if (value !== release.id) return this.refuseRetry(`the release in flight is ${release.id}`);
    if (release.promotedAt) {
      // Argo re-promotes a member that already passed its pause as soon as its abort is cleared, and
      // returns at once to a ReplicaSet still up: no gate, no order. A new revision in Git is the way on.
      return this.refuseRetry(`release ${release.id} failed during its cutover, and Argo would switch its members again without a gate or order; change the Rollouts in Git to start a new release`);
    }
    const blueGreen = release.targets.filter((t) => this.at(t.rollout).aborted && this.at(t.rollout).strategy === 'BlueGreen').map((t) => t.rollout);
    if (blueGreen.length > 0) {
      // Argo 1.9 answers `abort: false` on a blue-green update whose preview was up by going live at once.
      return this.refuseRetry(`Argo Rollouts would switch ${blueGreen.join(', ')} live at once, skipping the gate and the order; change the Rollouts in Git to start a new release`);
    }
    // A retried canary starts its steps again from the first and pauses at its first barrier.
    const actions: Action[] = release.targets
      .filter((t) => this.at(t.rollout).aborted)
      .map((t) => ({ kind: 'Retry', rollout: t.rollout, resourceVersion: this.rv(t.rollout) }));
    this.handled.push({ annotation: REQUEST.retry, value });
    this.releaseActions.push(...actions);
    const retries = (release.retries ?? 0) + 1;
    this.release = {
      id: release.id,
      targets: release.targets,
      startedAt: this.nowIso,
      stageStartedAt: this.nowIso,
      promotedMembers: [],
      retries,
    };
    for (const t of targets) this.states.set(t, 'Deploying');
    const message = `release ${release.id} retried (attempt ${retries + 1}): ${targets.join(', ')}`;
    this.events.push({ type: 'Normal', reason: 'ReleaseRetried', message });
    this.wait(SETTLE_MS);
    return outcome('Progressing', 'False', 'ReleaseRetried', message);
  }

  /**
   * Handles a `tandem.dev/promote` request, `<release id>` or `<release id>/<stage>` (1-based, to open
   * one gate of a multi-stage release only); true when it opens the gate now. A request naming another
   * release or a stage already passed is refused and removed; one for a gate not yet ready is kept
   * until it is; one arriving while its gate is already open is spent.
   */
  private promoteRequest(release: ReleaseStatus | undefined, canAccept: boolean): boolean {
    const value = this.request(REQUEST.promote);
    if (value === undefined) return false;
    const handle = () => this.handled.push({ annotation: REQUEST.promote, value });
    const refuse = (why: string) => {
      handle();
      this.events.push({ type: 'Warning', reason: 'PromoteRefused', message: `promote request ${value} refused: ${why}` });
      return false;
    };
    const [id, stageText] = value.split('/');
    if (!release) return refuse('no release is in flight');
    if (id !== release.id) return refuse(`the release in flight is ${release.id}`);
    if (release.abortedAt) return refuse(`release ${release.id} was aborted`);
    const current = release.stage ?? 0;
    const stages = release.stages ?? 1;
    const wanted = stageText === undefined ? current : Number(stageText) - 1;
    if (!Number.isInteger(wanted) || wanted < 0 || wanted >= stages) return refuse(`release ${release.id} has stages 1 to ${stages}`);
    if (wanted < current) return refuse(`stage ${wanted + 1} of release ${release.id} has passed; it is at stage ${current + 1}`);
    if (wanted > current) return false; // for a later gate: kept until the release gets there
    if (release.promotedAt) {
      // Spent: the one that opened this gate if its removal was lost, or early for a gate not yet reached.
      handle();
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

  private refuseRetry(why: string): undefined {
    const value = this.request(REQUEST.retry);
    if (value === undefined) return undefined;
    this.handled.push({ annotation: REQUEST.retry, value });
    this.events.push({ type: 'Warning', reason: 'RetryRefused', message: `retry request for release ${value} refused: ${why}` });
    return undefined;
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
      // Ordered: a dependency is complete before its dependent moves, so previews talk to the active side (§3).
      previewRole: (): ServiceRole => (this.lockstep ? 'preview' : 'active'),
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
