import { describe, expect, it } from 'vitest';
import { Rollout } from '../../../src/api/rollout.ts';
import { parseOnce } from '../../../src/kube/parse-once.ts';
import { blueGreen } from '../../fixtures/builders.ts';

describe('parseOnce', () => {
  it('parses an object once for as long as it is the same object, and again when the cache holds a new one', () => {
    let parses = 0;
    const counted = { safeParse: (raw: unknown) => (parses++, Rollout.safeParse(raw)) };
    const parse = parseOnce(counted);
    const raw = structuredClone(blueGreen({ name: 'loan', stable: 'v1' }).view.rollout) as object;
    const first = parse(raw);
    expect(first.success).toBe(true);
    expect(parse(raw)).toBe(first);
    expect(parses).toBe(1);
    // An informer replaces an object on every change: a new object is parsed anew.
    const next = parse(structuredClone(raw));
    expect(parses).toBe(2);
    expect(next).not.toBe(first);
    expect(next).toEqual(first);
  });

  it('freezes what it shares, so that a reader mutating it throws instead of changing the next reconcile', () => {
    const parse = parseOnce(Rollout);
    const result = parse(structuredClone(blueGreen({ name: 'loan', stable: 'v1' }).view.rollout) as object);
    if (!result.success) throw new Error('fixture does not parse');
    const r = result.data;
    expect(() => {
      (r.metadata as { name: string }).name = 'other';
    }).toThrow(TypeError);
    expect(() => {
      (r.spec.strategy as Record<string, unknown>)['canary'] = {};
    }).toThrow(TypeError);
    // Copies are the reader's own.
    const copy = structuredClone(r);
    copy.metadata.name = 'other';
    expect(copy.metadata.name).toBe('other');
  });

  it('keeps a failed parse, with its issues', () => {
    const parse = parseOnce(Rollout);
    const raw = { metadata: { name: 'x' } };
    const a = parse(raw);
    expect(a.success).toBe(false);
    expect(parse(raw)).toBe(a);
  });
});
