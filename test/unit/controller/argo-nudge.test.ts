import { describe, expect, it } from 'vitest';
import { ArgoNudge } from '../../../src/controller/argo-nudge.ts';

describe('nudging Argo Rollouts', () => {
  it('is due once a rollout has waited in the same state for the whole period, then not again within the doubled period', () => {
    const n = new ArgoNudge(1_000);
    expect(n.due('ns/a', '5/100', 0)).toBe(false);
    expect(n.due('ns/a', '5/100', 999)).toBe(false);
    expect(n.due('ns/a', '5/100', 1_000)).toBe(true);
    n.nudged('ns/a', 1_000);
    expect(n.due('ns/a', '5/100', 1_500)).toBe(false);
    expect(n.due('ns/a', '5/100', 2_999)).toBe(false);
    expect(n.due('ns/a', '5/100', 3_000)).toBe(true);
  });

  it('doubles the wait after each nudge while Argo has yet to act, through the new versions the nudges make, up to 16 periods', () => {
    const n = new ArgoNudge(1_000);
    let now = 0;
    let rv = 100;
    n.due('ns/a', `5/${rv}`, now);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const from = now;
      while (!n.due('ns/a', `5/${rv}`, now)) now += 100;
      waits.push(now - from);
      n.nudged('ns/a', now);
      rv++; // the nudge's own write: a new resourceVersion, still not observed
      n.due('ns/a', `5/${rv}`, now);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 16_000]);
    // Argo acts: the next wait starts from one period again.
    expect(n.due('ns/a', undefined, now)).toBe(false);
    expect(n.due('ns/a', '6/200', now)).toBe(false);
    expect(n.due('ns/a', '6/200', now + 1_000)).toBe(true);
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
