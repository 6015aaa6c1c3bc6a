import { describe, expect, it } from 'vitest';
import { ArgoNudge, NudgeBudget } from '../../../src/controller/argo-nudge.ts';

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

describe('the nudge budget across all Rollouts', () => {
  const options = { quietMs: 500, busyMs: 5_000, actingWindowMs: 15_000 };

  it('gives one turn per quietMs while Argo is quiet, whichever Rollouts ask', () => {
    const b = new NudgeBudget(options);
    const granted: string[] = [];
    for (let now = 0; now < 2_000; now += 100) for (const key of ['ns/a', 'ns/b', 'ns/c']) if (b.take(key, now, undefined)) granted.push(`${key}@${now}`);
    expect(granted).toEqual(['ns/a@0', 'ns/a@500', 'ns/a@1000', 'ns/a@1500']);
  });

  it('gives one turn per busyMs while Argo visibly acts on other Rollouts, and quiet turns again once it has not for actingWindowMs', () => {
    const b = new NudgeBudget(options);
    const actedAt = 0;
    const at = (from: number, to: number) => {
      const out: number[] = [];
      for (let now = from; now < to; now += 100) if (b.take('ns/a', now, actedAt)) out.push(now);
      return out;
    };
    expect(at(0, 14_900)).toEqual([0, 5_000, 10_000]);
    // Argo last acted 15 s ago: quiet again.
    expect(at(15_000, 16_600)).toEqual([15_000, 15_500, 16_000, 16_500]);
  });

  it('takes a turn back that the plan did not use, so a Rollout the planner will not nudge never holds the budget', () => {
    const b = new NudgeBudget(options);
    expect(b.take('ns/paused', 0, 0)).toBe(true);
    b.giveBack('ns/paused');
    expect(b.take('ns/stuck', 100, 0)).toBe(true);
    expect(b.take('ns/other', 200, 0)).toBe(false);
    // Giving back a turn one does not hold changes nothing.
    b.giveBack('ns/paused');
    expect(b.take('ns/other', 300, 0)).toBe(false);
    expect(b.take('ns/other', 5_100, 0)).toBe(true);
  });

  it('a turn given back leaves the spacing from the turn before it', () => {
    const b = new NudgeBudget(options);
    expect(b.take('ns/a', 0, undefined)).toBe(true);
    expect(b.take('ns/b', 600, undefined)).toBe(true);
    b.giveBack('ns/b');
    expect(b.take('ns/c', 600, undefined)).toBe(true);
    b.giveBack('ns/c');
    b.giveBack('ns/c');
    expect(b.take('ns/d', 700, undefined)).toBe(true);
  });
});

describe('Argo acting, as ArgoNudge sees it', () => {
  it('is the moment a Rollout seen waiting stops waiting, not any Rollout read as not waiting', () => {
    const n = new ArgoNudge(1_000);
    expect(n.due('ns/never-waited', undefined, 100)).toBe(false);
    expect(n.lastActedAt).toBeUndefined();
    n.due('ns/a', '5/100', 200);
    expect(n.lastActedAt).toBeUndefined();
    n.due('ns/a', undefined, 300);
    expect(n.lastActedAt).toBe(300);
    n.due('ns/a', undefined, 400);
    expect(n.lastActedAt).toBe(300);
  });
});
