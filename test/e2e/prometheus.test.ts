/**
 * A real Prometheus (Debian's, unpacked by scripts/install-promtool.sh) scraping a live controller
 * with config/prometheus/rules.yaml loaded: the per-group series arrive, every rule evaluates, and
 * TandemGroupDegraded goes pending for the group that is Degraded and for no other.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { groupManifest } from './support/apps.ts';
import { LOG_DIR } from './support/controller-process.ts';
import { freePort } from './support/free-port.ts';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';
import { dashboardExpressions } from '../support/dashboard.ts';

const bin = execFileSync('bash', ['scripts/install-promtool.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('Prometheus', () => {
  it('scrapes a live controller, evaluates the shipped rules, and raises TandemGroupDegraded for the Degraded group only', async () => {
    const s = await Scenario.create('prometheus', 'cycle', ['interest', 'loan']);
    cleanups.push(() => s.cleanup());
    await s.kube.applyFile(s.ns, 'examples/loan-interest/interest.yaml');
    await s.kube.applyFile(s.ns, 'examples/loan-interest/loan.yaml');
    // An invalid group (a dependency cycle) is Degraded at once.
    await s.kube.apply(s.ns, groupManifest('cycle', [{ rollout: 'interest', dependsOn: ['loan'] }, { rollout: 'loan', dependsOn: ['interest'] }]));
    const c = s.startController();
    await s.waitPhase('Degraded');
    const target = `127.0.0.1:${await c.serverPort('metrics')}`;

    const dir = mkdtempSync(join(tmpdir(), 'tandem-prometheus-'));
    const rule = parse(readFileSync('config/prometheus/rules.yaml', 'utf8')) as { spec: { groups: unknown[] } };
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: ['rules.yaml'],
        scrape_configs: [{ job_name: 'tandem-controller-metrics', static_configs: [{ targets: [target] }] }],
      }),
    );
    const port = await freePort();
    const logFile = join(LOG_DIR, `${s.ns}-prometheus-${Date.now()}.log`);
    const prometheus: ChildProcess = spawn(
      join(bin, 'prometheus'),
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = createWriteStream(logFile);
    prometheus.stdout!.pipe(log);
    prometheus.stderr!.pipe(log);
    cleanups.push(async () => {
      prometheus.kill('SIGTERM');
      await new Promise((r) => (prometheus.exitCode !== null ? r(null) : prometheus.once('exit', r)));
    });
    const api = async <T>(path: string): Promise<T> => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/${path}`);
      const body = (await res.json()) as { status: string; data: T };
      if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
      return body.data;
    };
    type Vector = { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    const query = (q: string) => api<Vector>(`query?query=${encodeURIComponent(q)}`).then((d) => d.result);
    const dump = async () => `--- ${logFile} ---\n${readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n')}`;

    const info = await waitFor('tandem_group_info scraped', async () => {
      const r = await query(`tandem_group_info{namespace="${s.ns}"}`);
      return r.length > 0 && r;
    }, { timeoutMs: 60_000, dump });
    expect(info.map((x) => ({ name: x.metric['name'], phase: x.metric['phase'], strategy: x.metric['strategy'], job: x.metric['job'], value: x.value[1] }))).toEqual([
      { name: 'cycle', phase: 'Degraded', strategy: 'Lockstep', job: 'tandem-controller-metrics', value: '1' },
    ]);
    const since = await query(`tandem_group_phase_since_seconds{namespace="${s.ns}"}`);
    expect(Number(since[0]!.value[1])).toBeLessThanOrEqual(Date.now() / 1000);

    // The rule's `for: 5m` has not run out: the alert is pending, with the group's labels.
    const alerts = await waitFor('TandemGroupDegraded pending', async () => {
      const r = await query(`ALERTS{alertname="TandemGroupDegraded"}`);
      return r.some((a) => a.metric['namespace'] === s.ns) && r;
    }, { timeoutMs: 60_000, dump });
    // This Prometheus scrapes this controller only, which watches this namespace only.
    expect(alerts.map((a) => ({ namespace: a.metric['namespace'], name: a.metric['name'], state: a.metric['alertstate'], severity: a.metric['severity'] }))).toEqual([
      { namespace: s.ns, name: 'cycle', state: 'pending', severity: 'warning' },
    ]);
    // Every rule loaded and evaluates without error; the controller is up, so it is not "down".
    const rules = await api<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>('rules');
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.name).sort()).toEqual(['TandemControllerDown', 'TandemGroupDegraded', 'TandemGroupProgressingTooLong', 'TandemGroupWaitingAtGate', 'TandemReconcileErrors', 'TandemReleaseAborted']);
    await waitFor('every rule evaluated', async () => {
      const r = (await api<{ groups: { rules: { health: string }[] }[] }>('rules')).groups.flatMap((g) => g.rules);
      return r.every((x) => x.health === 'ok');
    }, { timeoutMs: 30_000, dump });
    expect(await query('ALERTS{alertname="TandemControllerDown"}')).toEqual([]);
    expect((await query('up{job="tandem-controller-metrics"}'))[0]!.value[1]).toBe('1');

    // The Grafana dashboard (config/grafana): every query evaluates here, and its group panels and
    // variables show this namespace's Degraded group.
    const dashboard = JSON.parse(readFileSync('config/grafana/tandem-dashboard.json', 'utf8')) as Record<string, any>;
    const exprs = dashboardExpressions(dashboard, { namespace: s.ns, group: '.*' });
    for (const e of exprs) await query(e.expr).catch((err: unknown) => expect.fail(`${e.where}: ${String(err)}`));
    const byPhase = exprs.find((e) => e.where === 'Groups by phase A')!;
    expect((await query(byPhase.expr)).map((x) => ({ phase: x.metric['phase'], value: x.value[1] }))).toEqual([{ phase: 'Degraded', value: '1' }]);
    const inPhase = await query(exprs.find((e) => e.where === 'Time in current phase A')!.expr);
    expect(inPhase.map((x) => x.metric['name'])).toEqual(['cycle']);
    expect(Number(inPhase[0]!.value[1])).toBeGreaterThanOrEqual(0);
    expect(await api<string[]>(`label/namespace/values?match[]=${encodeURIComponent('tandem_group_info')}`)).toContain(s.ns);
    expect(await api<string[]>(`label/name/values?match[]=${encodeURIComponent(exprs.find((e) => e.where === 'variable group')!.expr)}`)).toEqual(['cycle']);
    const up = await query(exprs.find((e) => e.where === 'Controllers up, leader A')!.expr);
    expect(up[0]!.value[1]).toBe('1');
    // kubectl apply -k config/grafana: the same dashboard, labelled for Grafana's sidecar.
    const cm = parse(execFileSync(inject('kubectl'), ['kustomize', 'config/grafana'], { encoding: 'utf8' })) as { kind: string; metadata: { name: string; labels: Record<string, string> }; data: Record<string, string> };
    expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'tandem-grafana-dashboard', labels: { grafana_dashboard: '1' } } });
    expect(JSON.parse(cm.data['tandem.json']!)).toEqual(dashboard);
  });
});
