/** Reading PromQL out of the Grafana dashboard, and the metric names the controller exports. */
import { GroupMetrics } from '../../src/controller/group-metrics.ts';
import { ReleaseMetrics } from '../../src/controller/release-metrics.ts';
import { ControllerMetrics } from '../../src/runtime/metrics.ts';

export interface DashboardExpr {
  readonly where: string;
  readonly expr: string;
}

/**
 * Every expression of the dashboard's panels and query variables, with Grafana's variables replaced
 * as Grafana would (`$__rate_interval` by a range, `$namespace` and `$group` by the values given).
 * A variable's `label_values(selector, label)` becomes its selector.
 */
export function dashboardExpressions(dashboard: Record<string, any>, vars: { namespace: string; group: string }): DashboardExpr[] {
  const fill = (e: string) => e.replaceAll('$__rate_interval', '1m').replaceAll('$namespace', vars.namespace).replaceAll('$group', vars.group);
  const out: DashboardExpr[] = [];
  for (const p of dashboard['panels'] as { title: string; targets?: { expr: string; refId: string }[] }[]) {
    for (const t of p.targets ?? []) out.push({ where: `${p.title} ${t.refId}`, expr: fill(t.expr) });
  }
  for (const v of dashboard['templating'].list as { name: string; type: string; query?: { query: string } }[]) {
    if (v.type !== 'query') continue;
    const m = /^label_values\((.+),\s*[a-z_]+\)$/.exec(v.query!.query);
    if (!m) throw new Error(`variable ${v.name}: not label_values(selector, label): ${v.query!.query}`);
    out.push({ where: `variable ${v.name}`, expr: fill(m[1]!) });
  }
  return out;
}

const CLAUSE = /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g;
const WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/** Metric names in a PromQL expression: what is left once strings, matchers, ranges, clauses and calls go. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ').replace(CLAUSE, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    if (m[1] || WORDS.has(m[0])) continue; // a function call, or a keyword
    if (!names.includes(m[0])) names.push(m[0]);
  }
  return names;
}

/** Every series name the controller's registry exports (histograms as their three), plus Prometheus' `up`. */
export async function exportedMetricNames(): Promise<Set<string>> {
  const metrics = new ControllerMetrics('rolloutgroup', 1);
  new ReleaseMetrics(metrics.registry);
  new GroupMetrics(metrics.registry, () => [], () => true);
  const exported = new Set((await metrics.registry.getMetricsAsJSON()).flatMap((m) => (String(m.type) === 'histogram' ? [`${m.name}_count`, `${m.name}_sum`, `${m.name}_bucket`] : [m.name])));
  exported.add('up');
  return exported;
}
