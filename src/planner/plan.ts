import { FINALIZER, releaseFailed, type ReleaseStatus } from '../api/rolloutgroup.ts';
import type { DependencyGraph } from '../graph/dependency-graph.ts';
import { missingReading, readMember, type MemberReading } from './member-reading.ts';
import type { Observed } from './observed.ts';
import type { Action, Plan } from './plan-types.ts';
import { READY } from './reasons.ts';
import { requestsOf } from './release-requests.ts';
import { outcome, SETTLE_MS, step, type StepInput } from './release-step.ts';
import { pinKeysOf, pinsFor } from './pins.ts';
import { strategyKey, type ServiceRole } from '../api/rollout-roles.ts';
import { formerMembers, groupStatus, invalidStatus, listedByPeer } from './status.ts';
import { validate } from './validation.ts';
import { analysisFor, terminations } from './analysis.ts';
import { memberDrained, memberServesOnly } from './data-plane.ts';
import { desiredMetadata, metadataInSync, ownsAnyMetadata } from './wiring.ts';
import { carriesPreview, previewAddress, previewHoldRequeue } from './preview-hold.ts';

export { RESYNC_MS, SETTLE_MS } from './release-step.ts';

/**
 * The one pure entry point (DESIGN §7): observe → plan. In order: a group going away releases its
 * members; an invalid or paused group touches nothing; while Argo has yet to act, nothing is decided;
 * otherwise the release takes one step, the wiring follows from the state it leaves, and the status
 * says what happened.
 */
export function plan(o: Observed): Plan {
  if (o.group.metadata.deletionTimestamp) return planDeletion(o);
  const own: Action[] = o.group.metadata.finalizers.includes(FINALIZER) ? [] : [{ kind: 'AddFinalizer' }];
  const validation = validate(o);
  if (!validation.valid) {
    const { status, events } = invalidStatus(o, validation.problems);
    // Members only become valid through a watched change, but a slow poll costs little.
    return { actions: own, status, handledRequests: [], events, requeueAfterMs: 60_000 };
  }
  const graph = validation.graph;
  const prev = o.group.status?.release;
  const readings = new Map<string, MemberReading>();
  // The release's targets too: one removed from the spec mid-release stays in it until it ends (§4b).
  for (const name of new Set([...graph.members, ...(prev?.targets ?? []).map((t) => t.rollout)])) {
    const view = o.rollouts.get(name);
    readings.set(name, view ? readMember(view.rollout, o.replicaSets, o.services) : missingReading(name));
  }
  const n = graph.members.length;

  if (o.group.spec.paused) {
    // Report what is observed; decide, write and announce nothing (not even the deadline).
    const changed = [...readings.values()].filter((r) => r.changed).map((r) => r.name);
    const seen = changed.length > 0 ? `changed: ${changed.join(', ')}` : `${n}/${n} members stable`;
    const status = groupStatus(o, graph, readings, prev, new Map(), outcome('Paused', 'False', READY.GroupPaused, `paused: observing only; ${seen}`), false);
    return { actions: own, status, handledRequests: [], events: [], requeueAfterMs: undefined };
  }

  const untrusted = [...readings.values()].filter((r) => !r.trusted);
  if (untrusted.length > 0) {
    // Argo has not caught up with a spec change or a promote: decide and wire nothing until it has.
    const phase = releaseFailed(prev) ? 'Degraded' : prev?.state === 'CuttingOver' ? 'Promoting' : 'Progressing';
    // A failed release keeps its reason in view while Argo catches up with the abort or the rollback.
    const failure = releaseFailed(prev) && prev?.abortedAt ? `release ${prev.id} aborted: ${prev.abortReason}; ` : '';
    const result = outcome(phase, 'False', READY.WaitingForArgo, `${failure}waiting for Argo Rollouts to observe ${untrusted.map((r) => r.name).join(', ')}`);
    const status = groupStatus(o, graph, readings, prev, new Map(), result, false);
    return { actions: [...own, ...nudges(o, graph)], status, handledRequests: [], events: [], requeueAfterMs: SETTLE_MS, waitingForArgo: untrusted.map((r) => r.name) };
  }

  const input: StepInput = {
    release: prev,
    spec: o.group.spec,
    graph,
    readings,
    replicaSets: o.replicaSets,
    requests: requestsOf(o.group.metadata.annotations),
    now: o.now,
    // A target removed from the spec keeps the metadata it has until its release ends.
    wired: (m) => !memberOf(o, m) || metadataInSync(o.rollouts.get(m)!, desiredFor(o, prev, m)),
    // Every preview address on the Rollout, none held back (preview-hold.ts).
    previewWired: (m) => !memberOf(o, m) || !isLockstep(o, prev) || metadataInSync(o.rollouts.get(m)!, desiredFor(o, prev, m, false)),
    pins: (m, roleOf) => {
      const member = memberOf(o, m);
      return member ? pinsFor(member, roleOf, o.rollouts, o.services, o.clusterDomain) : {};
    },
    pinKeys: (m) => {
      const member = memberOf(o, m);
      return member ? pinKeysOf(member) : [];
    },
    analysis: (point, release, stage) => analysisFor(o, point, release, stage),
    servesOnly: (m, role, revision) => memberServesOnly(o.rollouts.get(m), role, revision, o, settleMsOf(o)),
    drained: (m, role) => memberDrained(o.rollouts.get(m), role, o),
  };
  const s = step(input);
  const wiring = planWiring(o, graph, s.release);
  const status = groupStatus(o, graph, readings, s.release, s.states, s.outcome, true);
  const held = isLockstep(o, s.release) ? previewHoldRequeue(s.release, o.group.spec.members, o, settleMsOf(o)) : undefined;
  const requeue = wiring.length > 0 ? Math.min(SETTLE_MS, s.requeueAfterMs ?? SETTLE_MS) : s.requeueAfterMs;
  return {
    // Runs no release needs any more are stopped after the members' writes, which matter more.
    actions: [...own, ...wiring, ...s.actions, ...terminations(o, s.release), ...nudges(o, graph)],
    status,
    handledRequests: s.handled,
    events: s.events,
    requeueAfterMs: held === undefined ? requeue : Math.min(held, requeue ?? held),
  };
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

/** Metadata writes that bring every member to the wiring of the release's state; formers are released. */
function planWiring(o: Observed, graph: DependencyGraph, release: ReleaseStatus | undefined): Action[] {
  const actions: Action[] = [];
  // Members removed from the spec keep Tandem's keys until released here (status.members remembers them).
  const inRelease = new Set((release?.targets ?? []).map((t) => t.rollout));
  for (const former of formerMembers(o).filter((f) => !inRelease.has(f))) {
    actions.push({ kind: 'ApplyMetadata', rollout: former, strategy: strategyKey(o.rollouts.get(former)!.rollout), metadata: {} });
  }
  for (const name of graph.members) {
    const view = o.rollouts.get(name);
    if (!view) continue;
    const desired = desiredFor(o, release, name);
    if (!metadataInSync(view, desired)) actions.push({ kind: 'ApplyMetadata', rollout: name, strategy: strategyKey(view.rollout), metadata: desired });
  }
  return actions;
}

const memberOf = (o: Observed, name: string) => o.group.spec.members.find((m) => m.rollout === name);

/**
 * Preview pods talk to the dependencies' previews (Ordered: their active side, §3); active pods to
 * their active side, always: during a cutover the new pods reach the new dependencies through their
 * pins (pins.ts), so no role metadata is ever repointed and the old pods never reach a new revision.
 */
function desiredFor(o: Observed, release: ReleaseStatus | undefined, name: string, hold = true) {
  const lockstep = isLockstep(o, release);
  const view = o.rollouts.get(name);
  return desiredMetadata({
    member: memberOf(o, name)!,
    rollouts: o.rollouts,
    services: o.services,
    clusterDomain: o.clusterDomain,
    previewRole: (): ServiceRole => (lockstep ? 'preview' : 'active'),
    activeRole: (): ServiceRole => 'active',
    // Lockstep only (preview-hold.ts; Ordered's preview pods reach their dependencies' live side).
    // Without `hold`: the metadata once nothing is held back.
    ...(lockstep && hold ? { previewGiven: (dep: string, key: string, url: string) => previewAddress(release, dep, carriesPreview(view, key, url), o, settleMsOf(o)).settled } : {}),
  });
}

const isLockstep = (o: Observed, release: ReleaseStatus | undefined) => (release?.strategy ?? o.group.spec.strategy) === 'Lockstep';

const settleMsOf = (o: Observed) => o.group.spec.dataPlaneSettleSeconds * 1000;

/**
 * Nudges for members Argo has left waiting too long (argo-nudge.ts says why). Planned here, so an
 * invalid, paused or deleting group never gets one (§5 "hands off").
 */
function nudges(o: Observed, graph: DependencyGraph): Action[] {
  return graph.members.filter((m) => o.nudgeDue?.has(m)).map((m) => ({ kind: 'Nudge', rollout: m }) as const);
}

