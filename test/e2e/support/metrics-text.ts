/** The values of the samples of `name` in Prometheus text format whose labels include `labels`. */
const samples = (text: string, name: string, labels: Record<string, string>): number[] =>
  text.split('\n').flatMap((line) => {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) return [];
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    return Object.entries(labels).every(([k, v]) => have[k] === v) ? [Number(m[3])] : [];
  });

/** The value of the first such sample, or undefined. */
export const sample = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => samples(text, name, labels)[0];

/** The sum of all such samples (0 when there is none). */
export const total = (text: string, name: string, labels: Record<string, string> = {}): number => samples(text, name, labels).reduce((a, b) => a + b, 0);
