import { describe, expect, it } from 'vitest';
import { ArgoNudge } from '../../../src/controller/argo-nudge.ts';

describe('nudging Argo Rollouts', () => {
  it('is due once a rollout has waited in the same state for the whole period, then not again within it', () => {
    const n = new ArgoNudge(1_000);
    expect(n.due('ns/a', '5/100', 0)).toBe(false);
    expect(n.due('ns/a', '5/100', 999)).toBe(false);
    expect(n.due('ns/a', '5/100', 1_000)).toBe(true);
    n.nudged('ns/a', 1_000);
    expect(n.due('ns/a', '5/100', 1_500)).toBe(false);
    expect(n.due('ns/a', '5/100', 2_000)).toBe(true);
  });

  it('stays due while the planner declines to nudge (a paused or invalid group): only a nudge done restarts the period', () => {
    const n = new ArgoNudge(1_000);
    n.due('ns/a', '5/100', 0);
    expect(n.due('ns/a', '5/100', 1_000)).toBe(true);
    expect(n.due('ns/a', '5/100', 1_200)).toBe(true);
  });

  it('starts over when the state moves (the nudge itself, or Argo acting) and forgets a rollout no longer waiting', () => {
    const n = new ArgoNudge(1_000);
    n.due('ns/a', '5/100', 0);
    expect(n.due('ns/a', '5/101', 1_000)).toBe(false);
    expect(n.due('ns/a', '5/101', 2_000)).toBe(true);
    n.nudged('ns/a', 2_000);
    expect(n.due('ns/a', undefined, 2_100)).toBe(false);
    expect(n.due('ns/a', '5/101', 2_200)).toBe(false);
    expect(n.due('ns/b', '1/1', 5_000)).toBe(false);
  });
});
