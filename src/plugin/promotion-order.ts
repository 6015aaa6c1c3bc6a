import type { RolloutGroupSpec } from '../api/rolloutgroup.ts';
import { buildGraph, type MemberEdges } from '../graph/dependency-graph.ts';

export interface OrderSpec {
  readonly strategy: RolloutGroupSpec['strategy'];
  readonly order?: RolloutGroupSpec['order'];
  readonly members: readonly MemberEdges[];
}

/**
 * The members in the order Tandem promotes them: dependents first for Lockstep (and Ordered with
 * `order: DependentsFirst`), dependencies first otherwise. A spec with a cycle keeps its own order.
 */
export function promotionOrder(spec: OrderSpec): string[] {
  const built = buildGraph(spec.members);
  if (!built.ok) return spec.members.map((m) => m.rollout);
  const dependenciesFirst = [...built.graph.dependenciesFirst];
  const dependentsFirst = spec.strategy === 'Lockstep' || spec.order === 'DependentsFirst';
  return dependentsFirst ? dependenciesFirst.reverse() : dependenciesFirst;
}
