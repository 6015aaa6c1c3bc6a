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
});
