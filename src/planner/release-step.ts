import { releaseFailed, type MemberState, type Phase, type ReleaseStatus, type ReleaseTarget, type RolloutGroupSpec } from '../api/rolloutgroup.ts';
import type { ReplicaSet } from '../api/rollout.ts';
import type { ServiceRole } from '../api/rollout-roles.ts';
import type { DependencyGraph } from '../graph/dependency-graph.ts';
import type { ConditionInput } from './conditions.ts';
import { hasPassed, replicaSetOf, type MemberReading } from './member-reading.ts';
import { namesValues, parsePinEntry, pinEntry, unpinnedKey } from './pins.ts';
import { injectedMetadata } from './injected-metadata.ts';
import type { Action, HandledRequest, PlannedEvent } from './plan-types.ts';
import { EVENT, READY, type ReadyReason } from './reasons.ts';
import { releaseId } from './release-id.ts';
import { decideRequests, type RequestContext, type RequestDecision, type Requests } from './release-requests.ts';
import { specHashOf } from './spec-hash.ts';
import { stagesOf, type Stage } from './stages.ts';
import { templateOf } from './template-restore.ts';
import type { AnalysisView } from './analysis.ts';
import type { AnalysisPoint } from '../api/analysis.ts';
import type { Settled } from './data-plane.ts';

/** How often a release in flight is looked at even when no watch event arrives. */
export const RESYNC_MS = 10_000;
/** How soon to look again after Argo has yet to act on a change. */
export const SETTLE_MS = 1_000;

export interface StepInput {
  /** The persisted release, or none. */
  readonly release: ReleaseStatus | undefined;
  readonly spec: RolloutGroupSpec;
  readonly graph: DependencyGraph;
  /** Every member's reading, all trusted (plan() waits for Argo otherwise). */
  readonly readings: ReadonlyMap<string, MemberReading>;
  readonly replicaSets: readonly ReplicaSet[];
  readonly requests: Requests;
  readonly now: number;
  /** Whether a member's desired metadata is on its Rollout (Argo may act on it). */
  readonly wired: (rollout: string) => boolean;
  /**
   * Whether a member's preview pods have every preview address of their dependencies, none held
   * back (preview-hold.ts), written on its Rollout; absent: always. A member is ready at a barrier
   * only then, also when its app is ready without an address.
   */
  readonly previewWired?: (rollout: string) => boolean;
  /** A member's pins, naming for each dependency the Service `roleOf` says, or none (pins.ts). */
  readonly pins: (rollout: string, roleOf: (dependency: string) => ServiceRole | undefined) => Readonly<Record<string, string>>;
  /** Every pin key a member's pods may carry. */
  readonly pinKeys: (rollout: string) => readonly string[];
  /** The group's AnalysisRun of a point at a stage of the release; undefined when it has none there. */
  readonly analysis?: (point: AnalysisPoint, release: ReleaseStatus, stage: number) => AnalysisView | undefined;
  /** Whether a member's `role` Service routes only to its `revision`'s pods in the data plane (data-plane.ts); absent: the Service object decides. */
  readonly servesOnly?: (rollout: string, role: ServiceRole, revision: string) => Settled;
  /** Whether a member's `role` Service lists no terminating pod (data-plane.ts); absent: it does not. */
  readonly drained?: (rollout: string, role: ServiceRole) => boolean;
}

export interface Outcome {
  readonly phase: Phase;
  readonly message: string;
  readonly ready: ConditionInput;
}

export interface StepResult {
  readonly release: ReleaseStatus | undefined;
  readonly actions: readonly Action[];
  readonly events: readonly PlannedEvent[];
  readonly handled: readonly HandledRequest[];
  readonly outcome: Outcome;
  readonly states: ReadonlyMap<string, MemberState>;
  readonly requeueAfterMs: number | undefined;
}

export const outcome = (phase: Phase, status: 'True' | 'False', reason: ReadyReason, message: string): Outcome => ({
  phase,
  message,
  ready: { type: 'Ready', status, reason, message },
});

/** Why a failed or errored analysis fails its release (abortReason and the AnalysisFailed event); undefined for any other phase. */
const analysisFailure = (a: Pick<AnalysisView, 'name' | 'phase' | 'message'> | undefined): string | undefined =>
  a && (a.phase === 'Failed' || a.phase === 'Error') ? `analysis ${a.name} ${a.phase}: ${a.message ?? 'no metric says why'}` : undefined;

/**
 * The release's latest group AnalysisRun, named in the message when the state's own words do not
 * name it (a run that succeeded at the gate, a guard running while members are promoted): the
 * message is what `kubectl get`, Argo CD's health and the dashboard show.
 */
function withAnalysis(o: Outcome, release: ReleaseStatus | undefined): Outcome {
  const last = release?.analysisRuns?.at(-1);
  if (!last || o.message.includes(last.name)) return o;
  const message = `${o.message}; analysis ${last.name} ${last.phase.toLowerCase()}`;
  return { ...o, message, ready: { ...o.ready, message } };
}

const byName = (a: ReleaseTarget, b: ReleaseTarget) => (a.rollout < b.rollout ? -1 : a.rollout > b.rollout ? 1 : 0);

/**
 * The release's one step (DESIGN §4, §4b): from the persisted release, what Argo shows, the requests
 * and the time, the next release state, the member writes, the events and the requests handled.
 * A switch over the state; each state's rules live in the function it names.
 */
export function step(input: StepInput): StepResult {
  return new Step(input).run();
}

/** Pins to the `role` Service of the dependencies the release moves; none to the others. */
const inRelease = (release: ReleaseStatus, role: ServiceRole) => (dependency: string): ServiceRole | undefined =>
  release.targets.some((t) => t.rollout === dependency) ? role : undefined;

/**
 * A cutover's pins: the previews of the dependencies the release moves, the active side of the others.
 * Argo gives a revision active but not yet stable its preview metadata, and strips the role metadata
 * of one Git moves past: pinned, its pods keep the dependencies they went live with either way.
 */
const cutoverRole = (release: ReleaseStatus) => (dependency: string): ServiceRole => inRelease(release, 'preview')(dependency) ?? 'active';

class Step {
  readonly in: StepInput;
  readonly actions: Action[] = [];
  readonly events: PlannedEvent[] = [];
  readonly handled: HandledRequest[] = [];
  readonly states = new Map<string, MemberState>();
  requeue: number | undefined;
  readonly nowIso: string;
  /** A promote request for the current gate was accepted in this step. */
  private gateRequested = false;

  constructor(input: StepInput) {
    this.in = input;
    this.nowIso = new Date(input.now).toISOString();
  }

  run(): StepResult {
    const release = this.resolve(this.in.release, this.changedTargets());
    const result = release ? this.advance(release) : this.steady();
    const settled = this.unpin(result.release);
    return {
      release: settled,
      actions: this.actions,
      // What the release did first, then what was said about the requests.
      events: [...this.events, ...(this.decision?.events ?? [])],
      handled: this.handled,
      outcome: withAnalysis(result.outcome, settled),
      states: this.states,
      requeueAfterMs: this.requeue,
    };
  }

  wait(ms: number) {
    this.requeue = this.requeue === undefined ? ms : Math.min(this.requeue, ms);
  }

  at(name: string): MemberReading {
    return this.in.readings.get(name)!;
  }

  /** servesOnly, looking again once its settle delay has run (a slice change wakes the group before that). */
  servesOnly(rollout: string, role: ServiceRole, revision: string | undefined): boolean {
    if (revision === undefined || !this.in.servesOnly) return true;
    const s = this.in.servesOnly(rollout, role, revision);
    if (!s.settled) this.wait(s.inMs ?? SETTLE_MS);
    return s.settled;
  }

  private changedTargets(): ReleaseTarget[] {
    return [...this.in.readings.values()]
      .filter((r) => r.changed)
      .map((r) => ({ rollout: r.name, revision: r.desiredRevision!, ...(r.stableRevision ? { from: r.stableRevision } : {}) }))
      .sort(byName);
  }

  // ---- which release is in flight ----

  /**
   * The release in flight: the persisted one while its targets hold, or while something of it is live
   * and can still be finished or must be rolled back (§4b); else a new one from what changed.
   */
  private resolve(prev: ReleaseStatus | undefined, changed: ReleaseTarget[]): ReleaseStatus | undefined {
    if (prev && this.holds(prev, changed)) return structuredClone(prev);
    if (prev && (prev.state === 'CuttingOver' || prev.state === 'RollingBack' || this.forwardPending(prev) || this.abortLeft(prev) || this.abortedUnder(prev))) {
      const kept = this.keepThroughChange(prev, changed);
      if (kept) return kept;
    }
    if (changed.length === 0) return undefined;
    return this.start(prev ? changed.map((t) => this.backFromStranded(t, prev)) : changed, prev);
  }

  /**
   * A member live on a revision Git moved past (its pin entry says stranded) went live with
   * dependency revisions that are gone: a new release that fails goes back to where the release
   * that took it live came from, the last revisions that matched (all or nothing), not to it.
   */
  private backFromStranded(t: ReleaseTarget, prev: ReleaseStatus): ReleaseTarget {
    const before = prev.targets.find((x) => x.rollout === t.rollout);
    const stranded = (prev.pinned ?? []).some((e) => {
      const { rollout, revision } = parsePinEntry(e);
      return namesValues(e) && rollout === t.rollout && revision === t.from;
    });
    return stranded && before !== undefined && before.revision === t.from && before.from !== undefined ? { ...t, from: before.from } : t;
  }

  /** Every target still heads to its revision (or was rolled back by Tandem), and nothing else changed. */
  private holds(prev: ReleaseStatus, changed: readonly ReleaseTarget[]): boolean {
    const rolledBack = new Set(prev.rolledBack ?? []);
    const expected = (t: ReleaseTarget, revision: string | undefined) => revision === t.revision || (rolledBack.has(t.rollout) && revision === t.from);
    const sameTargets = prev.targets.every((t) => expected(t, this.in.readings.get(t.rollout)?.desiredRevision));
    const noNewChange = changed.every((c) => prev.targets.some((t) => t.rollout === c.rollout && expected(t, c.revision)));
    return prev.targets.length > 0 && sameTargets && noNewChange;
  }

  /**
   * A newer revision (or a change of another member) after the gate opened. A rollback always
   * finishes first. A cutover whose unmoved members still head to their revisions is finished; the
   * changes wait for the next release. One whose unmoved member moved on to a newer revision cannot
   * be finished: members already live roll back, so no live dependent is left with an old dependency.
   */
  private keepThroughChange(prev: ReleaseStatus, changed: readonly ReleaseTarget[]): ReleaseStatus | undefined {
    const release = structuredClone(prev);
    const target = new Map(release.targets.map((t) => [t.rollout, t]));
    const deferred = changed.filter((c) => target.get(c.rollout)?.revision !== c.revision).map((c) => `${c.rollout}@${c.revision}`);
    const announce = () => {
      const fresh = deferred.filter((d) => !(prev.deferred ?? []).includes(d));
      if (fresh.length > 0) {
        this.events.push({ type: 'Normal', reason: EVENT.ChangeDeferred, message: `${fresh.join(', ')} arrived during release ${release.id}; it waits for the next release` });
      }
      if (deferred.length > 0) release.deferred = deferred;
      else delete release.deferred;
    };
    if (releaseFailed(release)) {
      announce();
      return release;
    }
    const stage = this.stagesOf(release)[release.stage ?? 0];
    if (!stage) return undefined;
    const unmoved = stage.movers.filter((m) => !this.movedOn(m, stage, release));
    const superseded = unmoved.filter((m) => this.at(m).desiredRevision !== target.get(m)?.revision);
    if (superseded.length === 0) {
      announce();
      return release;
    }
    const live = stage.movers.filter((m) => this.isLive(m, stage, release));
    if (!this.rollsBack(release, stage) || live.length === 0) return undefined; // nothing live: a new release replaces it
    announce();
    const what = superseded.map((m) => `${m}@${this.at(m).desiredRevision}`).join(', ');
    // A live member Git moved on too cannot go back: it stays live until the next release (stranded).
    const back = live.filter((m) => this.at(m).desiredRevision === target.get(m)?.revision);
    const stay = live.filter((m) => !back.includes(m));
    // Argo strips the role metadata of a revision neither desired nor stable: a stranded one keeps an
    // address through its pin (`stranded`), which one with none from the cutover is given now.
    const unpinned = stay.filter((m) => !(release.pinned ?? []).some((e) => parsePinEntry(e).rollout === m && parsePinEntry(e).revision === target.get(m)!.revision));
    if (unpinned.length > 0) release.pinned = [...(release.pinned ?? []), ...unpinned.map((m) => pinEntry(m, target.get(m)!.revision))].sort();
    const fates = [
      ...(back.length > 0 ? [`${back.join(', ')} go back to their previous revision, then forward with it in a new release`] : []),
      ...(stay.length > 0 ? [`${stay.map((m) => `${m}@${target.get(m)?.revision}`).join(', ')} stay live, reaching the newest revisions of what they call once those are up, until a new release promotes ${stay.map((m) => `${m}@${this.at(m).desiredRevision}`).join(', ')}`] : []),
    ];
    const failed = this.fail(release, `superseded: ${what} arrived before ${superseded.join(', ')} was promoted; ${fates.join('; ')}`);
    return { ...failed, superseded: true } as ReleaseStatus;
  }

  /** A superseded release whose members are back but not yet forward again: it is not done. */
  private forwardPending(release: ReleaseStatus): boolean {
    if (release.state !== 'Aborted' || !release.superseded) return false;
    return release.targets.some((t) => (release.restored ?? []).includes(t.rollout) && this.at(t.rollout).desiredRevision === t.from);
  }

  /**
   * An aborted release with a member Argo still shows aborted on the release's revision: a release
   * started now would take that leftover abort for a failure of its own and abort the new revisions
   * with it. It holds until Git (or a retry) moves that member on; changes meanwhile are deferred.
   * Argo CD applies one commit's Rollouts one after the other, so the first new revision arrives
   * while the other member is still aborted.
   */
  private abortLeft(release: ReleaseStatus): boolean {
    return release.state === 'Aborted' && !release.superseded && this.abortOnIt(release);
  }

  /**
   * A release before its gate with a member Argo shows aborted on the release's revision: that is this
   * release's failure, seen in the same reconcile as a change. It fails (and then holds, as
   * `abortLeft` says) rather than being replaced by a release that would fail on it at once and
   * abort the new revisions with it.
   */
  private abortedUnder(release: ReleaseStatus): boolean {
    return release.state === 'Gating' && this.abortOnIt(release);
  }

  /** A member Argo shows aborted on the release's revision. */
  private abortOnIt(release: ReleaseStatus): boolean {
    return release.targets.some((t) => {
      const r = this.in.readings.get(t.rollout);
      return r?.aborted === true && r.desiredRevision === t.revision;
    });
  }

  private start(targets: ReleaseTarget[], prev: ReleaseStatus | undefined): ReleaseStatus {
    const id = releaseId(targets);
    const summary = targets.map((t) => `${t.rollout}@${t.revision}`).join(', ');
    const left = prev ? this.leftRolledBack(prev, targets) : [];
    const stays = left.length > 0 ? `; ${left.map((t) => `${t.rollout} stays on ${t.from}`).join(', ')}, rolled back by it while Git declares ${left.map((t) => `${t.rollout}@${t.revision}`).join(', ')}` : '';
    this.events.push({
      type: 'Normal',
      reason: EVENT.ReleaseStarted,
      message: prev ? `release ${id} (${summary}) replaces release ${prev.id}${stays}` : `release ${id} started: ${summary}`,
    });
    const names = new Set(targets.map((t) => t.rollout));
    return {
      state: 'Gating',
      id,
      targets,
      startedAt: this.nowIso,
      stage: 0,
      stageStartedAt: this.nowIso,
      progressAt: this.nowIso,
      promotedMembers: [],
      strategy: this.in.spec.strategy,
      sequence: this.sequenceOf(this.in.spec, [...names]),
      specHash: specHashOf(this.in.spec),
      // Pins of the release it replaces are kept on record until they are removed.
      ...(prev?.pinned?.length ? { pinned: prev.pinned } : {}),
    };
  }

  /**
   * Members a failed release rolled back that a new release leaves where they are: Tandem restored
   * their templates, so only Git (Argo CD shows them OutOfSync) still declares the failed revision.
   */
  private leftRolledBack(prev: ReleaseStatus, targets: readonly ReleaseTarget[]): ReleaseTarget[] {
    if (prev.superseded) return [];
    const restored = new Set(prev.restored ?? []);
    return prev.targets.filter((t) => restored.has(t.rollout) && !targets.some((n) => n.rollout === t.rollout) && this.at(t.rollout).desiredRevision === t.from);
  }

  /** Targets in the order the spec's strategy moves them, dependencies first. */
  private sequenceOf(spec: RolloutGroupSpec, targets: readonly string[]): string[] {
    const dependenciesFirst = this.in.graph.dependenciesFirst.filter((m) => targets.includes(m));
    return spec.strategy === 'Ordered' && spec.order === 'DependentsFirst' ? dependenciesFirst.reverse() : dependenciesFirst;
  }

  /** The release's stages, from the graph it started with (a release from v0.1 has none persisted). */
  stagesOf(release: ReleaseStatus): Stage[] {
    const strategy = release.strategy ?? this.in.spec.strategy;
    const sequence = release.sequence ?? this.sequenceOf(this.in.spec, release.targets.map((t) => t.rollout));
    return stagesOf(strategy, sequence, this.in.readings);
  }

  lockstep(release: ReleaseStatus): boolean {
    return (release.strategy ?? this.in.spec.strategy) === 'Lockstep';
  }

  /** A failure at this stage rolls live members back: only Lockstep's final stage puts members live together. */
  rollsBack(release: ReleaseStatus, stage: Stage): boolean {
    return this.lockstep(release) && stage.final;
  }

  // ---- the states ----

  private advance(release: ReleaseStatus): { release: ReleaseStatus | undefined; outcome: Outcome } {
    const stages = this.stagesOf(release);
    release.stages = stages.length;
    this.noteSpecChange(release);
    for (const t of release.targets) {
      const r = this.at(t.rollout);
      this.states.set(t.rollout, r.desiredRevision !== t.revision ? 'RolledBack' : r.promoted ? 'Promoted' : r.ready ? 'Ready' : 'Deploying');
    }
    switch (release.state) {
      case 'Gating':
      case 'CuttingOver': {
        const stage = stages[release.stage ?? 0];
        if (!stage) return this.complete(release);
        const failed = this.failure(release, stage);
        if (failed) return this.aborted(this.fail(release, failed, stage));
        return release.state === 'Gating' ? this.gating(release, stage) : this.cuttingOver(release, stage);
      }
      case 'RollingBack':
      case 'Aborted':
        return this.aborted(release);
    }
  }

  /** The spec was edited mid-release: reported once; the release keeps the graph it started with (§4b). */
  private noteSpecChange(release: ReleaseStatus) {
    const hash = specHashOf(this.in.spec);
    if (!release.specHash || release.specHash === hash) return;
    this.events.push({ type: 'Normal', reason: EVENT.SpecChangeDeferred, message: `the group's spec changed during release ${release.id}; the release keeps the strategy, order and dependencies it started with, and the change applies from the next release` });
    release.specHash = hash;
  }

  private steady(): { release: undefined; outcome: Outcome } {
    const prev = this.in.release;
    // Completed while this controller was down; a release Git walked away from is not announced.
    const completed = prev?.targets.every((t) => this.at(t.rollout)?.stableRevision === t.revision);
    if (prev?.state === 'CuttingOver' && completed) {
      this.events.push({ type: 'Normal', reason: EVENT.ReleaseCompleted, message: `release ${prev.id} completed` });
    }
    this.decide(undefined, { gateReady: false, retryRefusal: undefined });
    const n = this.in.graph.members.length;
    return { release: undefined, outcome: outcome('Healthy', 'True', READY.Stable, `${n}/${n} members stable`) };
  }

  private decision: RequestDecision | undefined;

  /** Requests are decided once a step, by the state the release is in when first asked. */
  private decide(release: ReleaseStatus | undefined, ctx: RequestContext): RequestDecision {
    if (this.decision) return { ...this.decision, retry: false };
    const d = (this.decision = decideRequests(release, this.in.requests, ctx));
    this.handled.push(...d.handled);
    return d;
  }

  /** Why the release fails now, if it does: a member failed, an abort request, or a stalled wait. */
  private failure(release: ReleaseStatus, stage: Stage): string | undefined {
    const failed = release.targets.map((t) => t.rollout).filter((t) => this.at(t).failed && !this.at(t).promoted);
    if (failed.length > 0) {
      return `member ${failed.map((f) => `${f} failed (${this.at(f).message ?? this.at(f).phase ?? 'aborted'})`).join(', ')}`;
    }
    const pre = this.preAnalysis(release, stage);
    const preFailed = analysisFailure(pre);
    if (preFailed) return preFailed;
    const post = this.postAnalysis(release, stage);
    const postFailed = analysisFailure(post);
    if (postFailed) return postFailed;
    // A promote request waits for the analysis (kept until it has succeeded); inconclusive, it decides.
    const analysisAllows = !pre || pre.phase === 'Successful' || pre.phase === 'Inconclusive';
    const gateReady = this.gateReady(release, stage) && analysisAllows;
    const decidesAnalysis = post?.phase === 'Inconclusive';
    const d = this.decide(release, { gateReady, retryRefusal: undefined, decidesAnalysis });
    if (d.opensGate && decidesAnalysis) {
      // A person let the inconclusive guard pass: recorded, so the release may complete.
      release.analysisRuns = (release.analysisRuns ?? []).map((r) => (r.name === post.name ? { ...r, accepted: true } : r));
    }
    if (d.abort !== undefined) return `abort requested: ${d.abort}`;
    if (d.opensGate) this.gateRequested = true;
    const stalled = this.stalled(release, stage);
    if (stalled) return stalled;
    const early = this.outOfBand(release, stage);
    if (early) return early;
    // A run stuck past its own duration plus the deadline holds no release (docs/analysis.md); before
    // the gate, someone else's promotion opens it regardless of the run, as outOfBand() says.
    const moved = stage.movers.some((m) => this.movedOn(m, stage, release));
    const overdue = (moved ? undefined : pre?.overdue) ?? post?.overdue;
    if (overdue) return overdue;
    return undefined;
  }

  /**
   * The analysis of the gate the release is at, recorded in the release; undefined when the group has
   * none there: pre-promotion before a cutover (a final stage), a barrier's at a Lockstep canary's
   * barrier before the last.
   */
  private preAnalysis(release: ReleaseStatus, stage: Stage): (AnalysisView & { point: AnalysisPoint }) | undefined {
    if (release.state !== 'Gating' || !this.in.analysis) return undefined;
    const point: AnalysisPoint | undefined = stage.final ? 'prePromotion' : this.lockstep(release) ? 'barrier' : undefined;
    const view = point ? this.in.analysis(point, release, release.stage ?? 0) : undefined;
    if (!view || !point) return undefined;
    if (view.phase) this.noteAnalysis(release, point, view.name, view.phase, view.message);
    return { ...view, point };
  }

  /** The post-promotion analysis guarding a cutover (a final stage), recorded in the release; undefined when none. */
  private postAnalysis(release: ReleaseStatus, stage: Stage): AnalysisView | undefined {
    if (release.state !== 'CuttingOver' || !stage.final || !this.in.analysis) return undefined;
    const view = this.in.analysis('postPromotion', release, release.stage ?? 0);
    if (view?.phase) this.noteAnalysis(release, 'postPromotion', view.name, view.phase, view.message);
    return view;
  }

  /** Records a run's phase in the release; a new conclusion is announced once. */
  private noteAnalysis(release: ReleaseStatus, point: AnalysisPoint, name: string, phase: NonNullable<AnalysisView['phase']>, message: string | undefined) {
    const runs = release.analysisRuns ?? [];
    const prev = runs.find((r) => r.name === name);
    if (prev && prev.phase === phase && prev.message === message) return;
    const accepted = prev?.accepted && phase === 'Inconclusive' ? { accepted: true } : {};
    release.analysisRuns = [...runs.filter((r) => r.name !== name), { name, point, stage: release.stage ?? 0, phase, ...(message ? { message } : {}), ...accepted }].slice(-16);
    if (prev?.phase === phase) return;
    const what = `release ${release.id}: analysis ${name}`;
    // Announced when first recorded: at its creation, or when first seen if that status write was lost.
    const when = point === 'prePromotion' ? 'before the gate' : point === 'barrier' ? `at barrier ${(release.stage ?? 0) + 1}` : 'to guard the cutover';
    if (!prev) this.events.push({ type: 'Normal', reason: EVENT.AnalysisStarted, message: `${what} started ${when}` });
    const failure = analysisFailure({ name, phase, message });
    if (phase === 'Successful') this.events.push({ type: 'Normal', reason: EVENT.AnalysisSucceeded, message: `${what} succeeded${message ? ` (${message})` : ''}` });
    else if (failure) this.events.push({ type: 'Warning', reason: EVENT.AnalysisFailed, message: `release ${release.id}: ${failure}` });
    else if (phase === 'Inconclusive') this.events.push({ type: 'Warning', reason: EVENT.AnalysisInconclusive, message: `${what} inconclusive${message ? ` (${message})` : ''}; promote or abort the release` });
    else return;
    if (point === 'postPromotion' && phase !== 'Inconclusive') release.progressAt = this.nowIso;
  }

  /** Every mover of the stage ready at its barrier (or moved on) and none held by a person. */
  gateReady(release: ReleaseStatus, stage: Stage): boolean {
    return stage.movers.every((m) => (this.readyAt(m, stage) || this.movedOn(m, stage, release)) && !this.at(m).held);
  }

  /**
   * The wait that has outrun progressDeadlineSeconds, if any (§4b "nothing waits forever"). It counts
   * from the last progress; a gate waiting for a person and a member held by a person do not count.
   */
  private stalled(release: ReleaseStatus, stage: Stage): string | undefined {
    // Held now, or at the last look (the hold just ended: the wait counts from now, as noteHeld records).
    if (stage.movers.some((m) => this.at(m).held) || (release.held ?? []).length > 0) return undefined;
    // At the gate a person decides; readiness lost only now counts from now (gating() records it).
    if (release.state === 'Gating' && (this.gateReady(release, stage) || release.readyAt)) return undefined;
    const since = Date.parse(release.progressAt ?? release.stageStartedAt ?? release.startedAt);
    const deadline = since + this.in.spec.progressDeadlineSeconds * 1000;
    if (this.in.now < deadline) {
      this.wait(Math.max(0, Math.min(RESYNC_MS, deadline - this.in.now)));
      return undefined;
    }
    const waiting = stage.movers.filter((m) => !this.movedOn(m, stage, release) && !(release.state === 'Gating' && this.readyAt(m, stage)));
    if (waiting.length === 0) return undefined; // every mover moved on: only pins settling, Argo's own delay
    const what = release.state === 'Gating' ? 'not ready' : stage.final ? 'not promoted' : 'not resumed';
    return `${what} within ${this.in.spec.progressDeadlineSeconds}s: waiting for ${waiting.join(', ')}`;
  }

  /**
   * Someone else promoted a member before the gate opened (§4b): reported at once. If every other
   * mover is ready, the gate opens now so the mismatch lasts one cutover; if not, a live member is
   * out alone and the release fails (Lockstep's final stage rolls it back).
   */
  private outOfBand(release: ReleaseStatus, stage: Stage): string | undefined {
    if (release.state !== 'Gating') return undefined;
    const early = stage.movers.filter((m) => this.movedOn(m, stage, release));
    if (early.length === 0) return undefined;
    // A retried Ordered release finds the members that stayed from its first attempt moved on.
    if (release.retries && early.length === stage.movers.length) return undefined;
    const fresh = early.filter((m) => !(release.outOfBand ?? []).includes(m));
    if (fresh.length > 0) {
      this.events.push({
        type: 'Warning',
        reason: EVENT.OutOfBandPromotion,
        message: `release ${release.id}: ${fresh.join(', ')} ${stage.final ? 'promoted' : 'resumed'} by someone else before the gate opened`,
      });
      release.outOfBand = [...new Set([...(release.outOfBand ?? []), ...fresh])].sort();
    }
    if (this.gateReady(release, stage) || !this.rollsBack(release, stage)) return undefined;
    const notReady = stage.movers.filter((m) => !this.readyAt(m, stage) && !this.movedOn(m, stage, release));
    return `${early.join(', ')} promoted by someone else while ${notReady.join(', ')} ${notReady.length > 1 ? 'are' : 'is'} not ready`;
  }

  /** Records a failure: a release with members live rolls back (Lockstep), any other is aborted. */
  fail(release: ReleaseStatus, reason: string, stage?: Stage): ReleaseStatus {
    const s = stage ?? this.stagesOf(release)[release.stage ?? 0];
    const anyLive = s !== undefined && s.movers.some((m) => this.isLive(m, s, release));
    const state = s !== undefined && this.rollsBack(release, s) && anyLive ? 'RollingBack' : 'Aborted';
    this.events.push({ type: 'Warning', reason: EVENT.ReleaseAborted, message: `release ${release.id} aborted: ${reason}` });
    const { openedBy: _opened, ...rest } = release;
    return { ...rest, state, abortedAt: this.nowIso, abortReason: reason, progressAt: this.nowIso, ...(release.promotedAt ? { promotedAt: release.promotedAt } : {}) } as ReleaseStatus;
  }

  /** Past this stage's barrier; at the last one that means promoted to the release's revision. */
  movedOn(m: string, stage: Stage, release: ReleaseStatus): boolean {
    const r = this.at(m);
    if (!stage.final) return hasPassed(r, stage.barrier);
    const revision = release.targets.find((t) => t.rollout === m)?.revision;
    return r.stableRevision === revision && r.activeRevision === revision;
  }

  /** Users reach its new pods: moved on, or (final stage) on its way there. */
  isLive(m: string, stage: Stage, release: ReleaseStatus): boolean {
    return this.movedOn(m, stage, release) || (stage.final && this.goingLive(m, release));
  }

  /**
   * Users reach the release's pods of a member Argo has yet to call stable: its active Service
   * switched already (a post-promotion analysis, say), or a canary resumed past its last barrier
   * whose weight rises to 100 %. An aborted member is on its way back by Argo's own doing.
   */
  private goingLive(m: string, release: ReleaseStatus): boolean {
    const r = this.at(m);
    const revision = release.targets.find((t) => t.rollout === m)?.revision;
    if (r.aborted || revision === undefined) return false;
    return r.activeRevision === revision || (r.strategy === 'Canary' && r.desiredRevision === revision && hasPassed(r, r.barrierCount - 1));
  }

  /** Paused at exactly this stage's barrier with the new pods available and wired to their dependencies' previews. */
  readyAt(m: string, stage: Stage): boolean {
    const r = this.at(m);
    return r.ready && r.atBarrier === stage.barrier && (this.in.previewWired?.(m) ?? true);
  }

  private label(release: ReleaseStatus, stage: Stage): string {
    if (this.lockstep(release)) return stage.barriers > 1 ? `release ${release.id} (barrier ${stage.barrier + 1}/${stage.barriers})` : `release ${release.id}`;
    const step = stage.barriers > 1 ? ` barrier ${stage.barrier + 1}/${stage.barriers}` : '';
    return `release ${release.id} (${stage.movers[0]}${step}, stage ${(release.stage ?? 0) + 1}/${release.stages})`;
  }

  private noteHeld(release: ReleaseStatus, stage: Stage): string[] {
    const held = stage.movers.filter((m) => this.at(m).held);
    const fresh = held.filter((m) => !(release.held ?? []).includes(m));
    if (fresh.length > 0) {
      this.events.push({ type: 'Warning', reason: EVENT.MemberHeld, message: `release ${release.id} waits: ${fresh.join(', ')} paused by a person (spec.paused); Tandem will not unpause it` });
    }
    if (held.length > 0) release.held = held;
    else if (release.held) {
      delete release.held;
      release.progressAt = this.nowIso; // the hold's time does not count against the deadline
    }
    return held;
  }

  /** Before the gate: wait until every mover is ready, then for a promote request or the soak (§4.2–3). */
  private gating(release: ReleaseStatus & { state: 'Gating' }, stage: Stage): { release: ReleaseStatus | undefined; outcome: Outcome } {
    const { auto, soakSeconds } = this.in.spec.promotion;
    const label = this.label(release, stage);
    const movers = stage.movers;
    if (movers.every((m) => this.movedOn(m, stage, release)) && !release.outOfBand) {
      // Moved on already (a restart, or a retry of an Ordered release whose first members stayed).
      return this.nextStage(release, stage);
    }
    const held = this.noteHeld(release, stage);
    const needsPerson = movers.filter((m) => this.at(m).foreignPause !== undefined);
    const readyCount = movers.filter((m) => this.readyAt(m, stage) || this.movedOn(m, stage, release)).length;
    if (!this.gateReady(release, stage)) {
      if (release.readyAt) {
        delete release.readyAt;
        release.progressAt = this.nowIso; // readiness lost: the deadline counts again from now
      }
      this.wait(RESYNC_MS);
      if (held.length > 0 || needsPerson.length > 0) {
        const why = [
          ...held.map((m) => `${m} is paused by a person (spec.paused); resume it to go on`),
          ...needsPerson.map((m) => `${m} is paused by Argo for a person (${this.at(m).foreignPause}); promote or abort it`),
        ];
        return { release, outcome: outcome('Paused', 'False', READY.WaitingForPerson, `${label}: ${why.join('; ')}`) };
      }
      const waiting = movers.filter((m) => !this.readyAt(m, stage) && !this.movedOn(m, stage, release));
      return { release, outcome: outcome('Progressing', 'False', READY.ReleaseProgressing, `${label}: ${readyCount}/${movers.length} members ready; waiting for ${waiting.join(', ')}`) };
    }
    release.firstReadyAt ??= this.nowIso;
    if (!release.readyAt) {
      release.readyAt = this.nowIso;
      this.events.push({ type: 'Normal', reason: EVENT.ReleaseReady, message: `${label} ready: ${movers.length}/${movers.length} members` });
    }
    const soakEnds = Date.parse(release.readyAt) + soakSeconds * 1000;
    const early = release.outOfBand ?? [];
    const pre = this.preAnalysis(release, stage);
    // Someone else's promotion opens the gate even so: the mismatch they made lasts one cutover.
    if (pre && early.length === 0) {
      const ready = `${label} ready: ${movers.length}/${movers.length} members`;
      if (pre.phase === undefined) {
        // Planned again until the cache shows it (the gateway leaves one that exists).
        this.actions.push(pre.create);
        this.noteAnalysis(release, pre.point, pre.name, 'Pending', undefined);
        this.wait(SETTLE_MS);
        return { release, outcome: outcome('Progressing', 'False', READY.Analyzing, `${ready}; analysis ${pre.name} started`) };
      }
      if (pre.phase === 'Pending' || pre.phase === 'Running') {
        this.wait(RESYNC_MS);
        return { release, outcome: outcome('Progressing', 'False', READY.Analyzing, `${ready}; analysis ${pre.name} ${pre.phase.toLowerCase()}`) };
      }
      if (pre.phase === 'Inconclusive' && !this.gateRequested) {
        this.wait(RESYNC_MS);
        const promote = (release.stages ?? 1) > 1 ? `${release.id}/${(release.stage ?? 0) + 1}` : release.id;
        return { release, outcome: outcome('Paused', 'False', READY.WaitingForPerson, `${ready}; analysis ${pre.name} inconclusive${pre.message ? ` (${pre.message})` : ''}: promote (tandem.dev/promote: ${promote}) or abort the release`) };
      }
    }
    const by = early.length > 0 ? `out-of-band promotion of ${early.join(', ')}` : this.gateRequested ? 'promote request' : auto && this.in.now >= soakEnds ? 'auto promotion' : undefined;
    if (by) {
      const { outOfBand: _early, ...rest } = release;
      const open: ReleaseStatus = { ...rest, state: 'CuttingOver', promotedAt: this.nowIso, openedBy: by, progressAt: this.nowIso };
      // The post-promotion analysis starts with the cutover it guards.
      const post = this.postAnalysis(open, stage);
      const postFailed = analysisFailure(post);
      // Created by a step that crashed before it persisted the open gate, and failed since: no member moves.
      if (postFailed) return this.aborted(this.fail(open, postFailed, stage));
      this.events.push({ type: 'Normal', reason: EVENT.PromotionStarted, message: `${label}: ${stage.final ? 'cutover' : 'resume'} started by ${by}` });
      if (post && post.phase === undefined) {
        this.actions.push(post.create);
        this.noteAnalysis(open, 'postPromotion', post.name, 'Pending', undefined);
      }
      this.wait(0);
      return { release: open, outcome: outcome('Promoting', 'False', READY.Promoting, `${label} promoting: ${stage.final ? 'cutover' : 'resume'} started`) };
    }
    if (auto) this.wait(Math.max(0, soakEnds - this.in.now));
    const message = auto
      ? `${label} ready: ${movers.length}/${movers.length} members; soaking until ${new Date(soakEnds).toISOString()}`
      : `${label} ready: ${movers.length}/${movers.length} members; waiting for promote`;
    return { release, outcome: outcome('Paused', 'False', auto ? READY.Soaking : READY.AwaitingPromotion, message) };
  }

  /** After the gate: dependents first, each promoted (or resumed) once the previous one moved on (§4.4). */
  private cuttingOver(release: ReleaseStatus & { state: 'CuttingOver' }, stage: Stage): { release: ReleaseStatus | undefined; outcome: Outcome } {
    const label = this.label(release, stage);
    const movers = stage.movers;
    const promoting = (message: string) => ({ release, outcome: outcome('Promoting', 'False', READY.Promoting, message) });
    const held = this.noteHeld(release, stage);
    const post = this.postAnalysis(release, stage);
    if (post && post.phase === undefined) {
      // Not seen yet (the cache is behind, or the gate opened in a step whose create was lost): the same run again.
      this.actions.push(post.create);
      this.noteAnalysis(release, 'postPromotion', post.name, 'Pending', undefined);
    }
    for (const m of movers) {
      const r = this.at(m);
      const done = this.movedOn(m, stage, release);
      if (done && release.promotedMembers.includes(m)) continue;
      if (done) {
        // Persist the progress before the next member moves, so a restart resumes from here.
        release.promotedMembers.push(m);
        release.progressAt = this.nowIso;
        const what = stage.final ? `promoted to ${release.targets.find((t) => t.rollout === m)?.revision}` : `resumed past barrier ${stage.barrier + 1}/${stage.barriers}`;
        this.events.push({ type: 'Normal', reason: EVENT.MemberPromoted, message: `${label}: ${m} ${what}` });
        if (release.promotedMembers.length < movers.length) {
          this.wait(0);
          return promoting(`${label} promoting: ${m} ${what} (${release.promotedMembers.length}/${movers.length})`);
        }
        continue;
      }
      this.states.set(m, 'Promoting');
      this.wait(SETTLE_MS * 2);
      const progress = `${release.promotedMembers.length}/${movers.length} ${stage.final ? 'promoted' : 'resumed'}`;
      if (held.includes(m)) {
        this.wait(RESYNC_MS);
        return { release, outcome: outcome('Paused', 'False', READY.WaitingForPerson, `${label} promoting: ${m} is paused by a person (spec.paused); resume it to go on (${progress})`) };
      }
      if (r.atBarrier !== stage.barrier) return promoting(`${label} promoting ${m} (${progress})`); // resumed: Argo is moving it on
      const notReady = movers.filter((t) => !this.movedOn(t, stage, release) && !this.readyAt(t, stage));
      if (notReady.length > 0) return promoting(`${label} promoting: waiting for ${notReady.join(', ')} to be ready again before ${m} (${progress})`); // §5 Order
      if (!this.in.wired(m)) return promoting(`${label} promoting ${m} (${progress})`);
      const revision = release.targets.find((t) => t.rollout === m)!.revision;
      const pins = this.rollsBack(release, stage) ? this.in.pins(m, cutoverRole(release)) : {};
      if (Object.keys(pins).length > 0 && !(this.in.release?.pinned ?? []).includes(pinEntry(m, revision))) {
        // The new pods keep their dependencies' new revisions through the switch; recorded as pinned
        // once the write succeeded, and only then is the member promoted (a crash leaves no window).
        const rs = replicaSetOf(this.in.replicaSets, m, revision);
        if (rs) {
          this.actions.push({ kind: 'Pin', rollout: m, replicaSet: rs.metadata.name, revision, annotations: pins });
          release.pinned = [...new Set([...(release.pinned ?? []), pinEntry(m, revision)])].sort();
        }
        this.wait(0);
        return promoting(`${label} promoting: pinning ${m}'s new pods to ${Object.values(pins).join(', ')} (${progress})`);
      }
      // After the pin: pinning m's new pods (not live yet) while the data plane settles takes its
      // writes out of the handoff, which then is the promote alone (docs/performance.md).
      const behind = this.dataPlaneBehind(release, stage, m);
      if (behind.length > 0) return promoting(`${label} promoting: waiting for the nodes to route ${behind.join(', ')} to the new pods alone before ${m} (${progress})`);
      if (stage.final && this.in.drained?.(m, 'active') === false) return promoting(`${label} promoting: waiting for the terminating pods of ${m}'s active Service to be gone before ${m} (${progress})`);
      this.actions.push({ kind: 'Promote', rollout: m, resourceVersion: r.resourceVersion });
      return promoting(`${label} promoting ${m} (${progress})`);
    }
    const guard = post ? (release.analysisRuns ?? []).find((r) => r.name === post.name) : undefined;
    if (post && post.phase !== 'Successful' && !guard?.accepted) {
      // Every member promoted: the release completes only once its guard has succeeded (or a person let it pass).
      this.wait(RESYNC_MS);
      if (post.phase === 'Inconclusive') {
        const why = `${label}: every member promoted; analysis ${post.name} inconclusive${post.message ? ` (${post.message})` : ''}: promote (tandem.dev/promote: ${release.id}) to complete the release, or abort it to roll every member back`;
        return { release, outcome: outcome('Paused', 'False', READY.WaitingForPerson, why) };
      }
      return promoting(`${label}: every member promoted; analysis ${post.name} ${(post.phase ?? 'Pending').toLowerCase()}, the release completes once it has succeeded`);
    }
    const lingering = this.lingering(release);
    if (lingering.length > 0) {
      // The dependencies' active Services select the new pods, but a data plane (kube-proxy, a mesh)
      // may still send some calls to the previous ones until they are gone (scaleDownDelaySeconds):
      // the pins keep the new dependents on the new revisions until then.
      this.wait(RESYNC_MS);
      return promoting(`${label}: every member promoted; pins kept until the previous pods of ${lingering.join(', ')} are gone and their active Services reach only the new ones`);
    }
    return this.nextStage(release, stage);
  }

  /**
   * Dependencies that the cutover's pinned members reach whose previous revision still has pods up,
   * or whose active Service the data plane does not yet route to the new pods alone (the pins would
   * send new dependents through it to the previous pods). A stranded revision's pin is not the
   * cutover's: it follows the dependency's newest pods until a release promotes that member, and
   * waiting on it could hold a stage whose dependency comes later.
   */
  private lingering(release: ReleaseStatus): string[] {
    const cutover = (release.pinned ?? []).filter((e) => !namesValues(e));
    const deps = new Set(cutover.flatMap((e) => this.in.graph.dependenciesOf(parsePinEntry(e).rollout)));
    return [...deps].filter((dep) => {
      const target = release.targets.find((t) => t.rollout === dep);
      const rs = target?.from ? replicaSetOf(this.in.replicaSets, dep, target.from) : undefined;
      const up = rs !== undefined && rs.spec.replicas > 0 && rs.status.availableReplicas > 0;
      return up || (target !== undefined && !this.servesOnly(dep, 'active', target.revision));
    }).sort();
  }

  /**
   * Lockstep's cutover, before m is pinned and promoted: the Services whose data plane has yet to
   * follow their object. m's promoted dependents' active Services still routing some calls to
   * their previous pods, which call m's active Service: promoting m now would give them m's new
   * revision (old → new). m's dependencies' previews (canaries) not yet routing to their new pods
   * alone: m's new pods, pinned to them and live, would reach a previous revision (new → old).
   */
  private dataPlaneBehind(release: ReleaseStatus, stage: Stage, m: string): string[] {
    if (!this.rollsBack(release, stage)) return [];
    const revision = (x: string) => release.targets.find((t) => t.rollout === x)?.revision;
    const dependents = this.in.graph.dependentsOf(m).filter((d) => release.promotedMembers.includes(d) && !this.servesOnly(d, 'active', revision(d)));
    const previews = this.in.graph.dependenciesOf(m).filter((d) => revision(d) !== undefined && !this.servesOnly(d, 'preview', revision(d)));
    return [...dependents.map((d) => `${d}'s active Service`), ...previews.map((d) => `${d}'s preview`)].sort();
  }

  /** Every mover of the stage moved on: the next stage's gate, or the release is complete. */
  private nextStage(release: ReleaseStatus, stage: Stage): { release: ReleaseStatus | undefined; outcome: Outcome } {
    const next = (release.stage ?? 0) + 1;
    if (next >= (release.stages ?? 1)) return this.complete(release);
    const { promotedAt: _p, openedBy: _o, readyAt: _r, firstReadyAt: _f, outOfBand: _b, ...rest } = release as ReleaseStatus & { openedBy?: string };
    const gating = { ...rest, state: 'Gating', stage: next, stageStartedAt: this.nowIso, progressAt: this.nowIso, promotedMembers: [] } as ReleaseStatus;
    this.wait(0);
    const passed = stage.final ? `${stage.movers.join(', ')} promoted` : `barrier ${stage.barrier + 1}/${stage.barriers} passed`;
    return { release: gating, outcome: outcome('Progressing', 'False', READY.ReleaseProgressing, `release ${release.id}: ${passed}; stage ${next + 1}/${release.stages} next`) };
  }

  /** Pins of a release that completed in this step: removed before it is forgotten. */
  private completedPins: readonly string[] = [];

  private complete(release: ReleaseStatus): { release: undefined; outcome: Outcome } {
    this.completedPins = release.pinned ?? [];
    const promoted = release.targets.map((t) => t.rollout).join(', ');
    this.events.push({ type: 'Normal', reason: EVENT.ReleaseCompleted, message: `release ${release.id} completed: ${promoted} promoted` });
    const n = this.in.graph.members.length;
    return { release: undefined, outcome: outcome('Healthy', 'True', READY.ReleaseCompleted, `release ${release.id} completed; ${n}/${n} members stable`) };
  }

  // ---- pins ----

  /**
   * Removes the pins the release's state no longer needs: a cutover keeps its movers' pins until the
   * release completes; a failed one keeps a live member's only while the new pods of the dependencies
   * it is pinned to still run there (§4b: never an empty Service). Any other state needs none. An entry
   * leaves `pinned` only with the write that removes it.
   */
  private unpin(release: ReleaseStatus | undefined): ReleaseStatus | undefined {
    const entries = release ? (release.pinned ?? []) : this.completedPins;
    if (entries.length === 0) return release;
    const kept: string[] = [];
    for (const entry of entries) {
      const { rollout, revision } = parsePinEntry(entry);
      const ofStranded = namesValues(entry);
      if (release && !ofStranded && this.needsPin(entry, release)) {
        kept.push(entry);
        if (this.onlyPodsNeedIt(rollout, revision, release)) this.unpinTemplate(rollout, revision);
        continue;
      }
      const rs = replicaSetOf(this.in.replicaSets, rollout, revision);
      if (release && rs && this.stranded(rollout, revision, release, ofStranded)) {
        kept.push(this.repinStranded(entry, rollout, revision, rs.metadata.name));
        continue;
      }
      if (ofStranded && entries.includes(pinEntry(rollout, revision))) continue; // that entry's pins now
      const keys = this.in.pinKeys(rollout);
      if (!rs || keys.length === 0) continue;
      const handOver = release && !ofStranded ? this.handOver(rollout, revision, release) : undefined;
      const annotations = { ...Object.fromEntries(keys.map((k) => [k, null])), ...handOver };
      this.actions.push({ kind: 'Pin', rollout, replicaSet: rs.metadata.name, revision, annotations, ...(handOver ? { podsOnly: true as const } : {}) });
    }
    if (!release) return undefined;
    const next = { ...release };
    if (kept.length > 0) next.pinned = kept;
    else delete next.pinned;
    return next;
  }

  /**
   * A live revision of a member Git has moved past (a superseded release's dependent whose own Git
   * moved on too): no release will put it back, and the dependency revision it went live with is
   * gone (Argo scales a preview it replaced down at once). It stays live until a release promotes
   * the member's newer revision, so its pods keep a pin: to each dependency's newest pods (its
   * preview) once they are up, an old pod of the next release reaching a new dependency, as in the
   * outgoing window; to the dependency's active side until then (§4b: never an empty Service).
   */
  private stranded(rollout: string, revision: string, release: ReleaseStatus, already: boolean): boolean {
    const r = this.in.readings.get(rollout);
    if (!r || r.activeRevision !== revision || r.desiredRevision === undefined || r.desiredRevision === revision || this.in.pinKeys(rollout).length === 0) return false;
    // A rollback's pin on the previous pods is not: what they went live with is the dependencies' active side.
    return already || !release.targets.some((t) => t.rollout === rollout && t.from === revision);
  }

  /** Plans the stranded revision's pins when what they hold changes; returns the entry that records them. */
  private repinStranded(entry: string, rollout: string, revision: string, replicaSet: string): string {
    const pins = this.in.pins(rollout, (dep) => {
      const d = this.in.readings.get(dep);
      return d && d.desiredRevision !== d.activeRevision && d.desiredPodsUp ? 'preview' : 'active';
    });
    const next = pinEntry(rollout, revision, pins);
    if (next !== entry) this.actions.push({ kind: 'Pin', rollout, replicaSet, revision, annotations: pins });
    return next;
  }

  private needsPin(entry: string, release: ReleaseStatus): boolean {
    const { rollout, revision } = parsePinEntry(entry);
    const target = release.targets.find((t) => t.rollout === rollout);
    if (target && target.from === revision && releaseFailed(release)) {
      // A rollback's pin on the previous pods: until Argo calls them stable again and has given them
      // the active metadata the pin holds (a reconcile after it calls them stable), or Git moves the
      // member on.
      const r = this.at(rollout);
      if (r.desiredRevision !== target.revision && r.desiredRevision !== revision) return false;
      return !this.rollbackPinSettled(rollout, revision, release);
    }
    if (!target || target.revision !== revision || !this.lockstep(release)) return false;
    // Git moved a superseded release's live member past it: not a cutover's pin any more (`stranded`).
    if (release.superseded && this.at(rollout).desiredRevision !== revision) return false;
    if (release.state === 'CuttingOver') return this.stagesOf(release)[release.stage ?? 0]?.final === true;
    if (release.state === 'Gating') return false;
    const r = this.at(rollout);
    const dependenciesUp = () =>
      this.in.graph.dependenciesOf(rollout).every((dep) => {
        const t = release.targets.find((x) => x.rollout === dep);
        const d = this.in.readings.get(dep);
        return !t || (d !== undefined && d.desiredRevision === t.revision && d.desiredPodsUp);
      });
    // Back on another revision (the object): the data plane still sends some of its calls to the pinned pods until the nodes follow.
    if (r.activeRevision !== revision && !this.goingLive(rollout, release)) return r.activeRevision !== undefined && !this.servesOnly(rollout, 'active', r.activeRevision) && dependenciesUp();
    return dependenciesUp();
  }

  /**
   * A failed release's pin on a member its active Service has left (the object): only its pods, still
   * routed to a moment, need it. (A cutover's pin stays on the template: the pods Argo creates while
   * it scales the revision up need it.)
   */
  private onlyPodsNeedIt(rollout: string, revision: string, release: ReleaseStatus): boolean {
    const r = this.at(rollout);
    const failed = releaseFailed(release);
    return failed && r.activeRevision !== undefined && r.activeRevision !== revision && !this.goingLive(rollout, release);
  }

  /** Removes a kept pin from its ReplicaSet's template (a re-applied revision would otherwise collide with it), once. */
  private unpinTemplate(rollout: string, revision: string) {
    const rs = replicaSetOf(this.in.replicaSets, rollout, revision);
    const annotations = rs?.spec.template?.metadata?.annotations ?? {};
    const keys = this.in.pinKeys(rollout).filter((k) => annotations[k] !== undefined);
    if (rs && keys.length > 0) this.actions.push({ kind: 'Pin', rollout, replicaSet: rs.metadata.name, revision, annotations: Object.fromEntries(keys.map((k) => [k, null])), templateOnly: true });
  }

  /**
   * A settled rollback pin leaves the previous pods with the address it held written under Argo's own
   * key, in the same patch: Argo has written that address into the ReplicaSet (`pinSettled`) and
   * updates its pods just after, so until then they still carry the preview metadata, which names
   * the aborted revision (found by rollback.test.ts). Argo writes the same value there next.
   */
  private handOver(rollout: string, revision: string, release: ReleaseStatus): Record<string, string> | undefined {
    if (!this.rollbackPinSettled(rollout, revision, release)) return undefined;
    return Object.fromEntries(Object.entries(this.in.pins(rollout, inRelease(release, 'active'))).map(([pin, url]) => [unpinnedKey(pin), url]));
  }

  /** A failed release's pin on the previous pods, back stable, whose ReplicaSet Argo gave the active metadata the pin holds. */
  private rollbackPinSettled(rollout: string, revision: string, release: ReleaseStatus): boolean {
    const target = release.targets.find((t) => t.rollout === rollout);
    if (target?.from !== revision || !releaseFailed(release)) return false;
    const r = this.at(rollout);
    return r.desiredRevision === revision && r.stableRevision === revision && this.pinSettled(rollout, revision, release);
  }

  /** Removing the previous pods' rollback pin changes no address: Argo's injected metadata says the same. */
  private pinSettled(rollout: string, revision: string, release: ReleaseStatus): boolean {
    const rs = replicaSetOf(this.in.replicaSets, rollout, revision);
    const injected = rs ? (injectedMetadata(rs).annotations ?? {}) : {};
    return Object.entries(this.in.pins(rollout, inRelease(release, 'active'))).every(([pin, url]) => injected[unpinnedKey(pin)] === url);
  }

  // ---- after a failure ----

  /**
   * Live, not yet stable (a post-promotion analysis, a canary past its last barrier): an abort returns
   * its active Service to the stable revision while its preview keeps the new pods until Argo scales
   * them down, so dependents pinned to them stay matched; a restored template would move both at once.
   * Only when its stable revision is the one it goes back to (an abort returns it there; a member
   * stranded on a revision in between is not), and not when superseded: that one is put forward
   * again, which an aborted member cannot be.
   */
  private abortsBack(r: MemberReading, target: ReleaseTarget, release: ReleaseStatus): boolean {
    return r.desiredRevision === target.revision && target.from !== undefined && r.stableRevision === target.from && !release.superseded;
  }

  /**
   * Abort what has not gone live; Lockstep rolls back what went live in the failed cutover (§4.6), so
   * no member is left on the new revision while another is on the old. Ordered leaves the members
   * before the failed one where they are. RollingBack becomes Aborted once every rollback is done.
   */
  private aborted(release: ReleaseStatus): { release: ReleaseStatus | undefined; outcome: Outcome } {
    if (!releaseFailed(release)) throw new Error('unreachable');
    const d = this.decide(release, { gateReady: false, retryRefusal: this.retryRefusal(release) });
    if (d.retry) return this.retried(release);
    const rolledBack = new Set(release.rolledBack ?? []);
    const restored = new Set(release.restored ?? []);
    const reapplied: string[] = [];
    const stuck: string[] = [];
    const returning: string[] = [];
    const kept: string[] = [];
    const lockstep = this.lockstep(release);
    for (const target of release.targets) {
      const t = target.rollout;
      const r = this.at(t);
      if (r.desiredRevision !== target.revision && r.desiredRevision !== target.from) {
        // Git moved it on to a newer revision: not Tandem's to roll back; the next release takes it.
        this.states.set(t, 'Deploying');
        continue;
      }
      const live = this.goingLive(t, release);
      if (lockstep && (live || rolledBack.has(t))) {
        this.states.set(t, 'RolledBack');
        if (restored.has(t) && r.desiredRevision === target.revision) {
          // Rolled back once and put back (Argo CD self-heal re-applying Git, or a person): not fought.
          this.states.set(t, r.promoted ? 'Promoted' : 'Deploying');
          reapplied.push(t);
          continue;
        }
        if (!rolledBack.has(t)) {
          // Persisted before the template is touched, so a restart knows the revision it finds is Tandem's doing.
          rolledBack.add(t);
          returning.push(t);
          this.events.push({
            type: 'Warning',
            reason: EVENT.ReleaseRolledBack,
            message: `release ${release.id}: ${t} rolled back from ${target.revision} to ${target.from ?? 'its previous revision'} because the release failed; Git still declares ${r.desiredRevision}: fix or revert it there`,
          });
          // Not yet stable: aborted at once (an abort changes no revision, so there is nothing to persist
          // first), before Argo calls it stable (a canary's weight rises to 100 % by itself).
          if (live && this.abortsBack(r, target, release)) this.actions.push({ kind: 'Abort', rollout: t, resourceVersion: r.resourceVersion });
          continue;
        }
        if (r.desiredRevision === target.revision) {
          if (this.abortsBack(r, target, release)) {
            if (!r.aborted) this.actions.push({ kind: 'Abort', rollout: t, resourceVersion: r.resourceVersion });
            if (r.activeRevision !== target.from) returning.push(t);
            continue;
          }
          // After a dependency on its way back by an abort: what its previous pods call is then the
          // previous revision again, while its new pods keep the aborted preview until then.
          const first = this.in.graph.dependenciesOf(t).filter((dep) => {
            const d = release.targets.find((x) => x.rollout === dep);
            const back = this.at(dep);
            return d?.from !== undefined && rolledBack.has(dep) && back.stableRevision !== d.revision && (back.activeRevision !== d.from || !this.servesOnly(dep, 'active', d.from));
          });
          if (first.length > 0) {
            returning.push(t);
            continue;
          }
          // Still on the release's revision: back to the one before the release.
          const template = target.from ? templateOf(this.in.replicaSets, t, target.from, this.in.pinKeys(t)) : undefined;
          if (!template) {
            stuck.push(t);
            this.states.set(t, 'Failed');
            continue;
          }
          // Its previous pods come back live with their preview metadata (the dependencies' previews,
          // still the new revisions) until Argo calls them stable again: pinned to the dependencies'
          // active side first, persisted before the restore, as a cutover's pins are.
          const back = this.in.pins(t, inRelease(release, 'active'));
          const previous = replicaSetOf(this.in.replicaSets, t, target.from!);
          const entry = pinEntry(t, target.from!);
          if (previous && Object.keys(back).length > 0 && !(this.in.release?.pinned ?? []).includes(entry)) {
            this.actions.push({ kind: 'Pin', rollout: t, replicaSet: previous.metadata.name, revision: target.from!, annotations: back, podsOnly: true });
            release.pinned = [...new Set([...(release.pinned ?? []), entry])].sort();
            returning.push(t);
            continue;
          }
          this.actions.push({ kind: 'RestoreTemplate', rollout: t, resourceVersion: r.resourceVersion, revision: target.from!, template });
          returning.push(t);
        } else if (!r.promoted) {
          // Back on the previous revision but its old ReplicaSet was gone: Argo waits at the gate again.
          if (r.atGate && !r.held) this.actions.push({ kind: 'Promote', rollout: t, resourceVersion: r.resourceVersion });
          returning.push(t);
        } else {
          restored.add(t);
        }
        continue;
      }
      if (live) kept.push(t); // Ordered: members before the failed one stay
      if (r.failed) this.states.set(t, 'Failed');
      // A superseded release's member not yet live waits at its gate for the release that replaces
      // it, which takes the same revision; aborted, it would fail that release at once.
      if (!r.promoted && !r.aborted && r.desiredRevision === target.revision && !release.superseded) {
        this.actions.push({ kind: 'Abort', rollout: t, resourceVersion: r.resourceVersion });
        this.states.set(t, 'Failed');
      }
    }
    if (release.superseded && returning.length === 0 && stuck.length === 0) {
      // Every live member is back: forward again to the revisions Git declares, to be released
      // together with the newer ones (templates read back from their ReplicaSets).
      for (const t of release.targets) {
        const r = this.at(t.rollout);
        if (!restored.has(t.rollout) || r.desiredRevision !== t.from || !r.promoted) continue;
        // Only once Argo has scaled that revision down: to a ReplicaSet still up, Argo switches at once,
        // without a pause (a fast rollback), which would put it live ahead of the gate.
        const rs = replicaSetOf(this.in.replicaSets, t.rollout, t.revision);
        if (rs && rs.spec.replicas > 0) {
          this.wait(RESYNC_MS);
          continue;
        }
        const template = templateOf(this.in.replicaSets, t.rollout, t.revision, this.in.pinKeys(t.rollout));
        if (template) this.actions.push({ kind: 'RestoreTemplate', rollout: t.rollout, resourceVersion: r.resourceVersion, revision: t.revision, template });
      }
    }
    const next = { ...release, state: returning.length > 0 ? 'RollingBack' : 'Aborted' } as ReleaseStatus;
    if (rolledBack.size > 0) next.rolledBack = [...rolledBack].sort();
    if (restored.size > 0) next.restored = [...restored].sort();
    if (returning.length > 0) this.wait(SETTLE_MS * 2);
    let message = `release ${release.id} aborted: ${release.abortReason}`;
    if (rolledBack.size > 0) {
      message += returning.length > 0 ? `; rolling back ${returning.join(', ')}` : `; rolled back ${[...rolledBack].join(', ')}`;
      message += '; Git still declares the new revisions';
    }
    if (stuck.length > 0) message += `; cannot roll back ${stuck.join(', ')}: the ReplicaSet of the previous revision is gone`;
    if (reapplied.length > 0 && !release.superseded) message += `; ${reapplied.join(', ')} put back on the new revision after the rollback (Argo CD self-heal?), left as is: fix it in Git`;
    if (kept.length > 0) message += `; ${kept.join(', ')} already promoted and left on the new revision`;
    if (release.deferred?.length && !release.superseded) message += `; ${release.deferred.join(', ')} waits for the next release`;
    return { release: next, outcome: outcome('Degraded', 'False', rolledBack.size > 0 ? READY.ReleaseRolledBack : READY.ReleaseAborted, message) };
  }

  /** Why Tandem refuses to retry this aborted release, if it does. */
  private retryRefusal(release: ReleaseStatus): string | undefined {
    if (release.promotedAt) {
      // Argo re-promotes a member that already passed its pause as soon as its abort is cleared, and
      // returns at once to a ReplicaSet still up: no gate, no order. A new revision in Git is the way on.
      return `release ${release.id} failed during its cutover, and Argo would switch its members again without a gate or order; change the Rollouts in Git to start a new release`;
    }
    const blueGreen = release.targets.filter((t) => this.at(t.rollout).aborted && this.at(t.rollout).strategy === 'BlueGreen').map((t) => t.rollout);
    if (blueGreen.length > 0) {
      // Argo 1.9 answers `abort: false` on a blue-green update whose preview was up by going live at once.
      return `Argo Rollouts would switch ${blueGreen.join(', ')} live at once, skipping the gate and the order; change the Rollouts in Git to start a new release`;
    }
    return undefined;
  }

  /** A retried canary starts its steps again from the first and pauses at its first barrier. */
  private retried(release: ReleaseStatus): { release: ReleaseStatus; outcome: Outcome } {
    const targets = release.targets.map((t) => t.rollout);
    for (const t of release.targets) {
      if (this.at(t.rollout).aborted) this.actions.push({ kind: 'Retry', rollout: t.rollout, resourceVersion: this.at(t.rollout).resourceVersion });
    }
    const retries = (release.retries ?? 0) + 1;
    const next: ReleaseStatus = {
      state: 'Gating',
      id: release.id,
      targets: release.targets,
      startedAt: this.nowIso,
      stage: 0,
      stageStartedAt: this.nowIso,
      progressAt: this.nowIso,
      promotedMembers: [],
      retries,
      ...(release.strategy ? { strategy: release.strategy } : {}),
      ...(release.sequence ? { sequence: release.sequence } : {}),
      ...(release.specHash ? { specHash: release.specHash } : {}),
    };
    for (const t of targets) this.states.set(t, 'Deploying');
    const message = `release ${release.id} retried (attempt ${retries + 1}): ${targets.join(', ')}`;
    this.events.push({ type: 'Normal', reason: EVENT.ReleaseRetried, message });
    this.wait(SETTLE_MS);
    return { release: next, outcome: outcome('Progressing', 'False', READY.ReleaseRetried, message) };
  }
}

