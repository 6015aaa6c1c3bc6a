import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGraph, describeGraphIssue } from '../../../src/graph/dependency-graph.ts';

const m = (rollout: string, ...deps: string[]) => ({ rollout, dependsOn: deps.map((d) => ({ rollout: d })) });

describe('buildGraph', () => {
  it('orders dependencies before dependents, keeping spec order between independent members', () => {
    const r = buildGraph([m('web', 'api'), m('api', 'db'), m('db'), m('cache')]);
    expect(r.ok && r.graph.dependenciesFirst).toEqual(['db', 'api', 'web', 'cache']);
    expect(r.ok && r.graph.dependentsOf('db')).toEqual(['api']);
    expect(r.ok && r.graph.dependenciesOf('web')).toEqual(['api']);
  });

  it('reports a cycle with its path', () => {
    const r = buildGraph([m('a', 'b'), m('b', 'c'), m('c', 'a')]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([{ kind: 'DependencyCycle', path: ['a', 'b', 'c', 'a'] }]);
    expect(describeGraphIssue(r.issues[0]!)).toBe('dependency cycle a -> b -> c -> a; remove one of these dependencies');
  });

  it('reports self-dependency, unknown dependency, duplicates', () => {
    const r = buildGraph([m('a', 'a'), m('b', 'zz'), m('c', 'a', 'a'), m('a')]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([
      { kind: 'DuplicateMember', rollout: 'a' },
      { kind: 'SelfDependency', rollout: 'a' },
      { kind: 'UnknownDependency', rollout: 'b', dependency: 'zz' },
      { kind: 'DuplicateDependency', rollout: 'c', dependency: 'a' },
    ]);
  });

  it('on any acyclic graph, every member comes after all of its dependencies', () => {
    // Random DAGs: member i may depend only on members j < i, then the spec order is shuffled.
    const dag = fc
      .integer({ min: 1, max: 12 })
      .chain((n) =>
        fc.tuple(
          fc.tuple(...Array.from({ length: n }, (_, i) => fc.subarray(Array.from({ length: i }, (_, j) => j)))),
          fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n }),
        ),
      );
    fc.assert(
      fc.property(dag, ([deps, order]) => {
        const members = order.map((i) => m(`m${i}`, ...deps[i]!.map((j) => `m${j}`)));
        const r = buildGraph(members);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const pos = new Map(r.graph.dependenciesFirst.map((n, i) => [n, i]));
        expect(pos.size).toBe(order.length);
        for (const mem of members) for (const d of mem.dependsOn) expect(pos.get(d.rollout)!).toBeLessThan(pos.get(mem.rollout)!);
      }),
    );
  });

  it('finds a cycle whenever one is added to a DAG', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10 }), fc.nat(), (n, seed) => {
        // A chain m0 <- m1 <- ... plus one back edge closes a cycle.
        const members = Array.from({ length: n }, (_, i) => m(`m${i}`, ...(i > 0 ? [`m${i - 1}`] : [])));
        const from = seed % (n - 1);
        members[from]!.dependsOn.push({ rollout: `m${n - 1}` });
        const r = buildGraph(members);
        expect(r.ok).toBe(false);
        if (r.ok) return;
        const cycle = r.issues.find((i) => i.kind === 'DependencyCycle');
        expect(cycle).toBeDefined();
        if (cycle?.kind === 'DependencyCycle') expect(cycle.path[0]).toBe(cycle.path.at(-1));
      }),
    );
  });
});
