/** Quantiles of samples, and of a Prometheus histogram (as the bucket bound that holds it). */

export function quantile(samples: readonly number[], q: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Cumulative bucket counts of one histogram in Prometheus text format: [upper bound, count]. */
export function histogram(text: string, name: string): [number, number][] {
  const buckets: [number, number][] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const m = /[{,]le="([^"]+)"[^}]*\} (\S+)$/.exec(line);
    if (m) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  }
  return buckets.sort((a, b) => a[0] - b[0]);
}

/** The difference of two scrapes of the same histogram: what happened between them. */
export const histogramDelta = (after: [number, number][], before: [number, number][]): [number, number][] =>
  after.map(([le, n]) => [le, n - (before.find((b) => b[0] === le)?.[1] ?? 0)]);

/** The upper bound of the bucket holding quantile q, and how many samples there were. */
export function histogramQuantile(buckets: [number, number][], q: number): { le: number | undefined; count: number } {
  const count = buckets.at(-1)?.[1] ?? 0;
  if (count === 0) return { le: undefined, count };
  return { le: buckets.find(([, n]) => n >= q * count)?.[0], count };
}
