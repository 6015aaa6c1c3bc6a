/**
 * The Grafana dashboard (config/grafana/tandem-dashboard.json): every PromQL expression in it parses
 * (promtool, Debian's, checks each as a recording rule) and uses only metrics the controller exports.
 * test/e2e/prometheus.test.ts evaluates each one against a real Prometheus scraping a live controller.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { dashboardExpressions, exportedMetricNames, metricNamesIn } from '../../support/dashboard.ts';

const bin = execFileSync('bash', ['scripts/install-promtool.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const dashboard = JSON.parse(readFileSync('config/grafana/tandem-dashboard.json', 'utf8')) as Record<string, any>;
const exprs = dashboardExpressions(dashboard, { namespace: '.*', group: '.*' });

describe('Grafana dashboard', () => {
  it('every panel and variable has a query; every query parses (promtool check rules)', () => {
    const panels = (dashboard['panels'] as { type: string; title: string; targets?: unknown[] }[]).filter((p) => p.type !== 'row');
    for (const p of panels) expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
    expect(exprs.length).toBeGreaterThan(panels.length);
    const dir = mkdtempSync(join(tmpdir(), 'tandem-dashboard-'));
    const file = join(dir, 'dashboard-rules.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `tandem:dashboard_expr_${i}`, expr: e.expr })) }] }));
    const out = execFileSync(join(bin, 'promtool'), ['check', 'rules', file], { encoding: 'utf8' });
    expect(out).toContain(`SUCCESS: ${exprs.length} rules found`);
  });

  it('uses only metrics the controller exports (or Prometheus itself: up)', async () => {
    const exported = await exportedMetricNames();
    const used = new Set<string>();
    for (const e of exprs) {
      const names = metricNamesIn(e.expr);
      expect(names.length, e.where).toBeGreaterThan(0);
      for (const n of names) {
        expect(exported, `${e.where}: ${n}`).toContain(n);
        used.add(n);
      }
    }
    // The per-group series, the release figures and the controller's own are all on it.
    for (const n of ['tandem_group_info', 'tandem_group_phase_since_seconds', 'tandem_release_duration_seconds_bucket', 'tandem_cutover_seconds_bucket', 'tandem_action_latency_seconds_bucket', 'controller_runtime_reconcile_total', 'workqueue_depth']) expect(used).toContain(n);
  });

  it("and so do the alert rules' expressions (config/prometheus/rules.yaml)", async () => {
    const exported = await exportedMetricNames();
    const rules = (parse(readFileSync('config/prometheus/rules.yaml', 'utf8')) as { spec: { groups: { rules: { alert: string; expr: string }[] }[] } }).spec.groups.flatMap((g) => g.rules);
    for (const r of rules) {
      const names = metricNamesIn(r.expr);
      expect(names.length, r.alert).toBeGreaterThan(0);
      for (const n of names) expect(exported, `${r.alert}: ${n}`).toContain(n);
    }
  });

  it('metricNamesIn finds names and nothing else', () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (le, action) (rate(tandem_action_latency_seconds_bucket{x="a(b)"}[5m])))')).toEqual(['tandem_action_latency_seconds_bucket']);
    expect(metricNamesIn('time() - tandem_group_phase_since_seconds{namespace=~".*"} + on (name) group_left up')).toEqual(['tandem_group_phase_since_seconds', 'up']);
  });
});
