import { MAX_MEMBERS, type Condition, type MemberState, type MemberStatus, type ReleaseStatus, type RolloutGroupStatus } from '../api/rolloutgroup.ts';
import type { DependencyGraph } from '../graph/dependency-graph.ts';
import { setCondition } from './conditions.ts';
import type { MemberReading } from './member-reading.ts';
import type { Observed } from './observed.ts';
import type { PlannedEvent } from './plan-types.ts';
import { EVENT, READY } from './reasons.ts';
import type { Outcome } from './release-step.ts';
import type { SpecProblem } from './validation.ts';
import { ownsAnyMetadata } from './wiring.ts';

/** The CRD's bound on every message (status.message, abortReason, condition messages). */
export const MAX_MESSAGE = 32_768;

/** Cut to the CRD's bound, saying so, so a status write never fails on its size (§ "bad input"). */
export const bounded = (text: string, max = MAX_MESSAGE): string => (text.length <= max ? text : `${text.slice(0, max - 40)} … (${text.length - max + 40} characters cut)`);

/** All groups share Tandem's field manager: a Rollout another group lists keeps its keys. */
export const listedByPeer = (rollout: string, o: Observed): boolean => o.peers.some((p) => p.members.includes(rollout));

/** Rollouts removed from the spec that still carry Tandem's keys: remembered until released. */
export function formerMembers(o: Observed): string[] {
  const current = new Set(o.group.spec.members.map((m) => m.rollout));
  return (o.group.status?.members ?? [])
    .map((m) => m.rollout)
    .filter((r) => {
      const view = o.rollouts.get(r);
      return !current.has(r) && view !== undefined && ownsAnyMetadata(view) && !listedByPeer(r, o);
    });
}

function memberStatus(name: string, o: Observed, reading: MemberReading | undefined, state?: MemberState): MemberStatus {
  if (!reading) return { rollout: name, images: [], state: o.rollouts.has(name) ? (state ?? 'Stable') : 'Missing' };
  return {
    rollout: name,
    ...(reading.strategy ? { strategy: reading.strategy } : {}),
    ...(reading.phase ? { phase: reading.phase } : {}),
    ...(reading.stableRevision ? { stableRevision: reading.stableRevision } : {}),
    ...(reading.desiredRevision ? { desiredRevision: reading.desiredRevision } : {}),
    images: reading.images.slice(0, 64).map((i) => bounded(i, 1024)),
    state: state ?? (reading.failed ? 'Failed' : reading.changed ? 'Deploying' : 'Stable'),
  };
}

/**
 * Members first, then the former members still to be released, within the CRD's 50. A former member
 * past the bound stays unlisted until others are released; it keeps Tandem's keys meanwhile.
 */
function membersOf(o: Observed, names: readonly string[], readings: ReadonlyMap<string, MemberReading> | undefined, states: ReadonlyMap<string, MemberState>, formers: readonly string[]): MemberStatus[] {
  return [...names.map((m) => memberStatus(m, o, readings?.get(m), states.get(m))), ...formers.map((m) => memberStatus(m, o, undefined))].slice(0, MAX_MEMBERS);
}

/** The release as persisted, its free text within bounds. */
const boundedRelease = (r: ReleaseStatus): ReleaseStatus => (r.abortReason ? { ...r, abortReason: bounded(r.abortReason) } : r);

/** The whole status of a valid group, computed from scratch (DESIGN §7). */
export function groupStatus(
  o: Observed,
  graph: DependencyGraph,
  readings: ReadonlyMap<string, MemberReading>,
  release: ReleaseStatus | undefined,
  states: ReadonlyMap<string, MemberState>,
  { phase, message, ready }: Outcome,
  formersReleased: boolean,
): RolloutGroupStatus {
  const prevConditions: readonly Condition[] = o.group.status?.conditions ?? [];
  const gen = o.group.metadata.generation;
  const nowIso = new Date(o.now).toISOString();
  const counted = release ? release.targets.map((t) => t.rollout) : graph.members;
  const good = counted.filter((m) => {
    const r = readings.get(m);
    return r && (release ? r.ready || r.promoted : !r.changed && !r.failed);
  }).length;
  return {
    observedGeneration: gen,
    phase,
    message: bounded(message),
    readyMembers: `${good}/${counted.length}`,
    ...(release ? { release: boundedRelease(release) } : {}),
    members: membersOf(o, graph.members, readings, states, formersReleased ? [] : formerMembers(o)),
    conditions: [
      setCondition(prevConditions, ready, gen, nowIso),
      setCondition(prevConditions, { type: 'SpecValid', status: 'True', reason: 'Valid', message: 'spec is valid' }, gen, nowIso),
    ],
  };
}

/** An invalid group: reported, nothing touched; the release in flight (if any) is kept as it was. */
export function invalidStatus(o: Observed, problems: readonly SpecProblem[]): { status: RolloutGroupStatus; events: PlannedEvent[] } {
  const prev = o.group.status;
  const first = problems[0]!;
  const message = bounded(problems.map((p) => p.message).join('; '));
  const nowIso = new Date(o.now).toISOString();
  const gen = o.group.metadata.generation;
  const prevConditions = prev?.conditions ?? [];
  const members = membersOf(o, [...new Set(o.group.spec.members.map((m) => m.rollout))], undefined, new Map(), formerMembers(o));
  const status: RolloutGroupStatus = {
    observedGeneration: gen,
    phase: 'Degraded',
    message: bounded(`invalid spec: ${message}`),
    readyMembers: `0/${members.length}`,
    ...(prev?.release ? { release: prev.release } : {}),
    members,
    conditions: [
      setCondition(prevConditions, { type: 'Ready', status: 'False', reason: READY.InvalidSpec, message }, gen, nowIso),
      setCondition(prevConditions, { type: 'SpecValid', status: 'False', reason: first.reason, message }, gen, nowIso),
    ],
  };
  const old = prevConditions.find((c) => c.type === 'SpecValid');
  const events: PlannedEvent[] = old?.status === 'False' && old.message === message ? [] : [{ type: 'Warning', reason: EVENT.InvalidSpec, message: bounded(message, 1024) }];
  return { status, events };
}
