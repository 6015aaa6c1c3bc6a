/** The members of a group and who depends on whom. Pure; invalid shapes come back as values. */

export interface MemberEdges {
  readonly rollout: string;
  readonly dependsOn: readonly { readonly rollout: string }[];
}

export type GraphIssue =
  | { readonly kind: 'DuplicateMember'; readonly rollout: string }
  | { readonly kind: 'SelfDependency'; readonly rollout: string }
  | { readonly kind: 'UnknownDependency'; readonly rollout: string; readonly dependency: string }
  | { readonly kind: 'DuplicateDependency'; readonly rollout: string; readonly dependency: string }
  | { readonly kind: 'DependencyCycle'; readonly path: readonly string[] };

export interface DependencyGraph {
  readonly members: readonly string[];
  dependenciesOf(rollout: string): readonly string[];
  dependentsOf(rollout: string): readonly string[];
  /** Dependencies before their dependents; ties keep the order of the spec. */
  readonly dependenciesFirst: readonly string[];
}

export type GraphResult =
  | { readonly ok: true; readonly graph: DependencyGraph }
  | { readonly ok: false; readonly issues: readonly GraphIssue[] };

export function buildGraph(members: readonly MemberEdges[]): GraphResult {
  const issues: GraphIssue[] = [];
  const names: string[] = [];
  const deps = new Map<string, string[]>();
  for (const m of members) {
    if (deps.has(m.rollout)) {
      issues.push({ kind: 'DuplicateMember', rollout: m.rollout });
      continue;
    }
    names.push(m.rollout);
    deps.set(m.rollout, []);
  }
  const known = new Set(names);
  for (const m of members) {
    const list = deps.get(m.rollout)!;
    const seen = new Set<string>();
    for (const d of m.dependsOn) {
      if (d.rollout === m.rollout) issues.push({ kind: 'SelfDependency', rollout: m.rollout });
      else if (!known.has(d.rollout)) issues.push({ kind: 'UnknownDependency', rollout: m.rollout, dependency: d.rollout });
      else if (seen.has(d.rollout)) issues.push({ kind: 'DuplicateDependency', rollout: m.rollout, dependency: d.rollout });
      else {
        seen.add(d.rollout);
        if (!list.includes(d.rollout)) list.push(d.rollout);
      }
    }
  }
  const cycle = findCycle(names, deps);
  if (cycle) issues.push({ kind: 'DependencyCycle', path: cycle });
  if (issues.length > 0) return { ok: false, issues };

  const dependents = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const n of names) for (const d of deps.get(n)!) dependents.get(d)!.push(n);
  const graph: DependencyGraph = {
    members: names,
    dependenciesOf: (r) => deps.get(r) ?? [],
    dependentsOf: (r) => dependents.get(r) ?? [],
    dependenciesFirst: topologicalOrder(names, deps),
  };
  return { ok: true, graph };
}

/** Kahn's algorithm, always taking the earliest ready member in spec order so the result is stable. */
function topologicalOrder(names: readonly string[], deps: ReadonlyMap<string, readonly string[]>): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < names.length) {
    const next = names.find((n) => !done.has(n) && deps.get(n)!.every((d) => done.has(d)));
    if (next === undefined) throw new Error('topologicalOrder called on a cyclic graph');
    done.add(next);
    order.push(next);
  }
  return order;
}

/** A cycle as a path that starts and ends at the same member, or undefined. */
function findCycle(names: readonly string[], deps: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'closed'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      if (d === n) continue; // reported as SelfDependency
      const s = state.get(d);
      if (s === 'open') return [...stack.slice(stack.indexOf(d)), d];
      if (s === undefined) {
        const found = visit(d);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 'closed');
    return undefined;
  };
  for (const n of names) {
    if (state.has(n)) continue;
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}

export function describeGraphIssue(issue: GraphIssue): string {
  switch (issue.kind) {
    case 'DuplicateMember':
      return `member ${issue.rollout} is listed more than once; list each rollout once`;
    case 'SelfDependency':
      return `member ${issue.rollout} depends on itself; remove it from its own dependsOn`;
    case 'UnknownDependency':
      return `member ${issue.rollout} depends on ${issue.dependency}, which is not a member; add ${issue.dependency} to members or remove the dependency`;
    case 'DuplicateDependency':
      return `member ${issue.rollout} lists dependency ${issue.dependency} twice; list it once`;
    case 'DependencyCycle':
      return `dependency cycle ${issue.path.join(' -> ')}; remove one of these dependencies`;
  }
}
