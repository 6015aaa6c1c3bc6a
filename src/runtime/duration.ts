/** Parses a Go-style duration of one unit ("15s", "500ms", "1m"); returns milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!m) throw new RangeError(`duration "${text}" is not like 500ms, 15s or 1m`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}
