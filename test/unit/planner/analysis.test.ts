import { describe, expect, it } from 'vitest';
import { AnalysisRun, AnalysisTemplate } from '../../../src/api/analysis.ts';
import { REQUEST } from '../../../src/api/rolloutgroup.ts';
import { analysisRunName, goDurationMs, readRun, runDurationMs } from '../../../src/planner/analysis.ts';
import { plan } from '../../../src/planner/plan.ts';
import type { Action } from '../../../src/planner/plan-types.ts';
import { INTEREST_KEY, NS, blueGreen, canary, group, loanDependsOnInterest, loanInterestRelease, observed, url, type GroupInput, type StatusInput } from '../../fixtures/builders.ts';

const steadyLoan = {
  previewMetadata: { [INTEREST_KEY]: url('interest-preview') },
  activeMetadata: { [INTEREST_KEY]: url('interest-active') },
  owned: { previewMetadata: [INTEREST_KEY], activeMetadata: [INTEREST_KEY] },
};

const errorRatio = AnalysisTemplate.parse({
  kind: 'AnalysisTemplate',
  metadata: { name: 'error-ratio', namespace: NS },
  spec: {
    args: [{ name: 'frontend' }, { name: 'backend' }, { name: 'threshold', value: '0.05' }],
    metrics: [{ name: 'error-ratio', interval: '10s', count: 3, successCondition: 'result[0] < {{args.threshold}}', provider: { prometheus: { address: 'http://127.0.0.1:9090', query: 'q' } } }],
  },
});
const latency = AnalysisTemplate.parse({
  kind: 'ClusterAnalysisTemplate',
  metadata: { name: 'latency' },
  spec: { args: [{ name: 'frontend' }], metrics: [{ name: 'p99-latency', successCondition: 'result[0] < 0.3', provider: { prometheus: { query: 'q2' } } }] },
});
const templates = new Map([
  ['namespaced/error-ratio', errorRatio],
  ['cluster/latency', latency],
]);

const analysis = {
  prePromotion: {
    templates: [{ templateName: 'error-ratio' }, { templateName: 'latency', clusterScope: true }],
    args: [
      { name: 'frontend', value: '{{members.loan.previewService}}' },
      { name: 'backend', value: '{{members.interest.previewService}}.{{namespace}}@{{members.interest.revision}}/{{release.id}}' },
    ],
  },
};
const RUN = analysisRunName('loans', { id: loanInterestRelease }, 'prePromotion', 0);

const run = (phase: string | undefined, metricResults: unknown[] = [], name = RUN) =>
  AnalysisRun.parse({ metadata: { name, namespace: NS, labels: { 'tandem.dev/group': 'loans' } }, ...(phase ? { status: { phase, metricResults } } : {}) });

/** loan depends on interest; both at revision 2, ready at the gate. */
function planWith(g: Partial<GroupInput>, extra: { runs?: AnalysisRun[]; templates?: typeof templates; interest?: object; loan?: object; now?: number; clusterTemplatesUnreadable?: boolean } = {}) {
  const grp = group({ members: loanDependsOnInterest, analysis, ...g });
  return plan({
    ...observed(grp, [blueGreen({ name: 'interest', stable: 'i1', desired: 'i2', ...extra.interest }), blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...steadyLoan, ...extra.loan })], {
      analysisRuns: new Map((extra.runs ?? []).map((r) => [r.metadata.name, r])),
      analysisTemplates: extra.templates ?? templates,
      ...(extra.now !== undefined ? { now: extra.now } : {}),
    }),
    ...(extra.clusterTemplatesUnreadable ? { clusterTemplatesUnreadable: true } : {}),
  });
}

/** The release as the first step leaves it: ready, its analysis created. */
function gating(extra: Record<string, unknown> = {}): StatusInput {
  const first = planWith({});
  return { ...first.status!, release: { ...first.status!.release!, ...extra } } as StatusInput;
}

const kinds = (actions: readonly Action[]) => actions.map((a) => a.kind);

const T0 = Date.parse('2026-01-01T00:00:00Z');
/** A run of this release created at `createdAt`, with the timing of its metrics. */
const timedRun = (phase: string | undefined, createdAt: number, metrics: Record<string, unknown>[], args: { name: string; value: string }[] = []) =>
  AnalysisRun.parse({
    metadata: { name: RUN, namespace: NS, labels: { 'tandem.dev/group': 'loans', 'tandem.dev/release': loanInterestRelease }, creationTimestamp: new Date(createdAt).toISOString() },
    spec: { metrics, args },
    ...(phase ? { status: { phase } } : {}),
  });

describe('group analysis: validation', () => {
  const problem = (g: Partial<GroupInput>, t = templates) => {
    const p = planWith(g, { templates: t });
    const specValid = p.status!.conditions.find((c) => c.type === 'SpecValid')!;
    expect(p.actions.filter((a) => a.kind !== 'AddFinalizer')).toEqual([]);
    return specValid;
  };

  it('reports a template that does not exist', () => {
    const c = problem({}, new Map([['cluster/latency', latency]]));
    expect([c.status, c.reason]).toEqual(['False', 'AnalysisTemplateNotFound']);
    expect(c.message).toContain('AnalysisTemplate error-ratio not found in namespace shop');
  });

  it('says a controller watching one namespace cannot read ClusterAnalysisTemplates, rather than that one is missing', () => {
    const p = planWith({}, { templates: new Map([['namespaced/error-ratio', errorRatio]]), clusterTemplatesUnreadable: true });
    const c = p.status!.conditions.find((x) => x.type === 'SpecValid')!;
    expect([c.status, c.reason]).toEqual(['False', 'AnalysisTemplateNotFound']);
    expect(c.message).toBe('spec.analysis.prePromotion: ClusterAnalysisTemplate latency cannot be read by this controller, which watches namespace shop only; use an AnalysisTemplate in that namespace (clusterScope: false)');
  });

  it('reports a template of the other kind, saying what to change', () => {
    const c = problem({}, new Map([['namespaced/error-ratio', errorRatio], ['namespaced/latency', latency]]));
    expect([c.status, c.reason]).toEqual(['False', 'AnalysisTemplateKind']);
    expect(c.message).toContain('latency is an AnalysisTemplate in namespace shop, not a ClusterAnalysisTemplate; remove clusterScope: true');
  });

  it('reports args the templates need and the group does not give', () => {
    const c = problem({ analysis: { prePromotion: { ...analysis.prePromotion, args: [analysis.prePromotion.args[0]] } } });
    expect([c.status, c.reason]).toEqual(['False', 'AnalysisArgsMissing']);
    expect(c.message).toContain('its templates need arg backend');
  });

  it('reports unknown placeholders, members and args no template declares', () => {
    const c = problem({
      analysis: {
        prePromotion: {
          ...analysis.prePromotion,
          args: [...analysis.prePromotion.args, { name: 'treshold', value: '1' }, { name: 'threshold', value: '{{members.nobody.previewService}} {{members.loan.podIP}} {{bogus}}' }],
        },
      },
    });
    expect([c.status, c.reason]).toEqual(['False', 'AnalysisMisconfigured']);
    expect(c.message).toContain('arg treshold is declared by none of its templates');
    expect(c.message).toContain('nobody is not a member of the group');
    expect(c.message).toContain('unknown field podIP');
    expect(c.message).toContain('{{bogus}}: unknown placeholder');
  });

  it('reports two templates defining the same metric', () => {
    const twin = AnalysisTemplate.parse({ ...latency, metadata: { name: 'latency' }, spec: { ...latency.spec, metrics: [{ name: 'error-ratio' }] } });
    const c = problem({}, new Map([['namespaced/error-ratio', errorRatio], ['cluster/latency', twin]]));
    expect(c.message).toContain('metric error-ratio is defined by both error-ratio and latency');
  });

  it('accepts a valid analysis', () => {
    const p = planWith({});
    expect(p.status!.conditions.find((c) => c.type === 'SpecValid')!.status).toBe('True');
  });
});

describe('group analysis before the gate', () => {
  it('creates one AnalysisRun once every member is ready, with the release filled into its args', () => {
    const p = planWith({});
    const creates = p.actions.filter((a) => a.kind === 'CreateAnalysisRun');
    expect(creates).toEqual([
      {
        kind: 'CreateAnalysisRun',
        name: RUN,
        labels: { 'tandem.dev/group': 'loans', 'tandem.dev/release': loanInterestRelease, 'tandem.dev/analysis-stage': 'prePromotion-1' },
        spec: {
          metrics: [...errorRatio.spec.metrics, ...latency.spec.metrics],
          args: [
            { name: 'frontend', value: 'loan-preview' },
            { name: 'backend', value: `interest-preview.shop@i2/${loanInterestRelease}` },
            { name: 'threshold', value: '0.05' },
          ],
        },
      },
    ]);
    expect(kinds(p.actions)).not.toContain('Promote');
    expect(p.status?.phase).toBe('Progressing');
    expect(p.status?.conditions[0]?.reason).toBe('Analyzing');
    expect(p.status?.release?.state).toBe('Gating');
    expect(p.status?.release?.analysisRuns).toEqual([{ name: RUN, point: 'prePromotion', stage: 0, phase: 'Pending' }]);
    expect(p.events.map((e) => e.reason)).toEqual(['ReleaseStarted', 'ReleaseReady', 'AnalysisStarted']);
  });

  it('creates nothing while a member is not ready', () => {
    const p = planWith({}, { interest: { previewAvailable: false } });
    expect(kinds(p.actions)).not.toContain('CreateAnalysisRun');
  });

  it('creates nothing for a paused or an invalid group', () => {
    expect(kinds(planWith({ paused: true }).actions)).toEqual([]);
    expect(kinds(planWith({}, { templates: new Map() }).actions)).toEqual([]);
  });

  it('finds its run again after a restart: no second one, the gate stays shut while it runs', () => {
    // The status write after the create was lost: the run exists, the release does not know it.
    const lost = planWith({ annotations: { [REQUEST.promote]: loanInterestRelease } }, { runs: [run('Running')] });
    expect(kinds(lost.actions)).toEqual([]);
    expect(lost.status?.release?.state).toBe('Gating');
    expect(lost.status?.message).toContain(`analysis ${RUN} running`);
    // The promote request is kept for when the analysis has succeeded.
    expect(lost.handledRequests).toEqual([]);
    // Its creation was never announced (the status write that carried the event was lost): now it is.
    expect(lost.events.map((e) => e.reason)).toContain('AnalysisStarted');
  });

  it('plans the same run again while the cache has yet to show it (the gateway leaves an existing one)', () => {
    const p = planWith({ status: gating() });
    expect(p.actions.filter((a) => a.kind === 'CreateAnalysisRun').map((a) => (a as { name: string }).name)).toEqual([RUN]);
    expect(p.events.map((e) => e.reason)).not.toContain('AnalysisStarted');
  });

  it('ignores the run of another release', () => {
    const other = run('Successful', [], analysisRunName('loans', { id: 'ffffff' }, 'prePromotion', 0));
    const p = planWith({ status: gating(), annotations: { [REQUEST.promote]: loanInterestRelease } }, { runs: [other] });
    expect(kinds(p.actions)).toEqual(['CreateAnalysisRun']);
  });

  it('opens the gate on a promote request once the analysis succeeded', () => {
    const p = planWith({ status: gating(), annotations: { [REQUEST.promote]: loanInterestRelease } }, { runs: [run('Successful')] });
    expect(p.status?.release?.state).toBe('CuttingOver');
    expect(p.status?.release?.analysisRuns).toEqual([{ name: RUN, point: 'prePromotion', stage: 0, phase: 'Successful' }]);
    expect(p.events.map((e) => e.reason)).toEqual(['AnalysisSucceeded', 'PromotionStarted']);
    expect(planWith({ status: gating() }, { runs: [run('Running')] }).events).toEqual([]);
    expect(kinds(p.actions)).not.toContain('CreateAnalysisRun');
  });

  it('records the measurements that decided a success too: every metric with its last value, in the status and the event', () => {
    const passed = run('Successful', [
      { name: 'error-ratio', phase: 'Successful', measurements: [{ value: '[0.01]', phase: 'Successful' }] },
      { name: 'p99-latency', phase: 'Successful', measurements: [{ value: '[0.05]', phase: 'Successful' }] },
    ]);
    const p = planWith({ status: gating() }, { runs: [passed] });
    const decided = 'metric error-ratio Successful (last value [0.01]); metric p99-latency Successful (last value [0.05])';
    expect(p.status?.release?.analysisRuns).toEqual([{ name: RUN, point: 'prePromotion', stage: 0, phase: 'Successful', message: decided }]);
    expect(p.events.find((e) => e.reason === 'AnalysisSucceeded')?.message).toBe(`release ${loanInterestRelease}: analysis ${RUN} succeeded (${decided})`);
  });

  it('waits for a promote request after success when promotion is manual', () => {
    const p = planWith({ status: gating() }, { runs: [run('Successful')] });
    expect(p.status?.release?.state).toBe('Gating');
    expect(p.status?.conditions[0]?.reason).toBe('AwaitingPromotion');
    // The message (kubectl get, Argo CD's health, the dashboard) names the run that let the gate be ready.
    expect(p.status?.message).toBe(`release ${loanInterestRelease} ready: 2/2 members; waiting for promote; analysis ${RUN} successful`);
    expect(p.status?.conditions[0]?.message).toBe(p.status?.message);
  });

  it('opens by itself after success with auto promotion, never before', () => {
    expect(planWith({ auto: true, status: gating() }, { runs: [run('Running')] }).status?.release?.state).toBe('Gating');
    expect(planWith({ auto: true, status: gating() }, { runs: [run('Successful')] }).status?.release?.state).toBe('CuttingOver');
  });

  it('aborts the release on a failed analysis, naming the failing metric in the status and events', () => {
    const failed = run('Failed', [
      { name: 'error-ratio', phase: 'Failed', measurements: [{ value: '[0.31]', phase: 'Failed' }] },
      { name: 'p99-latency', phase: 'Successful', measurements: [{ value: '[0.1]' }] },
    ]);
    const p = planWith({ status: gating(), annotations: { [REQUEST.promote]: loanInterestRelease } }, { runs: [failed] });
    const r = p.status?.release;
    expect(r?.state).toBe('Aborted');
    expect(r?.abortReason).toBe(`analysis ${RUN} Failed: metric error-ratio Failed (last value [0.31])`);
    expect(r?.analysisRuns?.[0]).toMatchObject({ phase: 'Failed', message: 'metric error-ratio Failed (last value [0.31])' });
    expect(p.status?.phase).toBe('Degraded');
    expect(p.actions.filter((a) => a.kind === 'Abort').map((a) => (a as { rollout: string }).rollout).sort()).toEqual(['interest', 'loan']);
    expect(kinds(p.actions)).not.toContain('Promote');
    const warnings = p.events.filter((e) => e.type === 'Warning');
    // The promote request made meanwhile is refused: the release it names was aborted.
    expect(warnings.map((e) => e.reason)).toEqual(['AnalysisFailed', 'ReleaseAborted', 'PromoteRefused']);
    for (const w of warnings.slice(0, 2)) expect(w.message).toContain('metric error-ratio Failed');
    // One phrasing of the failure: the event says what abortReason says, for its release.
    expect(warnings[0]?.message).toBe(`release ${loanInterestRelease}: ${r?.abortReason}`);
  });

  it('aborts on an analysis Error too', () => {
    const p = planWith({ status: gating() }, { runs: [run('Error', [{ name: 'p99-latency', phase: 'Error', message: 'connection refused' }])] });
    expect(p.status?.release?.abortReason).toContain('metric p99-latency Error: connection refused');
  });

  it('waits for a person on an inconclusive analysis: auto does not open the gate, a promote does, an abort aborts', () => {
    const inconclusive = run('Inconclusive', [{ name: 'error-ratio', phase: 'Inconclusive', measurements: [{ value: '[0.04]' }] }]);
    const waiting = planWith({ auto: true, status: gating() }, { runs: [inconclusive] });
    expect(waiting.status?.release?.state).toBe('Gating');
    expect([waiting.status?.phase, waiting.status?.conditions[0]?.reason]).toEqual(['Paused', 'WaitingForPerson']);
    expect(waiting.status?.message).toContain(`analysis ${RUN} inconclusive (metric error-ratio Inconclusive (last value [0.04]))`);
    expect(waiting.events.map((e) => e.reason)).toEqual(['AnalysisInconclusive']);

    const promoted = planWith({ status: gating(), annotations: { [REQUEST.promote]: loanInterestRelease } }, { runs: [inconclusive] });
    expect(promoted.status?.release?.state).toBe('CuttingOver');
    expect(promoted.status?.release?.openedBy).toBe('promote request');

    const aborted = planWith({ status: gating(), annotations: { [REQUEST.abort]: 'numbers look odd' } }, { runs: [inconclusive] });
    expect(aborted.status?.release?.state).toBe('Aborted');
    expect(aborted.status?.release?.abortReason).toBe('abort requested: numbers look odd');
  });

  it('has no analysis for a group without spec.analysis', () => {
    const p = planWith({ analysis: undefined }, { templates: new Map() });
    expect(kinds(p.actions)).not.toContain('CreateAnalysisRun');
    expect(p.status?.conditions[0]?.reason).toBe('AwaitingPromotion');
  });
});

describe('reading an AnalysisRun', () => {
  it('is Pending before Argo has written a phase', () => {
    expect(readRun(run(undefined))).toEqual({ phase: 'Pending', message: undefined });
  });

  it('falls back to the run message when no metric says why', () => {
    const r = AnalysisRun.parse({ metadata: { name: 'x', namespace: NS }, status: { phase: 'Error', message: 'template not valid' } });
    expect(readRun(r)).toEqual({ phase: 'Error', message: 'template not valid' });
  });

  it('keeps run names within 253 characters for long group names', () => {
    const name = analysisRunName('g'.repeat(253), { id: 'abcdef', retries: 2 }, 'prePromotion', 0);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name.endsWith('-abcdef-pre-1-r2')).toBe(true);
  });
});

describe('group analysis after the gate (postPromotion)', () => {
  const guard = AnalysisTemplate.parse({ kind: 'AnalysisTemplate', metadata: { name: 'guard', namespace: NS }, spec: { metrics: [{ name: 'error-ratio', interval: '10s', count: 6 }] } });
  const post = { postPromotion: { templates: [{ templateName: 'guard' }] } };
  const withGuard = new Map([['namespaced/guard', guard]]);
  const POST = analysisRunName('loans', { id: loanInterestRelease }, 'postPromotion', 0);
  const iso = new Date(Date.parse('2026-01-01T00:00:00Z')).toISOString();
  const cuttingOver = (promotedMembers: string[], extra: Record<string, unknown> = {}): StatusInput => ({
    phase: 'Promoting',
    members: [],
    conditions: [],
    release: {
      state: 'CuttingOver',
      id: loanInterestRelease,
      targets: [
        { rollout: 'interest', revision: 'i2', from: 'i1' },
        { rollout: 'loan', revision: 'l2', from: 'l1' },
      ],
      startedAt: iso,
      readyAt: iso,
      promotedAt: iso,
      openedBy: 'promote request',
      promotedMembers,
      pinned: ['loan@l2'],
      analysisRuns: [{ name: POST, point: 'postPromotion', stage: 0, phase: 'Running' }],
      ...extra,
    },
  });
  /** loan and interest in a cutover: live ones promoted to revision 2, the old ReplicaSets still up. */
  function cut(status: StatusInput | undefined, live: { loan: boolean; interest: boolean }, runs: AnalysisRun[], annotations: Record<string, string> = {}, now?: number) {
    const loan = live.loan ? blueGreen({ name: 'loan', stable: 'l2', ...steadyLoan }) : blueGreen({ name: 'loan', stable: 'l1', desired: 'l2', ...steadyLoan });
    const interest = live.interest ? blueGreen({ name: 'interest', stable: 'i2' }) : blueGreen({ name: 'interest', stable: 'i1', desired: 'i2' });
    const old = [blueGreen({ name: 'loan', stable: 'l1', desired: 'l2' }), blueGreen({ name: 'interest', stable: 'i1', desired: 'i2' })].flatMap((m) => m.replicaSets);
    const replicaSets = [...loan.replicaSets, ...interest.replicaSets];
    for (const rs of old) if (!replicaSets.some((x) => x.metadata.name === rs.metadata.name)) replicaSets.push(rs);
    const grp = group({ members: loanDependsOnInterest, analysis: post, annotations, ...(status ? { status } : {}) });
    const o = observed(grp, [interest, loan], { analysisRuns: new Map(runs.map((r) => [r.metadata.name, r])), analysisTemplates: withGuard, ...(now !== undefined ? { now } : {}) });
    return plan({ ...o, replicaSets });
  }

  it('is created with the cutover: the gate opens and the guard starts in one step', () => {
    const p = planWith({ analysis: post, annotations: { [REQUEST.promote]: loanInterestRelease } }, { templates: withGuard });
    expect(p.status?.release?.state).toBe('CuttingOver');
    expect(p.actions.filter((a) => a.kind === 'CreateAnalysisRun').map((a) => (a as { name: string; labels: Record<string, string> }).labels['tandem.dev/analysis-stage'])).toEqual(['postPromotion-1']);
    expect(p.status?.release?.analysisRuns).toEqual([{ name: POST, point: 'postPromotion', stage: 0, phase: 'Pending' }]);
  });

  it('keeps a release whose members are all promoted in flight until its guard has succeeded', () => {
    // Pins gone already (the previous pods are down): only the guard holds the release.
    const done = cuttingOver(['loan', 'interest'], { pinned: undefined });
    const running = cut(done, { loan: true, interest: true }, [run('Running', [], POST)]);
    expect(running.status?.release?.state).toBe('CuttingOver');
    expect(running.status?.message).toContain(`analysis ${POST} running, the release completes once it has succeeded`);
    expect(running.events.map((e) => e.reason)).not.toContain('ReleaseCompleted');
    const passed = cut(done, { loan: true, interest: true }, [run('Successful', [], POST)]);
    expect(passed.status?.release).toBeUndefined();
    expect(passed.events.map((e) => e.reason)).toEqual(['AnalysisSucceeded', 'ReleaseCompleted']);
  });

  it('rolls every live member back when it fails after a partial cutover, naming the metric', () => {
    const failed = run('Failed', [{ name: 'error-ratio', phase: 'Failed', measurements: [{ value: '[0.4]' }] }], POST);
    const p = cut(cuttingOver(['loan']), { loan: true, interest: false }, [failed]);
    const r = p.status?.release;
    expect(r?.state).toBe('RollingBack');
    expect(r?.abortReason).toBe(`analysis ${POST} Failed: metric error-ratio Failed (last value [0.4])`);
    expect(r?.rolledBack).toEqual(['loan']);
    expect(p.actions.filter((a) => a.kind === 'Abort').map((a) => (a as { rollout: string }).rollout)).toEqual(['interest']);
    expect(p.actions.map((a) => a.kind)).not.toContain('Promote');
    expect(p.events.map((e) => e.reason)).toEqual(['AnalysisFailed', 'ReleaseAborted', 'ReleaseRolledBack']);
  });

  it('rolls back every member when it fails after the whole cutover', () => {
    const failed = run('Error', [{ name: 'error-ratio', phase: 'Error', message: 'no data' }], POST);
    const p = cut(cuttingOver(['loan', 'interest']), { loan: true, interest: true }, [failed]);
    expect(p.status?.release?.state).toBe('RollingBack');
    expect(p.status?.release?.rolledBack).toEqual(['interest', 'loan']);
  });

  it('waits for a person when inconclusive after the cutover: a promote lets the release complete', () => {
    const inconclusive = run('Inconclusive', [{ name: 'error-ratio', phase: 'Inconclusive' }], POST);
    const waiting = cut(cuttingOver(['loan', 'interest'], { pinned: undefined }), { loan: true, interest: true }, [inconclusive]);
    expect([waiting.status?.phase, waiting.status?.conditions[0]?.reason]).toEqual(['Paused', 'WaitingForPerson']);
    expect(waiting.status?.message).toContain('to complete the release, or abort it to roll every member back');
    const promoted = cut(waiting.status as StatusInput, { loan: true, interest: true }, [inconclusive], { [REQUEST.promote]: loanInterestRelease });
    expect(promoted.status?.release).toBeUndefined();
    expect(promoted.handledRequests).toEqual([{ annotation: REQUEST.promote, value: loanInterestRelease }]);
    const aborted = cut(waiting.status as StatusInput, { loan: true, interest: true }, [inconclusive], { [REQUEST.abort]: 'no' });
    expect(aborted.status?.release?.state).toBe('RollingBack');
  });

  it('a guard measuring for its own long duration holds the release; stuck past it plus the deadline, it rolls the release back', () => {
    // Sixty measurements a minute apart: an hour, far beyond progressDeadlineSeconds (900 s).
    const long = (phase: string) => AnalysisRun.parse({ ...timedRun(phase, T0, [{ name: 'error-ratio', interval: '1m', count: 61 }]), metadata: { ...timedRun(phase, T0, []).metadata, name: POST } });
    const done = cuttingOver(['loan', 'interest'], { pinned: undefined });
    const within = cut(done, { loan: true, interest: true }, [long('Running')], {}, T0 + 3600_000 + 899_000);
    expect(within.status?.release?.state).toBe('CuttingOver');
    const stuck = cut(done, { loan: true, interest: true }, [long('Running')], {}, T0 + 3600_000 + 900_000);
    expect(stuck.status?.release?.state).toBe('RollingBack');
    expect(stuck.status?.release?.abortReason).toBe(`analysis ${POST} still Running 4500s after its creation: its metrics measure for 3600s, and progressDeadlineSeconds (900s) have passed since`);
  });

  it('refuses a guard that would never end', () => {
    const endless = AnalysisTemplate.parse({ metadata: { name: 'guard', namespace: NS }, spec: { metrics: [{ name: 'error-ratio', interval: '10s' }] } });
    const p = planWith({ analysis: post }, { templates: new Map([['namespaced/guard', endless]]) });
    const c = p.status!.conditions.find((x) => x.type === 'SpecValid')!;
    expect([c.status, c.reason]).toEqual(['False', 'AnalysisMisconfigured']);
    expect(c.message).toContain('metric error-ratio has an interval but no count');
  });
});

describe('runs no release needs any more are terminated', () => {
  const terminating = (actions: readonly Action[]) => actions.filter((a) => a.kind === 'TerminateAnalysisRun');
  const OLD = analysisRunName('loans', { id: 'ffffff' }, 'prePromotion', 0);
  const terminatedRun = (phase: string, by: 'tandem' | 'person', name = RUN) =>
    AnalysisRun.parse({
      metadata: { name, namespace: NS, labels: { 'tandem.dev/group': 'loans', 'tandem.dev/release': loanInterestRelease }, ...(by === 'tandem' ? { annotations: { 'tandem.dev/terminated': 'release ffffff was replaced' } } : {}) },
      spec: { terminate: true },
      status: { phase, message: 'Run Terminated' },
    });
  const running = (name: string, release: string) => AnalysisRun.parse({ metadata: { name, namespace: NS, labels: { 'tandem.dev/group': 'loans', 'tandem.dev/release': release } }, status: { phase: 'Running' } });

  it('terminates a run of a replaced release, once the release that replaced it is persisted', () => {
    const p = planWith({ status: gating() }, { runs: [running(RUN, loanInterestRelease), running(OLD, 'ffffff')] });
    expect(terminating(p.actions)).toEqual([{ kind: 'TerminateAnalysisRun', name: OLD, reason: 'release ffffff was replaced' }]);
    // Its own run, which its gate waits for, is left to run; nothing else is written.
    expect(kinds(p.actions)).toEqual(['TerminateAnalysisRun']);
  });

  it('leaves concluded runs and runs already told to stop alone', () => {
    const concluded = AnalysisRun.parse({ ...running(OLD, 'ffffff'), status: { phase: 'Failed' } });
    expect(terminating(planWith({ status: gating() }, { runs: [running(RUN, loanInterestRelease), concluded] }).actions)).toEqual([]);
    const stopping = AnalysisRun.parse({ ...running(OLD, 'ffffff'), spec: { terminate: true } });
    expect(terminating(planWith({ status: gating() }, { runs: [running(RUN, loanInterestRelease), stopping] }).actions)).toEqual([]);
  });

  it('keeps the run of the release persisted in the step that replaces it (a crash there resumes that release)', () => {
    // The persisted release waits for RUN; interest moves on to i3 before the gate: a new release.
    const p = planWith({ status: gating() }, { runs: [running(RUN, loanInterestRelease)], interest: { desired: 'i3' } });
    expect(p.status?.release?.id).not.toBe(loanInterestRelease);
    expect(terminating(p.actions)).toEqual([]);
    // Once that new release is persisted, the old one's run is stopped.
    const next = planWith({ status: p.status as StatusInput }, { runs: [running(RUN, loanInterestRelease)], interest: { desired: 'i3' } });
    expect(terminating(next.actions)).toEqual([{ kind: 'TerminateAnalysisRun', name: RUN, reason: `release ${loanInterestRelease} was replaced` }]);
  });

  it('terminates the run of an aborted release once the abort is persisted', () => {
    const aborting = planWith({ status: gating(), annotations: { [REQUEST.abort]: 'not today' } }, { runs: [running(RUN, loanInterestRelease)] });
    expect(aborting.status?.release?.state).toBe('Aborted');
    expect(terminating(aborting.actions)).toEqual([]);
    const aborted = planWith({ status: aborting.status as StatusInput }, { runs: [running(RUN, loanInterestRelease)] });
    expect(terminating(aborted.actions)).toEqual([{ kind: 'TerminateAnalysisRun', name: RUN, reason: `release ${loanInterestRelease} was aborted` }]);
  });

  it('changes nothing for a paused or an invalid group', () => {
    expect(kinds(planWith({ paused: true, status: gating() }, { runs: [running(OLD, 'ffffff')] }).actions)).toEqual([]);
    expect(kinds(planWith({ status: gating() }, { runs: [running(OLD, 'ffffff')], templates: new Map() }).actions)).toEqual([]);
  });

  it('never takes a run Tandem terminated for a verdict: Argo calls it Successful', () => {
    // A release with the same revisions (the same id) as one that was replaced finds that one's run.
    const p = planWith({ status: gating(), annotations: { [REQUEST.promote]: loanInterestRelease } }, { runs: [terminatedRun('Successful', 'tandem')] });
    expect(p.status?.release?.state).toBe('Aborted');
    expect(p.status?.release?.abortReason).toContain(`analysis ${RUN} Error: terminated by Tandem before it concluded (release ffffff was replaced)`);
    expect(kinds(p.actions)).not.toContain('Promote');
  });

  it('takes a run a person terminated as Argo does: by its phase', () => {
    const p = planWith({ status: gating(), annotations: { [REQUEST.promote]: loanInterestRelease } }, { runs: [terminatedRun('Successful', 'person')] });
    expect(p.status?.release?.state).toBe('CuttingOver');
  });
});

describe('the deadline of a run that does not conclude', () => {
  it('reads Go durations as Argo does', () => {
    expect(['0', '30s', '1m30s', '500ms', '1.5h', '2h3m4s', '10us'].map(goDurationMs)).toEqual([0, 30_000, 90_000, 500, 5_400_000, 7_384_000, 0.01]);
    expect(['', '30', 's', '1d', '1m 30s', '-5s'].map(goDurationMs)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('measures a run by its metrics: initialDelay, then count measurements an interval apart', () => {
    const at = (metrics: Record<string, unknown>[], args: { name: string; value: string }[] = []) => runDurationMs(timedRun('Running', T0, metrics, args));
    expect(at([{ name: 'a', initialDelay: '30s', interval: '30s', count: 4 }, { name: 'b', interval: '10s', count: 3 }])).toBe(120_000);
    expect(at([{ name: 'once' }])).toBe(0);
    expect(at([{ name: 'n', interval: '1m', count: '{{args.n}}' }], [{ name: 'n', value: '5' }])).toBe(240_000);
    // Measured until stopped, or a count Tandem cannot read: no duration.
    expect(at([{ name: 'endless', interval: '1m' }])).toBeUndefined();
    expect(at([{ name: 'n', interval: '1m', count: '{{args.missing}}' }])).toBeUndefined();
  });

  // error-ratio in the templates above: 3 measurements 10 s apart, so 20 s of its own; the deadline 900 s.
  const metrics = [{ name: 'error-ratio', interval: '10s', count: 3 }];

  it('a Running run within its duration plus the deadline keeps the gate shut, however long the release has waited', () => {
    const p = planWith({ status: gating({ progressAt: new Date(T0 - 3600_000).toISOString() }) }, { runs: [timedRun('Running', T0, metrics)], now: T0 + 919_000 });
    expect(p.status?.release?.state).toBe('Gating');
    expect(p.status?.conditions[0]?.reason).toBe('Analyzing');
  });

  it('a run Running past it aborts the release, saying so', () => {
    const p = planWith({ status: gating() }, { runs: [timedRun('Running', T0, metrics)], now: T0 + 920_000 });
    expect(p.status?.release?.state).toBe('Aborted');
    expect(p.status?.release?.abortReason).toBe(`analysis ${RUN} still Running 920s after its creation: its metrics measure for 20s, and progressDeadlineSeconds (900s) have passed since`);
    expect(p.actions.filter((a) => a.kind === 'Abort').length).toBe(2);
  });

  it('a run Argo never starts counts against the deadline alone', () => {
    expect(planWith({ status: gating() }, { runs: [timedRun(undefined, T0, metrics)], now: T0 + 899_000 }).status?.release?.state).toBe('Gating');
    const p = planWith({ status: gating() }, { runs: [timedRun(undefined, T0, metrics)], now: T0 + 900_000 });
    expect(p.status?.release?.abortReason).toBe(`analysis ${RUN} not started by Argo Rollouts within progressDeadlineSeconds (900s) of its creation; is the Argo Rollouts controller running?`);
  });

  it('an inconclusive run waits for a person, with no deadline', () => {
    const p = planWith({ status: gating() }, { runs: [timedRun('Inconclusive', T0, metrics)], now: T0 + 30 * 86_400_000 });
    expect([p.status?.release?.state, p.status?.conditions[0]?.reason]).toEqual(['Gating', 'WaitingForPerson']);
  });

  it('refuses a pre-promotion metric that would never end', () => {
    const endless = AnalysisTemplate.parse({ ...errorRatio, spec: { ...errorRatio.spec, metrics: [{ name: 'error-ratio', interval: '10s' }] } });
    const c = planWith({}, { templates: new Map([['namespaced/error-ratio', endless], ['cluster/latency', latency]]) }).status!.conditions.find((x) => x.type === 'SpecValid')!;
    expect([c.status, c.reason]).toEqual(['False', 'AnalysisMisconfigured']);
    expect(c.message).toContain('so the run would never end and the gate never open');
  });
});

describe('group analysis at each canary barrier (Lockstep canary)', () => {
  const barrier = { barrier: { templates: [{ templateName: 'error-ratio' }, { templateName: 'latency', clusterScope: true }], args: analysis.prePromotion.args } };
  const BARRIER = analysisRunName('loans', { id: loanInterestRelease }, 'barrier', 0);
  const wiredLoan = {
    canaryMetadata: { [INTEREST_KEY]: url('interest-canary') },
    stableMetadata: { [INTEREST_KEY]: url('interest-stable') },
    owned: { canaryMetadata: [INTEREST_KEY], stableMetadata: [INTEREST_KEY] },
  };
  const atBarrier = (g: Partial<GroupInput>, runs: AnalysisRun[] = [], at = 0, barriers = 2) =>
    plan(
      observed(group({ members: loanDependsOnInterest, analysis: barrier, ...g }), [canary({ name: 'interest', stable: 'i1', desired: 'i2', atBarrier: at, barriers }), canary({ name: 'loan', stable: 'l1', desired: 'l2', atBarrier: at, barriers, ...wiredLoan })], {
        analysisRuns: new Map(runs.map((r) => [r.metadata.name, r])),
        analysisTemplates: templates,
      }),
    );
  const barrierRun = (phase: string | undefined, metricResults: unknown[] = []) => run(phase, metricResults, BARRIER);

  it('creates one run across the members once all are paused at the first barrier, the canary Services in its args', () => {
    const p = atBarrier({});
    const creates = p.actions.filter((a) => a.kind === 'CreateAnalysisRun') as Extract<Action, { kind: 'CreateAnalysisRun' }>[];
    expect(creates.map((a) => [a.name, a.labels['tandem.dev/analysis-stage']])).toEqual([[BARRIER, 'barrier-1']]);
    expect(creates[0]!.spec['args']).toEqual([
      { name: 'frontend', value: 'loan-canary' },
      { name: 'backend', value: `interest-canary.shop@i2/${loanInterestRelease}` },
      { name: 'threshold', value: '0.05' },
    ]);
    expect([p.status?.release?.stage, p.status?.conditions[0]?.reason]).toEqual([0, 'Analyzing']);
    expect(p.status?.release?.analysisRuns).toEqual([{ name: BARRIER, point: 'barrier', stage: 0, phase: 'Pending' }]);
    expect(p.events.find((e) => e.reason === 'AnalysisStarted')?.message).toContain('started at barrier 1');
  });

  it('keeps the barrier shut while it runs, even on a promote request; passes it once it succeeded', () => {
    const status = atBarrier({}).status as StatusInput;
    const promote = { [REQUEST.promote]: `${loanInterestRelease}/1` };
    const running = atBarrier({ status, annotations: promote }, [barrierRun('Running')]);
    expect(running.status?.release?.state).toBe('Gating');
    expect(kinds(running.actions)).not.toContain('Promote');
    expect(running.handledRequests).toEqual([]);
    const passed = atBarrier({ status, annotations: promote }, [barrierRun('Successful')]);
    expect(passed.status?.release?.state).toBe('CuttingOver');
  });

  it('aborts the release when the barrier’s run fails, naming the metric', () => {
    const status = atBarrier({}).status as StatusInput;
    const p = atBarrier({ status }, [barrierRun('Failed', [{ name: 'error-ratio', phase: 'Failed', measurements: [{ value: '[0.3]' }] }])]);
    expect(p.status?.release?.state).toBe('Aborted');
    expect(p.status?.release?.abortReason).toBe(`analysis ${BARRIER} Failed: metric error-ratio Failed (last value [0.3])`);
    expect(p.actions.filter((a) => a.kind === 'Abort').length).toBe(2);
  });

  it('runs no barrier analysis at the last barrier: that gate is the cutover’s (prePromotion)', () => {
    const status = { ...(atBarrier({}).status as StatusInput) };
    status.release = { ...status.release!, stage: 1 };
    expect(kinds(atBarrier({ status }, [], 1).actions)).not.toContain('CreateAnalysisRun');
  });

  it('is refused where there is no barrier before the last: Ordered, blue-green or one barrier', () => {
    const c = (p: ReturnType<typeof plan>) => p.status!.conditions.find((x) => x.type === 'SpecValid')!;
    expect([c(atBarrier({ strategy: 'Ordered' })).reason, c(atBarrier({ strategy: 'Ordered' })).message]).toEqual(['AnalysisMisconfigured', expect.stringContaining('spec.analysis.barrier runs at the barriers before the last of a Lockstep canary group, and this group has none (strategy Ordered)')]);
    expect(c(atBarrier({}, [], 0, 1)).reason).toBe('AnalysisMisconfigured');
    expect(c(planWith({ analysis: barrier })).reason).toBe('AnalysisMisconfigured');
  });
});
