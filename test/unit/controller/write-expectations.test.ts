import { describe, expect, it } from 'vitest';
import { WriteExpectations } from '../../../src/controller/write-expectations.ts';

describe('write expectations', () => {
  it('hold a key stale while the cache shows the version from before the write, then forget it', () => {
    const e = new WriteExpectations(1_000);
    e.wrote('ns/a', '10', '11', 0);
    expect(e.stale('ns/a', '10', 5)).toBe(true);
    expect(e.stale('ns/a', '11', 6)).toBe(false);
    // Forgotten once seen: an older copy showing up later is the informer's business, not ours.
    expect(e.stale('ns/a', '10', 7)).toBe(false);
    expect(e.stale('ns/b', '10', 7)).toBe(false);
  });

  it('expect nothing from a write that changed nothing, and give up after the timeout', () => {
    const e = new WriteExpectations(1_000);
    e.wrote('ns/a', '10', '10', 0);
    expect(e.stale('ns/a', '10', 1)).toBe(false);
    e.wrote('ns/a', '10', '12', 0);
    expect(e.stale('ns/a', '10', 999)).toBe(true);
    expect(e.stale('ns/a', '10', 1_000)).toBe(false);
  });

  it('hold every version two writes in a row passed through stale, not only the first', () => {
    const e = new WriteExpectations(1_000);
    // A status patch then a request removal in one reconcile: the cache may show the middle version.
    e.wrote('ns/a', '10', '11', 0);
    e.wrote('ns/a', '11', '12', 1);
    expect(e.stale('ns/a', '11', 2)).toBe(true);
    expect(e.stale('ns/a', '10', 3)).toBe(true);
    expect(e.stale('ns/a', '12', 4)).toBe(false);
    // Two writes of one Rollout both guarded by the version observed before them.
    e.wrote('ns/r', '20', '21', 0);
    e.wrote('ns/r', '20', '22', 1);
    expect(e.stale('ns/r', '21', 2)).toBe(true);
    expect(e.stale('ns/r', '22', 3)).toBe(false);
  });

  it('do not carry an expired write into the next one', () => {
    const e = new WriteExpectations(1_000);
    e.wrote('ns/a', '10', '11', 0);
    e.wrote('ns/a', '30', '31', 2_000);
    expect(e.stale('ns/a', '11', 2_001)).toBe(false);
  });
});
