// Draws docs/images/scale-curve.svg from the scale benchmark's results: RSS and start → every group
// Healthy against N, one line per set of runs (a label, one namespace or 50).
//   node bench/curve.ts [--label after] [--out docs/images/scale-curve.svg] [bench/results/*.json …]
// A few lines of SVG by hand: two log-x line plots do not need a charting library and its build.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

interface Result {
  label: string;
  groups: number;
  namespaces: number;
  startToAllHealthyS: number;
  rssSteadyMiB: number;
  peakStormMiB: number;
  groupStormS: number | null;
  stormRatio: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { label: { type: 'string', multiple: true, default: ['after'] }, out: { type: 'string', default: 'docs/images/scale-curve.svg' } } });
const files = positionals.length > 0 ? positionals : readdirSync('bench/results').filter((f) => f.endsWith('.json')).map((f) => join('bench/results', f));
const results = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Result).filter((r) => values.label.includes(r.label));
if (results.length === 0) throw new Error(`no results labelled ${values.label.join(', ')}`);

/** One line per label and namespace count, the latest run per N. */
const series = new Map<string, Map<number, Result>>();
for (const r of results) {
  const name = `${r.label}, ${r.namespaces === 1 ? 'one namespace' : `${r.namespaces} namespaces`}`;
  const byN = series.get(name) ?? series.set(name, new Map()).get(name)!;
  byN.set(r.groups, r);
}

const W = 360;
const H = 240;
const M = { l: 52, r: 12, t: 28, b: 40 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const ns = [...new Set(results.map((r) => r.groups))].sort((a, b) => a - b);
const xMin = Math.min(...ns) / 1.5;
const xMax = Math.max(...ns) * 1.5;
const x = (n: number) => M.l + ((Math.log10(n) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * (W - M.l - M.r);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function panel(dx: number, title: string, unit: string, lines: { name: string; dash?: string; color: string; points: [number, number][] }[]): string {
  const yMax = Math.max(1, ...lines.flatMap((l) => l.points.map((p) => p[1]))) * 1.1;
  const y = (v: number) => M.t + (1 - v / yMax) * (H - M.t - M.b);
  const out: string[] = [`<g transform="translate(${dx},0)">`, `<text x="${W / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  out.push(`<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`);
  for (const n of ns) out.push(`<text x="${x(n)}" y="${H - M.b + 14}" text-anchor="middle">${n}</text>`);
  out.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle">groups (N, log scale)</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    out.push(`<text x="${M.l - 4}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)}</text><line x1="${M.l}" y1="${y(v)}" x2="${W - M.r}" y2="${y(v)}" stroke="#ddd"/>`);
  }
  out.push(`<text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${esc(unit)}</text>`);
  for (const l of lines) {
    const pts = l.points.sort((a, b) => a[0] - b[0]);
    out.push(`<polyline fill="none" stroke="${l.color}" stroke-width="2" ${l.dash ? `stroke-dasharray="${l.dash}"` : ''} points="${pts.map(([n, v]) => `${x(n).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
    for (const [n, v] of pts) out.push(`<circle cx="${x(n).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${l.color}"><title>${esc(`${l.name}: N=${n}: ${v}`)}</title></circle>`);
  }
  out.push('</g>');
  return out.join('\n');
}

const named = [...series].map(([name, byN], i) => ({ name, byN: [...byN.values()], color: COLORS[i % COLORS.length]! }));
const rss = named.flatMap((s) => [
  { name: `${s.name}: steady`, color: s.color, points: s.byN.map((r) => [r.groups, r.rssSteadyMiB] as [number, number]) },
  // Only runs that had a storm (--no-storm leaves groupStormS null; its second process only idled).
  { name: `${s.name}: peak in storm`, color: s.color, dash: '5,3', points: s.byN.filter((r) => r.groupStormS !== null).map((r) => [r.groups, r.peakStormMiB] as [number, number]) },
  // Without a storm the second process's peak is that of a restart and its idle time.
  { name: `${s.name}: peak after a restart`, color: s.color, dash: '1,3', points: s.byN.filter((r) => r.groupStormS === null).map((r) => [r.groups, r.peakStormMiB] as [number, number]) },
]);
const settle = named.map((s) => ({ name: s.name, color: s.color, points: s.byN.map((r) => [r.groups, r.startToAllHealthyS] as [number, number]) }));
const legend = named.map((s, i) => `<g transform="translate(${M.l + i * 230},${H + 6})"><rect width="12" height="12" fill="${s.color}"/><text x="16" y="11">${esc(s.name)}</text></g>`).join('\n');
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 40}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
${panel(0, 'RSS (steady; dashed: storm peak; dotted: restart peak)', 'MiB', rss)}
${panel(W, 'start → every group Healthy', 's', settle)}
${legend}
<text x="${M.l}" y="${H + 34}" fill="#555">Shared 2-core machine under load (see docs/performance.md); generated by bench/curve.ts from bench/results.</text>
</svg>
`;
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, svg);
console.log(`wrote ${values.out}: ${[...series.keys()].join('; ')}; N = ${ns.join(', ')}`);
