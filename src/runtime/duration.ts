/** Parses a Go-style duration of one unit ("500ms", "15s", "10m", "1h", or "0"); returns milliseconds. */
export function parseDuration(text: string): number {
  if (text.trim() === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new RangeError(`duration "${text}" is not like 500ms, 15s, 10m or 1h`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * factor);
}
