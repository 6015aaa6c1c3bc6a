/**
 * The alert rules (config/prometheus/rules.yaml) checked and unit-tested by Prometheus' own promtool
 * (Debian's, scripts/install-promtool.sh), and every metric they use exported by the controller.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { GroupMetrics } from '../../../src/controller/group-metrics.ts';
import { ReleaseMetrics } from '../../../src/controller/release-metrics.ts';
import { ControllerMetrics } from '../../../src/runtime/metrics.ts';

const bin = execFileSync('bash', ['scripts/install-promtool.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const promtool = (...args: string[]) => {
  try {
    return execFileSync(join(bin, 'promtool'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
};

interface Rule {
  alert: string;
  expr: string;
}
const rule = parse(readFileSync('config/prometheus/rules.yaml', 'utf8')) as { kind: string; spec: { groups: { name: string; rules: Rule[] }[] } };
const dir = mkdtempSync(join(tmpdir(), 'tandem-rules-'));
writeFileSync(join(dir, 'rules.generated.yaml'), stringify({ groups: rule.spec.groups }));
copyFileSync('config/prometheus/rules_test.yaml', join(dir, 'rules_test.yaml'));

describe('alert rules', () => {
  it('promtool check rules: valid', () => {
    expect(rule.kind).toBe('PrometheusRule');
    expect(promtool('check', 'rules', join(dir, 'rules.generated.yaml'))).toMatch(/SUCCESS: 6 rules found/);
  });

  it('promtool test rules: each alert fires when it should, and not before', () => {
    expect(promtool('test', 'rules', join(dir, 'rules_test.yaml'))).toMatch(/SUCCESS/);
    // Every alert has a test that expects it to fire.
    const tests = parse(readFileSync('config/prometheus/rules_test.yaml', 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    expect([...fired].sort()).toEqual(rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort());
  });

  it('uses only metrics the controller exports (or Prometheus itself: up)', async () => {
    const metrics = new ControllerMetrics('rolloutgroup', 1);
    new ReleaseMetrics(metrics.registry);
    new GroupMetrics(metrics.registry, () => [], () => true);
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).flatMap((m) => (String(m.type) === 'histogram' ? [`${m.name}_count`, `${m.name}_sum`, `${m.name}_bucket`] : [m.name])));
    exported.add('up');
    const KEYWORDS = new Set(['max', 'by', 'sum', 'rate', 'increase', 'absent', 'time', 'namespace', 'name', 'phase', 'outcome', 'controller', 'job']);
    for (const r of rule.spec.groups.flatMap((g) => g.rules)) {
      const stripped = r.expr.replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '');
      const names = (stripped.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((w) => !KEYWORDS.has(w));
      expect(names.length, r.alert).toBeGreaterThan(0);
      for (const n of names) expect(exported, `${r.alert}: ${n}`).toContain(n);
    }
  });
});
