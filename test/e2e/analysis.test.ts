/**
 * Group analysis on the real stack (docs/analysis.md): a real Prometheus (Debian's, unpacked by
 * scripts/install-promtool.sh) on 127.0.0.1 scrapes a loopback exporter whose error ratio and latency
 * the test sets; an AnalysisTemplate with Prometheus metrics across loan and interest; Tandem creates
 * the AnalysisRuns and the real Argo Rollouts controller (on the host, so it reaches 127.0.0.1) runs them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { ARGOCD_DIR, health } from '../support/argocd-lua.ts';
import { addressKey, blueGreenApp, canaryApp, groupManifest, webAnalysis } from './support/apps.ts';
import { LOG_DIR } from './support/controller-process.ts';
import { freePort } from './support/free-port.ts';
import { activeSwitches, firstAtStep, matchedVersionViolations } from './support/invariants.ts';
import type { GroupObj } from './support/kube.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario } from './support/scenario.ts';
import { verdictServer } from './support/verdict-server.ts';
import { waitFor } from './support/wait.ts';

const bin = execFileSync('bash', ['scripts/install-promtool.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const PLUGIN = new URL('../../dist/kubectl-rolloutgroup.js', import.meta.url).pathname;
/** As in plugin.test.ts: with TANDEM_CAPTURE_ARGOCD=1 the live groups are kept as config/argocd/testdata/. */
const CAPTURE = process.env['TANDEM_CAPTURE_ARGOCD'] === '1';

/** The live group as `kubectl get -o json` shows it (what Argo CD's health check is given), minus managedFields. */
function liveGroup(sc: Scenario): Record<string, any> {
  const g = JSON.parse(sc.kubectl('get', 'rolloutgroup', sc.group, '-o', 'json')) as Record<string, any>;
  delete g['metadata']['managedFields'];
  return g;
}

/**
 * Argo CD's health check (config/argocd/health.lua, in Lua 5.1) on the live group: its status and a
 * message naming the run and what decided; with capture on, the object becomes Argo CD test data.
 */
function expectArgoHealth(g: Record<string, any>, capture: string, status: string, ...named: string[]): void {
  const h = health(g) as { status: string; message: string };
  expect(h.status, `${capture}: ${JSON.stringify(g['status'] ?? null)}`).toBe(status);
  for (const n of named) expect(h.message, capture).toContain(n);
  if (CAPTURE) writeFileSync(join(ARGOCD_DIR, 'testdata', `${capture}.yaml`), stringify(g));
}

/** `kubectl rolloutgroup get NAME` (the plugin's tree) of a scenario's group, uncoloured (a pipe). */
const pluginGet = (sc: Scenario): string =>
  execFileSync(process.execPath, [PLUGIN, 'get', sc.group, '-n', sc.ns, '--kubeconfig', inject('kubeconfig')], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

/**
 * The services' request figures as an application would export them: on every scrape, 100 more
 * requests per service, `errorRatio` of them answered 5xx, all taking `latency` seconds.
 */
class Exporter {
  errorRatio = 0.01;
  latency = 0.05;
  private readonly totals = new Map<string, { ok: number; errors: number; buckets: number[]; sum: number }>();
  static readonly BUCKETS = [0.1, 0.25, 0.5, 1];
  server: Server | undefined;
  port = 0;
  private readonly services: readonly string[];

  constructor(services: readonly string[]) {
    this.services = services;
  }

  async start(): Promise<number> {
    this.server = createHttpServer((req, res) => {
      // A member's own (Argo) web analysis asks here; it always passes.
      if (req.url === '/verdict') return res.setHeader('content-type', 'application/json').end(JSON.stringify({ ok: true }));
      return res.setHeader('content-type', 'text/plain; version=0.0.4').end(this.scrape());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  private scrape(): string {
    const lines = ['# TYPE http_requests_total counter', '# TYPE http_request_duration_seconds histogram'];
    for (const s of this.services) {
      const t = this.totals.get(s) ?? { ok: 0, errors: 0, buckets: Exporter.BUCKETS.map(() => 0), sum: 0 };
      const errors = Math.round(100 * this.errorRatio);
      t.ok += 100 - errors;
      t.errors += errors;
      Exporter.BUCKETS.forEach((le, i) => (t.buckets[i]! += this.latency <= le ? 100 : 0));
      t.sum += 100 * this.latency;
      this.totals.set(s, t);
      lines.push(`http_requests_total{service="${s}",code="200"} ${t.ok}`, `http_requests_total{service="${s}",code="500"} ${t.errors}`);
      Exporter.BUCKETS.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{service="${s}",le="${le}"} ${t.buckets[i]}`));
      const count = t.ok + t.errors;
      lines.push(`http_request_duration_seconds_bucket{service="${s}",le="+Inf"} ${count}`, `http_request_duration_seconds_sum{service="${s}"} ${t.sum}`, `http_request_duration_seconds_count{service="${s}"} ${count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/**
 * The practice users follow for a canary with Prometheus, for the release: the frontend's (loan's)
 * error ratio while it calls the new backend, the backend's (interest's) p99 latency. Between the
 * success and failure conditions a measurement is inconclusive.
 */
const template = (prometheus: string, count: number) => `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: release-health}
spec:
  args:
  - name: frontend
  - name: backend
  metrics:
  - name: error-ratio
    initialDelay: 3s
    interval: 2s
    count: ${count}
    failureLimit: 0
    successCondition: result[0] < 0.05
    failureCondition: result[0] > 0.2
    provider:
      prometheus:
        address: ${prometheus}
        query: sum(rate(http_requests_total{service="{{args.frontend}}",code=~"5.."}[5s])) / sum(rate(http_requests_total{service="{{args.frontend}}"}[5s]))
  - name: p99-latency
    initialDelay: 3s
    interval: 2s
    count: ${count}
    failureLimit: 0
    successCondition: result[0] < 0.3
    failureCondition: result[0] >= 1
    provider:
      prometheus:
        address: ${prometheus}
        query: histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{service="{{args.backend}}"}[5s])) by (le))
`;

const analysis = `  analysis:
    prePromotion:
      templates: [{templateName: release-health}]
      args:
      - {name: frontend, value: "{{members.loan.previewService}}"}
      - {name: backend, value: "{{members.interest.previewService}}"}
`;

const loanEdge = [{ dependent: 'loan', dependency: 'interest', annotation: addressKey('interest') }];

interface RunObj {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string }[] };
  spec: { args?: { name: string; value?: string }[]; terminate?: boolean };
  status?: { phase?: string; message?: string };
}

let s: Scenario;
let exporter: Exporter;
let prometheusUrl: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  exporter = new Exporter(['loan-preview', 'interest-preview', 'loan-active']);
  const exporterPort = await exporter.start();
  cleanups.push(() => new Promise<void>((r) => exporter.server!.close(() => r())));
  const dir = mkdtempSync(join(tmpdir(), 'tandem-analysis-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), stringify({ global: { scrape_interval: '1s' }, scrape_configs: [{ job_name: 'apps', static_configs: [{ targets: [`127.0.0.1:${exporterPort}`] }] }] }));
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  const logFile = join(LOG_DIR, `analysis-prometheus-${Date.now()}.log`);
  const prometheus: ChildProcess = spawn(join(bin, 'prometheus'), [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  prometheus.stdout!.pipe(log);
  prometheus.stderr!.pipe(log);
  cleanups.push(async () => {
    prometheus.kill('SIGTERM');
    await new Promise((r) => (prometheus.exitCode !== null ? r(null) : prometheus.once('exit', r)));
  });
  // Scraping: the exporter's series are in.
  await waitFor('Prometheus scraping the exporter', async () => {
    return (await instantQuery('sum(rate(http_requests_total[5s]))')).length > 0;
  }, { timeoutMs: 60_000, dump: async () => readFileSync(logFile, 'utf8').slice(-2000) });

  s = await Scenario.create('analysis', 'loans', ['interest', 'loan']);
  cleanups.push(() => s.cleanup());
  await s.kube.apply(s.ns, template(prometheusUrl, 2));
  await s.kube.apply(s.ns, blueGreenApp('interest', '1.0'));
  await s.kube.apply(s.ns, blueGreenApp('loan', '1.0'));
  await s.kube.apply(s.ns, groupManifest('loans', [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }], analysis));
  s.startController();
  await s.waitSteady();
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const runsOfIn = async (namespace: string, release: string): Promise<RunObj[]> => {
  const list = (await s.kube.custom.listNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural: 'analysisruns', namespace, labelSelector: `tandem.dev/release=${release}` })) as { items: RunObj[] };
  return list.items;
};
const runsOf = (release: string) => runsOfIn(s.ns, release);

/** The samples of an instant query against the test's Prometheus; none while it does not answer. */
async function instantQuery(query: string): Promise<{ value?: [number, string] }[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`).catch(() => undefined);
  const body = res ? ((await res.json()) as { data?: { result?: { value?: [number, string] }[] } }) : undefined;
  return body?.data?.result ?? [];
}

/**
 * Sets the error ratio the exporter reports and waits until Prometheus's 5 s window holds only it:
 * a run started sooner measures a mix with the previous test's ratio (inconclusive, say).
 */
async function settleErrorRatio(ratio: number): Promise<void> {
  exporter.errorRatio = ratio;
  const query = 'sum(rate(http_requests_total{code="500"}[5s])) / sum(rate(http_requests_total[5s]))';
  await waitFor(`Prometheus measuring an error ratio of ${ratio}`, async () => {
    const value = Number((await instantQuery(query))[0]?.value?.[1]);
    return Math.abs(value - ratio) < 0.005;
  }, { timeoutMs: 60_000 });
}

/** Pushes every member to `version`; returns the group once its new release is in flight. */
async function release(version: string): Promise<GroupObj> {
  const before = (await s.kube.group(s.ns, 'loans')).status?.release?.id;
  for (const m of s.members) await s.kube.setImage(s.ns, m, `ghcr.io/acme/${m}:${version}`);
  return s.waitGroup(`a release of ${version}`, (g) => g.status?.release !== undefined && g.status.release.id !== before && g.status.release.targets.length === 2);
}

const recordedRuns = (g: GroupObj) => (g.status?.release as { analysisRuns?: { name: string; point: string; stage: number; phase: string }[] } | undefined)?.analysisRuns ?? [];
const runPhase = (g: GroupObj) => (g.status?.release as { analysisRuns?: { phase: string }[] } | undefined)?.analysisRuns?.[0]?.phase;

describe('group analysis with Prometheus', () => {
  it('a release whose analysis succeeds opens its gate, and not before', async () => {
    await settleErrorRatio(0.01);
    const recorder = await Recorder.start(s.kube, s.ns);
    try {
      const started = await release('2.0');
      const id = started.status!.release!.id;
      // A promote request made at once waits for the analysis.
      await s.kube.annotateGroup(s.ns, 'loans', { 'tandem.dev/promote': id });
      const running = await s.waitGroup('analysis created', (g) => runPhase(g) !== undefined);
      expect(running.status!.release!.state).toBe('Gating');
      const done = await s.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
      expect(done.metadata.annotations?.['tandem.dev/promote']).toBeUndefined();

      // One run, owned by the group, labelled, its args filled from the release, Successful.
      const runs = await runsOf(id);
      expect(runs.map((r) => r.metadata.name)).toEqual([`loans-${id}-pre-1`]);
      const run = runs[0]!;
      expect(run.status?.phase).toBe('Successful');
      expect(run.metadata.labels).toMatchObject({ 'tandem.dev/group': 'loans', 'tandem.dev/release': id, 'tandem.dev/analysis-stage': 'prePromotion-1' });
      expect(run.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid])).toEqual([['RolloutGroup', 'loans', (done.metadata as { uid?: string }).uid]]);
      expect(run.spec.args).toEqual([
        { name: 'frontend', value: 'loan-preview' },
        { name: 'backend', value: 'interest-preview' },
      ]);

      // Over the whole history: the gate opened only once the group had recorded the analysis as
      // Successful, and no active Service switched before that.
      const groups = recorder.events.filter((e) => e.kind === 'RolloutGroup').map((e) => ({ seq: e.seq, release: e.object.status?.release }));
      const cutting = groups.filter((g) => g.release?.id === id && g.release.state === 'CuttingOver');
      expect(cutting.length).toBeGreaterThan(0);
      for (const g of cutting) expect(g.release.analysisRuns?.[0]?.phase).toBe('Successful');
      const succeededAt = groups.find((g) => g.release?.id === id && g.release.analysisRuns?.[0]?.phase === 'Successful')!.seq;
      const switches = activeSwitches(recorder);
      expect(switches.length).toBe(2);
      for (const sw of switches) expect(sw.seq).toBeGreaterThan(succeededAt);
      expect(matchedVersionViolations(recorder, loanEdge)).toEqual([]);
      await waitFor('AnalysisStarted, AnalysisSucceeded and ReleaseCompleted events', async () => {
        const reasons = (await s.kube.events(s.ns, 'loans')).map((e) => e.reason);
        return ['AnalysisStarted', 'AnalysisSucceeded', 'ReleaseCompleted'].every((r) => reasons.includes(r));
      }, { dump: s.dump });
    } finally {
      await recorder.stop();
    }
  }, 240_000);

  it('a release whose analysis is inconclusive waits for a person, and goes on when promoted', async () => {
    await settleErrorRatio(0.1); // between the success (< 0.05) and failure (> 0.2) conditions
    const started = await release('4.0');
    const id = started.status!.release!.id;
    const waiting = await s.waitGroup('waiting for a person', (g) => g.status?.release?.id === id && g.status.conditions?.find((c) => c.type === 'Ready')?.reason === 'WaitingForPerson', 120_000);
    expect(waiting.status!.phase).toBe('Paused');
    expect(waiting.status!.release!.state).toBe('Gating');
    expect(waiting.status!.message).toContain(`analysis loans-${id}-pre-1 inconclusive`);
    expect(waiting.status!.message).toContain(`promote (tandem.dev/promote: ${id}) or abort the release`);
    // Argo CD: Suspended (a person decides), naming the run and the metric that was inconclusive.
    expectArgoHealth(liveGroup(s), 'suspended_analysisInconclusive', 'Suspended', `analysis loans-${id}-pre-1 inconclusive`, 'metric error-ratio Inconclusive');
    await waitFor('AnalysisInconclusive event', async () => (await s.kube.events(s.ns, 'loans')).some((e) => e.reason === 'AnalysisInconclusive' && e.type === 'Warning' && e.message.includes(id)), { dump: s.dump });
    expect(activeSwitchesNow(await s.kube.rollout(s.ns, 'loan'), started, 'loan')).toBe(false);
    await s.kube.annotateGroup(s.ns, 'loans', { 'tandem.dev/promote': id });
    const done = await s.waitGroup('Healthy after the promote', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
    for (const m of s.members) expect((await s.kube.rollout(s.ns, m)).status!['stableRS']).toBe(started.status!.release!.targets.find((t) => t.rollout === m)!.revision);
    expect(done.status!.phase).toBe('Healthy');
    expect((await runsOf(id)).length).toBe(1);
  }, 240_000);

  it('a controller SIGKILLed while the AnalysisRun runs resumes it, without a second one', async () => {
    await settleErrorRatio(0.01);
    // A longer run: six measurements two seconds apart.
    await s.kube.apply(s.ns, template(prometheusUrl, 6));
    const started = await release('5.0');
    const id = started.status!.release!.id;
    await waitFor('the AnalysisRun running', async () => (await runsOf(id)).some((r) => r.status?.phase === 'Running'), { dump: s.dump });
    // Argo CD: Progressing, naming the run that measures (read once the group has recorded it Running).
    const measuring = await waitFor('the group recording the run Running', async () => {
      const g = liveGroup(s);
      return g['status']?.['release']?.['id'] === id && g['status']['release']['analysisRuns']?.[0]?.['phase'] === 'Running' && g['status']['observedGeneration'] === g['metadata']['generation'] ? g : undefined;
    }, { dump: s.dump });
    expectArgoHealth(measuring, 'progressing_analysisRunning', 'Progressing', `analysis loans-${id}-pre-1 running`);
    const killed = s.controller;
    await killed.kill('SIGKILL');
    expect(await killed.exit()).toBe('SIGKILL');
    s.startController('restarted');
    const ready = await s.waitGroup('ready after the analysis', (g) => g.status?.release?.id === id && runPhase(g) === 'Successful' && g.status.phase === 'Paused', 120_000);
    expect(ready.status!.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('AwaitingPromotion');
    const runs = await runsOf(id);
    expect(runs.map((r) => r.metadata.name)).toEqual([`loans-${id}-pre-1`]);
    expect(runs[0]!.status?.phase).toBe('Successful');
    await s.kube.annotateGroup(s.ns, 'loans', { 'tandem.dev/promote': id });
    await s.waitGroup('Healthy after the promote', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
  }, 240_000);

  it('a release whose analysis fails is aborted, the failing metric named in the status and events', async () => {
    // Last: after an aborted release, the next would start from members Argo holds aborted.
    await settleErrorRatio(0.5);
    const started = await release('6.0');
    const id = started.status!.release!.id;
    const aborted = await s.waitGroup('aborted by the analysis', (g) => g.status?.release?.state === 'Aborted', 120_000);
    expect(aborted.status!.phase).toBe('Degraded');
    const reason = aborted.status!.release!.abortReason!;
    expect(reason).toContain(`analysis loans-${id}-pre-1 Failed`);
    expect(reason).toContain('metric error-ratio Failed');
    expect(reason).not.toContain('p99-latency');
    expect(aborted.status!.message).toContain('metric error-ratio Failed');
    // Argo CD: Degraded, naming the run, the metric and its last value.
    expectArgoHealth(liveGroup(s), 'degraded_analysisFailed', 'Degraded', `analysis loans-${id}-pre-1 Failed`, 'metric error-ratio Failed (last value [0.5');
    // The plugin's tree: the run, its point, phase and the measurement that decided.
    expect(pluginGet(s)).toContain(`α loans-${id}-pre-1 (prePromotion) Failed: metric error-ratio Failed (last value [0.5`);
    // Events follow the status write that records them.
    const events = await waitFor('AnalysisFailed and ReleaseAborted events', async () => {
      const all = await s.kube.events(s.ns, 'loans');
      return ['AnalysisFailed', 'ReleaseAborted'].every((r) => all.some((x) => x.reason === r && x.message.includes(id))) ? all : undefined;
    }, { dump: s.dump });
    for (const r of ['AnalysisFailed', 'ReleaseAborted']) {
      const e = events.find((x) => x.reason === r && x.message.includes(id));
      expect(e?.type, r).toBe('Warning');
      expect(e?.message, r).toContain('metric error-ratio Failed');
    }
    // Every member aborted, none promoted.
    for (const m of s.members) {
      await waitFor(`${m} aborted`, async () => (await s.kube.rollout(s.ns, m)).status?.['abort'] === true, { dump: s.dump });
      const r = await s.kube.rollout(s.ns, m);
      expect(r.status!['stableRS']).not.toBe(started.status!.release!.targets.find((t) => t.rollout === m)!.revision);
    }
    expect((await runsOf(id)).length).toBe(1);
  }, 180_000);
});


/** A guard with no inconclusive zone: the error ratio is below 10 %, or the run fails. */
const guardTemplate = (prometheus: string) => `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: release-guard}
spec:
  args:
  - name: frontend
  metrics:
  - name: error-ratio
    initialDelay: 2s
    interval: 2s
    count: 40
    failureLimit: 0
    successCondition: result[0] < 0.1
    failureCondition: result[0] >= 0.1
    provider:
      prometheus:
        address: ${prometheus}
        query: sum(rate(http_requests_total{service="{{args.frontend}}",code=~"5.."}[5s])) / sum(rate(http_requests_total{service="{{args.frontend}}"}[5s]))
`;

describe('group analysis guarding the cutover (postPromotion)', () => {
  it('failing after a partial cutover rolls every member back; matched versions hold over the recorded cutover', async () => {
    await settleErrorRatio(0.01);
    const g = await Scenario.create('analysis-post', 'loans', ['interest', 'loan']);
    cleanups.push(() => g.cleanup());
    const { kube, ns } = g;
    // interest's own post-promotion analysis holds it live but not yet stable for 40 s: the cutover stays partial.
    await kube.apply(ns, webAnalysis('interest-settle', `http://127.0.0.1:${exporter.port}/verdict`, 40));
    await kube.apply(ns, guardTemplate(prometheusUrl));
    await kube.apply(ns, blueGreenApp('interest', '1.0', { postPromotionAnalysis: 'interest-settle' }));
    await kube.apply(ns, blueGreenApp('loan', '1.0'));
    await kube.apply(ns, groupManifest('loans', [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }], `  analysis:
    postPromotion:
      templates: [{templateName: release-guard}]
      args: [{name: frontend, value: "{{members.loan.activeService}}"}]
`));
    g.startController();
    await g.waitSteady();
    const before = { interest: (await kube.rollout(ns, 'interest')).status!['stableRS'], loan: (await kube.rollout(ns, 'loan')).status!['stableRS'] };
    const recorder = await Recorder.start(kube, ns);
    try {
      for (const m of g.members) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      const paused = await g.waitPhase('Paused');
      const id = paused.status!.release!.id;
      const target = (m: string) => paused.status!.release!.targets.find((t) => t.rollout === m)!.revision;
      await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': id });
      // Partial: loan promoted, interest live but not yet stable (its own analysis waits).
      await waitFor('loan promoted, interest live but not stable', async () => {
        const [i, l] = [await kube.rollout(ns, 'interest'), await kube.rollout(ns, 'loan')];
        return l.status!['stableRS'] === target('loan') && i.status!['blueGreen']['activeSelector'] === target('interest') && i.status!['stableRS'] === before.interest;
      }, { dump: g.dump });
      const guardName = `loans-${id}-post-1`;
      expect((await runsOfIn(ns, id)).map((r) => [r.metadata.name, r.status?.phase])).toEqual([[guardName, 'Running']]);
      await settleErrorRatio(0.5);

      const rolledBack = await g.waitGroup('rolled back by the guard', (x) => x.status?.release?.state === 'Aborted' && (x.status.release.rolledBack ?? []).length === 2, 180_000);
      expect(rolledBack.status!.release!.rolledBack).toEqual(['interest', 'loan']);
      expect(rolledBack.status!.release!.abortReason).toContain(`analysis ${guardName} Failed: metric error-ratio Failed`);
      expect(rolledBack.status!.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('ReleaseRolledBack');
      expectArgoHealth(liveGroup(g), 'degraded_analysisGuardRolledBack', 'Degraded', `analysis ${guardName} Failed: metric error-ratio Failed`, 'rolled back');
      await waitFor('both on their previous revisions', async () => {
        const [i, l] = [await kube.rollout(ns, 'interest'), await kube.rollout(ns, 'loan')];
        return i.status!['stableRS'] === before.interest && i.status!['blueGreen']['activeSelector'] === before.interest && l.status!['stableRS'] === before.loan && l.status!['blueGreen']['activeSelector'] === before.loan;
      }, { dump: g.dump });
      // Matched versions at every recorded state, the rollback included: interest, live but not yet
      // stable, is aborted (its preview keeps 2.0 for loan's pinned pods) and loan goes back after it.
      await recorder.caughtUp();
      expect(matchedVersionViolations(recorder, loanEdge)).toEqual([]);
      const failedAt = recorder.events.find((e) => e.kind === 'RolloutGroup' && ['RollingBack', 'Aborted'].includes(e.object.status?.release?.state))!.seq;
      expect(recorder.events.some((e) => e.seq < failedAt && e.kind === 'Rollout' && e.object.metadata.name === 'loan' && e.object.status?.stableRS === target('loan'))).toBe(true);
      const events = await waitFor('AnalysisFailed and ReleaseRolledBack events', async () => {
        const all = await kube.events(ns, 'loans');
        return ['AnalysisFailed', 'ReleaseRolledBack'].every((r) => all.some((e) => e.reason === r)) ? all : undefined;
      }, { dump: g.dump });
      expect(events.find((e) => e.reason === 'AnalysisFailed')?.message).toContain('metric error-ratio Failed');
    } finally {
      await recorder.stop();
      await settleErrorRatio(0.01);
    }
  }, 300_000);
});

describe('runs no release needs any more', () => {
  it('the run of a replaced release, then of an aborted one, is terminated; Argo stops it and nothing opens on it', async () => {
    await settleErrorRatio(0.01);
    const g = await Scenario.create('analysis-stop', 'loans', ['interest', 'loan']);
    cleanups.push(() => g.cleanup());
    const { kube, ns } = g;
    // Forty measurements two seconds apart: each run would measure for 80 s if nobody stopped it.
    await kube.apply(ns, template(prometheusUrl, 40));
    await kube.apply(ns, blueGreenApp('interest', '1.0'));
    await kube.apply(ns, blueGreenApp('loan', '1.0'));
    await kube.apply(ns, groupManifest('loans', [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }], analysis));
    g.startController();
    await g.waitSteady();
    const before = { interest: (await kube.rollout(ns, 'interest')).status!['stableRS'], loan: (await kube.rollout(ns, 'loan')).status!['stableRS'] };
    const runOf = async (id: string) => (await runsOfIn(ns, id))[0];
    // The release of both members at `version`: every target moved on from the release before (Argo
    // may show one member's change first, a release of its own with the other's old revision).
    const releaseOf = async (version: string, before: readonly { rollout: string; revision: string }[] = []) => {
      for (const m of g.members) await kube.setImage(ns, m, `ghcr.io/acme/${m}:${version}`);
      return g.waitGroup(`the release of ${version}`, (x) => x.status?.release?.targets.length === 2 && x.status.release.targets.every((t) => !before.some((b) => b.rollout === t.rollout && b.revision === t.revision)));
    };

    const firstRelease = (await releaseOf('2.0')).status!.release!;
    const first = firstRelease.id;
    await waitFor('the first release’s run measuring', async () => (await runOf(first))?.status?.phase === 'Running', { dump: g.dump });
    // Git moves both members on before the gate: a new release, and the first one's run is stopped.
    const second = (await releaseOf('3.0', firstRelease.targets)).status!.release!.id;
    const stopped = await waitFor('the replaced release’s run terminated and concluded by Argo', async () => {
      const r = await runOf(first);
      return r?.spec.terminate === true && r.status?.phase !== 'Running' && r.status?.phase !== 'Pending' ? r : undefined;
    }, { dump: g.dump });
    expect(stopped.metadata.annotations?.['tandem.dev/terminated']).toBe(`release ${first} was replaced`);
    // Argo's own verdict on a run told to stop: Successful, "Run Terminated".
    expect([stopped.status?.phase, stopped.status?.message]).toEqual(['Successful', 'Run Terminated']);
    await waitFor('the new release’s run measuring', async () => (await runOf(second))?.status?.phase === 'Running', { dump: g.dump });
    const gating = await kube.group(ns, 'loans');
    expect([gating.status?.release?.id, gating.status?.release?.state]).toEqual([second, 'Gating']);

    // A person aborts the new release while its run measures: that run is stopped too.
    await kube.annotateGroup(ns, 'loans', { 'tandem.dev/abort': 'not today' });
    await g.waitGroup('aborted by the request', (x) => x.status?.release?.id === second && x.status.release.state === 'Aborted');
    const aborted = await waitFor('the aborted release’s run terminated and concluded by Argo', async () => {
      const r = await runOf(second);
      return r?.spec.terminate === true && r.status?.phase === 'Successful' ? r : undefined;
    }, { dump: g.dump });
    expect(aborted.metadata.annotations?.['tandem.dev/terminated']).toBe(`release ${second} was aborted`);
    expect(aborted.status?.message).toBe('Run Terminated');
    // The terminated runs decided nothing: the release stays aborted, no member went live, one run each.
    const end = await kube.group(ns, 'loans');
    expect([end.status?.release?.state, end.status?.phase]).toEqual(['Aborted', 'Degraded']);
    for (const m of ['interest', 'loan'] as const) {
      const r = await kube.rollout(ns, m);
      expect([r.status!['stableRS'], r.status!['blueGreen']['activeSelector']]).toEqual([before[m], before[m]]);
    }
    expect((await runsOfIn(ns, first)).length).toBe(1);
    expect((await runsOfIn(ns, second)).length).toBe(1);
  }, 240_000);
});

describe('a run that does not conclude', () => {
  it('fails its release once past its own duration plus progressDeadlineSeconds, not before, and is terminated', async () => {
    // A verdict service that answers its first question and then hangs (Argo waits up to 30 s).
    const hanging = await verdictServer({ answers: 1 });
    cleanups.push(() => hanging.close());
    const g = await Scenario.create('analysis-stuck', 'loans', ['interest', 'loan']);
    cleanups.push(() => g.cleanup());
    const { kube, ns } = g;
    // Two measurements 5 s apart: 5 s of its own; the second one never answers.
    await kube.apply(ns, `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: hangs}
spec:
  metrics:
  - name: verdict
    interval: 5s
    count: 2
    successCondition: result == true
    provider:
      web:
        url: ${hanging.url}
        jsonPath: "{$.ok}"
        timeoutSeconds: 30
`);
    await kube.apply(ns, blueGreenApp('interest', '1.0'));
    await kube.apply(ns, blueGreenApp('loan', '1.0'));
    await kube.apply(ns, groupManifest('loans', [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }], `  progressDeadlineSeconds: 20
  analysis:
    prePromotion:
      templates: [{templateName: hangs}]
`));
    g.startController();
    await g.waitSteady();
    for (const m of g.members) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
    const started = await g.waitGroup('a release', (x) => x.status?.release?.targets.length === 2);
    const id = started.status!.release!.id;
    const aborted = await g.waitGroup('aborted: its run stuck', (x) => x.status?.release?.id === id && x.status.release.state === 'Aborted', 120_000);
    const name = `loans-${id}-pre-1`;
    expect(aborted.status!.release!.abortReason).toMatch(new RegExp(`^analysis ${name} still Running \\d+s after its creation: its metrics measure for 5s, and progressDeadlineSeconds \\(20s\\) have passed since$`));
    const [run] = await runsOfIn(ns, id);
    // Not before its bound: 5 s of its own and 20 s of deadline from its creation.
    const created = Date.parse((run!.metadata as { creationTimestamp?: string }).creationTimestamp!);
    expect(Date.parse(aborted.status!.release!.abortedAt!) - created).toBeGreaterThanOrEqual(25_000);
    expect(hanging.asked()).toBe(2);
    // No longer needed: terminated, Tandem's annotation saying why.
    const stopped = await waitFor('the stuck run terminated', async () => {
      const [r] = await runsOfIn(ns, id);
      return r?.spec.terminate === true ? r : undefined;
    }, { dump: g.dump });
    expect(stopped.metadata.annotations?.['tandem.dev/terminated']).toBe(`release ${id} was aborted`);
    await waitFor('a ReleaseAborted event naming the stuck run', async () => (await kube.events(ns, 'loans')).some((e) => e.reason === 'ReleaseAborted' && e.message.includes(`analysis ${name} still Running`)), { dump: g.dump });
  }, 180_000);
});

describe('group analysis at each canary barrier (Lockstep canary)', () => {
  it('one run across the members at the first barrier: nobody passes it until the run has succeeded', async () => {
    // The verdict service the run asks, recording which Services it was asked about.
    const verdicts = await verdictServer();
    cleanups.push(() => verdicts.close());
    const g = await Scenario.create('analysis-barrier', 'loans', ['interest', 'loan']);
    cleanups.push(() => g.cleanup());
    const { kube, ns } = g;
    // Three measurements 3 s apart after 3 s: the run takes about 9 s.
    await kube.apply(ns, `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: barrier-health}
spec:
  args: [{name: frontend}, {name: backend}]
  metrics:
  - name: canaries-ok
    initialDelay: 3s
    interval: 3s
    count: 3
    successCondition: result == true
    provider:
      web:
        url: "${verdicts.url}?services={{args.frontend}},{{args.backend}}"
        jsonPath: "{$.ok}"
`);
    await kube.apply(ns, canaryApp('interest', '1.0'));
    await kube.apply(ns, canaryApp('loan', '1.0'));
    await kube.apply(ns, groupManifest('loans', [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }], `  analysis:
    barrier:
      templates: [{templateName: barrier-health}]
      args:
      - {name: frontend, value: "{{members.loan.canaryService}}"}
      - {name: backend, value: "{{members.interest.canaryService}}"}
`));
    g.startController();
    await g.waitSteady();
    const recorder = await Recorder.start(kube, ns);
    try {
      for (const m of g.members) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      const analysing = await g.waitGroup('the barrier’s run created', (x) => x.status?.release?.targets.length === 2 && recordedRuns(x).length > 0);
      const id = analysing.status!.release!.id;
      const name = `loans-${id}-barrier-1`;
      expect(recordedRuns(analysing).map((a) => [a.name, a.point, a.stage])).toEqual([[name, 'barrier', 0]]);
      // A promote request made at once is kept until the run has succeeded.
      await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': `${id}/1` });
      const second = await g.waitGroup('Paused at barrier 2/2', (x) => x.status?.release?.id === id && x.status.phase === 'Paused' && x.status.message?.includes('(barrier 2/2)') === true, 120_000);
      expect(recordedRuns(second).find((a) => a.name === name)?.phase).toBe('Successful');
      const runs = await runsOfIn(ns, id);
      expect(runs.map((r) => [r.metadata.name, r.metadata.labels?.['tandem.dev/analysis-stage'], r.status?.phase])).toEqual([[name, 'barrier-1', 'Successful']]);
      expect(runs[0]!.spec.args).toEqual([
        { name: 'frontend', value: 'loan-canary' },
        { name: 'backend', value: 'interest-canary' },
      ]);
      expect(new Set(verdicts.queries().map((q) => q.get('services')))).toEqual(new Set(['loan-canary,interest-canary']));
      // Over the whole history: no member went past barrier 1 before the group recorded the success.
      await recorder.caughtUp();
      const succeededAt = recorder.events.find((e) => e.kind === 'RolloutGroup' && (e.object.status?.release?.analysisRuns ?? []).some((a: { name: string; phase: string }) => a.name === name && a.phase === 'Successful'))!.seq;
      const past = firstAtStep(recorder, 2);
      expect([...past.keys()].sort()).toEqual(['interest', 'loan']);
      for (const [m, seq] of past) expect(seq, `${m} past barrier 1 before its analysis succeeded`).toBeGreaterThan(succeededAt);
      // The last barrier is the cutover's gate (no prePromotion here): a promote completes the release.
      await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': `${id}/2` });
      await g.waitGroup('Healthy after the release', (x) => x.status?.phase === 'Healthy' && !x.status.release, 180_000);
      expect((await runsOfIn(ns, id)).length).toBe(1);
      await recorder.caughtUp();
      expect(matchedVersionViolations(recorder, loanEdge)).toEqual([]);
    } finally {
      await recorder.stop();
    }
  }, 240_000);
});

/** The member's active Service already selects its release revision. */
function activeSwitchesNow(r: { status?: Record<string, any> }, g: GroupObj, member: string): boolean {
  return r.status?.['blueGreen']?.['activeSelector'] === g.status!.release!.targets.find((t) => t.rollout === member)!.revision;
}

describe('validation on the real stack', () => {
  it('a missing template, one of the wrong kind and a missing arg are SpecValid=False, each followed as templates and spec change', async () => {
    const g = await Scenario.create('analysis-invalid', 'loans', ['interest', 'loan']);
    cleanups.push(() => g.cleanup());
    const { kube, ns } = g;
    const frontend = '      - {name: frontend, value: "{{members.loan.previewService}}"}\n';
    const backend = '      - {name: backend, value: "{{members.interest.previewService}}"}\n';
    const members = [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }];
    const applyGroup = (clusterScope: boolean, args: string) =>
      kube.apply(ns, groupManifest('loans', members, `  analysis:
    prePromotion:
      templates: [{templateName: release-health, clusterScope: ${clusterScope}}]
      args:
${args}`));
    await kube.apply(ns, blueGreenApp('interest', '1.0'));
    await kube.apply(ns, blueGreenApp('loan', '1.0'));
    await applyGroup(false, frontend);
    g.startController();
    const invalid = async (reason: string, message: string) => {
      const x = await g.waitGroup(`SpecValid=False ${reason}`, (y) => y.status?.conditions?.some((c) => c.type === 'SpecValid' && c.status === 'False' && c.reason === reason && (c as { observedGeneration?: number }).observedGeneration === (y.metadata as { generation?: number }).generation) === true);
      expect(x.status!.conditions!.find((c) => c.type === 'SpecValid')!.message).toBe(message);
      expect(x.status!.phase).toBe('Degraded');
      return message;
    };
    const where = 'spec.analysis.prePromotion';
    const messages = [await invalid('AnalysisTemplateNotFound', `${where}: AnalysisTemplate release-health not found in namespace ${ns}; create it or remove it from the group`)];
    // As a ClusterAnalysisTemplate: this controller watches one namespace and cannot read those, and says so.
    await applyGroup(true, frontend);
    messages.push(await invalid('AnalysisTemplateNotFound', `${where}: ClusterAnalysisTemplate release-health cannot be read by this controller, which watches namespace ${ns} only; use an AnalysisTemplate in that namespace (clusterScope: false)`));
    // The template appears in the namespace: the group naming it as the other kind is told which to set.
    await kube.apply(ns, template(prometheusUrl, 2));
    messages.push(await invalid('AnalysisTemplateKind', `${where}: release-health is an AnalysisTemplate in namespace ${ns}, not a ClusterAnalysisTemplate; remove clusterScope: true`));
    // The right kind, one of its two args missing.
    await applyGroup(false, frontend);
    messages.push(await invalid('AnalysisArgsMissing', `${where}: its templates need arg backend; give it in ${where}.args`));
    await waitFor('an InvalidSpec event naming each problem', async () => {
      const all = (await kube.events(ns, 'loans')).filter((e) => e.reason === 'InvalidSpec' && e.type === 'Warning').map((e) => e.message);
      return messages.every((m) => all.includes(m));
    }, { dump: g.dump });

    // Fixed: valid and steady, no release started.
    await applyGroup(false, frontend + backend);
    const steady = await g.waitSteady();
    expect(steady.status!.conditions!.find((c) => c.type === 'SpecValid')?.status).toBe('True');
    expect(steady.status!.release).toBeUndefined();
  }, 240_000);
});
