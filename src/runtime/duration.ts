/**
 * Go's duration syntax (time.ParseDuration, as kubectl and Argo flags take): one or more decimal
 * numbers with a unit, e.g. "300ms", "1.5h", "1m30s", or "0". Written here because the npm parsers
 * accept looser English forms ("1 hour") that a Go tool would refuse. Returns whole milliseconds;
 * sub-millisecond units are accepted and rounded.
 */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export function parseDuration(text: string): number {
  const t = text.trim();
  if (t === '0') return 0;
  let total = 0;
  let at = 0;
  PART.lastIndex = 0;
  while (at < t.length) {
    PART.lastIndex = at;
    const m = PART.exec(t);
    if (!m) break;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = PART.lastIndex;
  }
  if (at === 0 || at !== t.length) throw new RangeError(`duration "${text}" is not like 500ms, 15s, 1m30s or 1h`);
  return Math.round(total);
}

/** Whole milliseconds as Go's Duration.String() spells them: 1500 → "1.5s", 90000 → "1m30s", 3600000 → "1h0m0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}
