import { buildGraph, describeGraphIssue, type DependencyGraph } from '../graph/dependency-graph.ts';
import type { Observed, PeerGroup } from './observed.ts';
import { barrierStepsOf } from './member-reading.ts';
import { addressOf } from './wiring.ts';
import { validateAnalysis } from './analysis.ts';
import { consents, keyProblem, keysNamedBy } from './authority.ts';
import { AUTHORIZED_GROUP_ANNOTATION, defaultAddressAnnotation } from '../api/rolloutgroup.ts';

export type InvalidReason =
  | 'DependencyCycle'
  | 'UnknownDependency'
  | 'SelfDependency'
  | 'DuplicateMember'
  | 'DuplicateDependency'
  | 'MemberNotFound'
  | 'MemberClaimed'
  | 'MemberMisconfigured'
  | 'AnalysisTemplateNotFound'
  | 'AnalysisTemplateKind'
  | 'AnalysisArgsMissing'
  | 'AnalysisMisconfigured'
  /** A pod annotation key Tandem never writes (a refused domain, or outside --annotation-prefixes; DESIGN §8). */
  | 'AnnotationKeyRefused'
  /** An address that would not lead to the dependency's Service (DESIGN §8). */
  | 'AddressRefused'
  /** Consent mode: a member Rollout does not name the group in its authorized-group annotation. */
  | 'MemberNotAuthorized';

export interface SpecProblem {
  readonly reason: InvalidReason;
  readonly message: string;
}

export type Validation =
  | { readonly valid: true; readonly graph: DependencyGraph }
  | { readonly valid: false; readonly problems: readonly SpecProblem[] };

/** The peer that keeps a Rollout both groups list: the older one, ties broken by name. */
function claimantOf(rollout: string, self: PeerGroup, peers: readonly PeerGroup[]): PeerGroup | undefined {
  const older = (a: PeerGroup, b: PeerGroup) =>
    a.creationTimestamp < b.creationTimestamp || (a.creationTimestamp === b.creationTimestamp && a.name < b.name);
  return peers.find((p) => p.name !== self.name && p.members.includes(rollout) && older(p, self));
}

function selfAsPeer(o: Observed): PeerGroup {
  const { metadata, spec } = o.group;
  return { name: metadata.name, creationTimestamp: metadata.creationTimestamp ?? '', members: spec.members.map((m) => m.rollout) };
}

/** Everything about a group that makes Tandem refuse to touch its members (DESIGN §1–§2). */
export function validate(o: Observed): Validation {
  const { spec } = o.group;
  const built = buildGraph(spec.members);
  if (!built.ok) {
    return {
      valid: false,
      problems: built.issues.map((i) => ({ reason: i.kind, message: describeGraphIssue(i) })),
    };
  }
  const problems: SpecProblem[] = [...authorityProblems(o)];
  const self = selfAsPeer(o);
  for (const m of spec.members) {
    const owner = claimantOf(m.rollout, self, o.peers);
    if (owner) {
      problems.push({
        reason: 'MemberClaimed',
        message: `rollout ${m.rollout} already belongs to group ${owner.name}, which is older; remove it from one of the two groups`,
      });
    }
  }
  for (const m of spec.members) {
    // One key, one writer: a role annotation under a dependency's address key would overwrite the address.
    const addresses = new Set(m.dependsOn.map((d) => d.annotation ?? defaultAddressAnnotation(d.rollout)));
    for (const role of ['preview', 'active'] as const) {
      for (const key of Object.keys(m.roleAnnotations?.[role] ?? {}).filter((k) => addresses.has(k))) {
        problems.push({ reason: 'MemberMisconfigured', message: `rollout ${m.rollout}: roleAnnotations.${role} names ${key}, which is a dependency's address annotation; give one of them another key` });
      }
    }
  }
  const missing = spec.members.filter((m) => !o.rollouts.has(m.rollout)).map((m) => m.rollout);
  if (missing.length > 0) {
    problems.push({
      reason: 'MemberNotFound',
      message: `rollout${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found in namespace ${o.group.metadata.namespace}; create ${missing.length > 1 ? 'them' : 'it'} or remove ${missing.length > 1 ? 'them' : 'it'} from members`,
    });
  }
  const barriers = new Map<string, number>();
  for (const m of spec.members) {
    const rollout = o.rollouts.get(m.rollout)?.rollout;
    if (!rollout) continue;
    const { blueGreen, canary } = rollout.spec.strategy;
    const bad = (what: string) => problems.push({ reason: 'MemberMisconfigured', message: `rollout ${m.rollout}: ${what}` });
    if (blueGreen) {
      barriers.set(m.rollout, 1);
      if (blueGreen.autoPromotionEnabled !== false) bad('set spec.strategy.blueGreen.autoPromotionEnabled: false so that Tandem decides when it is promoted');
    } else if (canary) {
      const steps = barrierStepsOf(rollout);
      barriers.set(m.rollout, steps.length);
      const last = (canary.steps?.length ?? 0) - 1;
      if (steps.length === 0 || steps.at(-1) !== last) {
        bad('end spec.strategy.canary.steps with an indefinite pause (`- pause: {}`) so that Tandem decides when it completes');
      }
      // Before any weight the canary has no pods, so a barrier there could never be ready.
      const first = steps[0];
      const scaled = (canary.steps ?? []).slice(0, first).some((s) => (s.setWeight ?? 0) > 0 || (s.setCanaryScale?.weight ?? 0) > 0 || (s.setCanaryScale?.replicas ?? 0) > 0);
      if (first !== undefined && !scaled) {
        bad(`the canary has no pods at its first \`pause: {}\` (step ${first + 1}): put a \`setWeight\` step before it so the canary can become ready`);
      }
    } else {
      bad('has neither a blueGreen nor a canary strategy');
    }
    for (const dep of m.dependsOn) {
      const target = o.rollouts.get(dep.rollout)?.rollout;
      if (!target || (!target.spec.strategy.blueGreen && !target.spec.strategy.canary)) continue;
      // Ordered previews talk to the active side only (DESIGN §3).
      const roles = spec.strategy === 'Ordered' ? (['active'] as const) : (['preview', 'active'] as const);
      for (const role of roles) {
        const a = addressOf(dep, target, role, o.services, o.clusterDomain);
        if (!a.ok) problems.push({ reason: a.refused ? 'AddressRefused' : 'MemberMisconfigured', message: `dependency of ${m.rollout}: ${a.problem}` });
      }
    }
  }
  problems.push(...validateAnalysis(o));
  const counts = new Set(barriers.values());
  if (spec.strategy === 'Lockstep' && counts.size > 1) {
    const list = [...barriers].map(([name, n]) => `${name}: ${n}`).join(', ');
    problems.push({
      reason: 'MemberMisconfigured',
      message: `members of a Lockstep group must pass the same number of barriers (${list}; a blue-green member counts as one): give every canary member the same number of \`pause: {}\` steps`,
    });
  }
  return problems.length > 0 ? { valid: false, problems: dedupe(problems) } : { valid: true, graph: built.graph };
}

/** DESIGN §8: keys the controller never writes, and, in consent mode, members that did not consent. */
function authorityProblems(o: Observed): SpecProblem[] {
  const out: SpecProblem[] = [];
  for (const m of o.group.spec.members) {
    for (const { key, where } of keysNamedBy(m)) {
      const problem = keyProblem(key, o.authority);
      if (problem) out.push({ reason: 'AnnotationKeyRefused', message: `member ${m.rollout}, ${where}: ${problem}` });
    }
  }
  if (o.authority?.requireConsent) {
    const group = o.group.metadata.name;
    const refusing = o.group.spec.members.filter((m) => {
      const view = o.rollouts.get(m.rollout);
      return view !== undefined && !consents(view.rollout, group);
    });
    for (const m of refusing) {
      out.push({
        reason: 'MemberNotAuthorized',
        message: `rollout ${m.rollout} does not consent to group ${group}: whoever may edit it must annotate it ${AUTHORIZED_GROUP_ANNOTATION}=${group}`,
      });
    }
  }
  return out;
}

const dedupe = (ps: readonly SpecProblem[]): SpecProblem[] =>
  ps.filter((p, i) => ps.findIndex((q) => q.reason === p.reason && q.message === p.message) === i);
