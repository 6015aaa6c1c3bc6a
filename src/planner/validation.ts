import { buildGraph, describeGraphIssue, type DependencyGraph } from '../graph/dependency-graph.ts';
import type { Observed, PeerGroup } from './observed.ts';
import { addressOf } from './wiring.ts';

export type InvalidReason =
  | 'DependencyCycle'
  | 'UnknownDependency'
  | 'SelfDependency'
  | 'DuplicateMember'
  | 'DuplicateDependency'
  | 'MemberNotFound'
  | 'MemberClaimed'
  | 'MemberMisconfigured'
  | 'UnsupportedStrategy';

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
  const problems: SpecProblem[] = [];
  if (spec.strategy === 'Ordered') {
    problems.push({ reason: 'UnsupportedStrategy', message: 'strategy Ordered is not supported by this version of Tandem; use Lockstep' });
  }
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
  const missing = spec.members.filter((m) => !o.rollouts.has(m.rollout)).map((m) => m.rollout);
  if (missing.length > 0) {
    problems.push({
      reason: 'MemberNotFound',
      message: `rollout${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found in namespace ${o.group.metadata.namespace}; create ${missing.length > 1 ? 'them' : 'it'} or remove ${missing.length > 1 ? 'them' : 'it'} from members`,
    });
  }
  for (const m of spec.members) {
    const rollout = o.rollouts.get(m.rollout)?.rollout;
    if (!rollout) continue;
    const { blueGreen, canary } = rollout.spec.strategy;
    const bad = (what: string) => problems.push({ reason: 'MemberMisconfigured', message: `rollout ${m.rollout}: ${what}` });
    if (!blueGreen && !canary) bad('has neither a blueGreen nor a canary strategy');
    else if (!blueGreen) bad('canary members are not supported by this version of Tandem; use a blueGreen strategy');
    else if (blueGreen.autoPromotionEnabled !== false) {
      bad('set spec.strategy.blueGreen.autoPromotionEnabled: false so that Tandem decides when it is promoted');
    }
    for (const dep of m.dependsOn) {
      const target = o.rollouts.get(dep.rollout)?.rollout;
      if (!target?.spec.strategy.blueGreen) continue;
      for (const role of ['preview', 'active'] as const) {
        const a = addressOf(dep, target, role, o.services, o.clusterDomain);
        if (!a.ok) problems.push({ reason: 'MemberMisconfigured', message: `dependency of ${m.rollout}: ${a.problem}` });
      }
    }
  }
  return problems.length > 0 ? { valid: false, problems: dedupe(problems) } : { valid: true, graph: built.graph };
}

const dedupe = (ps: readonly SpecProblem[]): SpecProblem[] =>
  ps.filter((p, i) => ps.findIndex((q) => q.reason === p.reason && q.message === p.message) === i);
