import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/runtime/duration.ts';

describe('Go durations', () => {
  it('parses what time.ParseDuration parses: units, fractions, several parts', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('.5s')).toBe(500);
    expect(parseDuration('300ms')).toBe(300);
    expect(parseDuration('1500us')).toBe(2);
    expect(parseDuration('2µs')).toBe(0);
    expect(parseDuration('0')).toBe(0);
  });

  it('refuses what Go refuses', () => {
    for (const bad of ['15', '1m30', '1m 30s', 's', '1x', '-1s', '', ' ', '1d', '1.5.2s']) expect(() => parseDuration(bad), bad).toThrow(RangeError);
  });

  it('prints as Go prints, and what it prints parses back', () => {
    const cases: [number, string][] = [[0, '0s'], [500, '500ms'], [1000, '1s'], [1500, '1.5s'], [90_000, '1m30s'], [3_600_000, '1h0m0s'], [3_723_500, '1h2m3.5s']];
    for (const [ms, text] of cases) {
      expect(formatDuration(ms)).toBe(text);
      expect(parseDuration(text)).toBe(ms);
    }
  });
});
