/** jsonEqual against the comparison it replaced: canonical JSON, objects' keys sorted. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonEqual } from '../../../src/controller/json-equal.ts';

const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));

/** Status-like values: few keys (so that two draws often agree), undefined among the values. */
const leaf = fc.oneof(fc.constantFrom('Healthy', 'Progressing', 'a', ''), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.constant(null), fc.constant(undefined));
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('phase', 'message', 'members', 'release', 'x'), tie('value'), { maxKeys: 4 })),
}));
/** The same value with every object's keys in another order. */
const reordered = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(reordered) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reordered(x)])) : v;

describe('jsonEqual', () => {
  it('agrees with canonical JSON on any two values (as objects and array elements)', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const pa = { s: a };
        const pb = { s: b };
        expect(jsonEqual(pa, pb)).toBe(canonicalJson(pa) === canonicalJson(pb));
        expect(jsonEqual([a], [b])).toBe(canonicalJson([a]) === canonicalJson([b]));
      }),
      { numRuns: 2_000 },
    );
  });

  it('finds a value equal to itself with its keys reordered', () => {
    fc.assert(fc.property(value, (a) => jsonEqual({ s: a }, { s: reordered(a) })));
  });

  it('treats an undefined property as absent, and tells apart what JSON tells apart', () => {
    expect(jsonEqual({ phase: 'Healthy', release: undefined }, { phase: 'Healthy' })).toBe(true);
    expect(jsonEqual({ phase: 'Healthy' }, { phase: 'Healthy', release: undefined })).toBe(true);
    expect(jsonEqual({ a: null }, {})).toBe(false);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(jsonEqual({ a: [] }, { a: {} })).toBe(false);
    expect(jsonEqual({ a: '1' }, { a: 1 })).toBe(false);
    expect(jsonEqual({ a: { b: 1 } }, { a: { b: 1, c: 2 } })).toBe(false);
  });
});
