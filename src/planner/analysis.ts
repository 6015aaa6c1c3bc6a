import { ANALYSIS_LABEL, TERMINATED_ANNOTATION, type AnalysisPhase, type AnalysisPoint, type AnalysisRun, type AnalysisStep, type AnalysisTemplate, type AnalysisTemplateRef } from '../api/analysis.ts';
import { releaseFailed, type ReleaseStatus } from '../api/rolloutgroup.ts';
import type { Rollout } from '../api/rollout.ts';
import { barrierStepsOf } from './member-reading.ts';
import type { Observed } from './observed.ts';
import type { Action } from './plan-types.ts';
import type { SpecProblem } from './validation.ts';

/**
 * Group analysis, the pure part (docs/analysis.md): which templates a group names, the AnalysisRun
 * Tandem creates from them for a release's stage (metrics and args merged as Argo's own
 * `NewAnalysisRunFromTemplates` does: the Argo controller runs an AnalysisRun, it does not resolve
 * templates), and what an observed run says. The release's step decides when (release-step.ts).
 */

/** The cache key of a referenced template: AnalysisTemplates and ClusterAnalysisTemplates apart. */
export const templateKey = (ref: Pick<AnalysisTemplateRef, 'templateName' | 'clusterScope'>): string => `${ref.clusterScope ? 'cluster' : 'namespaced'}/${ref.templateName}`;

/** What the step needs to know of one point's run for one stage of the release. */
export interface AnalysisView {
  readonly name: string;
  /** Undefined: not created yet. */
  readonly phase: AnalysisPhase | undefined;
  /** The metrics that decided, when it did not succeed. */
  readonly message: string | undefined;
  /** The write that creates it (the same, by name, however often it is planned). */
  readonly create: Action;
  /** Pending or Running past its bound (its metrics' own duration plus progressDeadlineSeconds): why it is stuck. */
  readonly overdue?: string;
  /** When it passes its bound, if it is measuring and the bound is known (ms since the epoch). */
  readonly dueAt?: number;
}

/** Placeholders an arg value may hold, with what each stands for (docs/analysis.md lists them). */
const MEMBER_FIELDS = ['previewService', 'activeService', 'canaryService', 'stableService', 'revision', 'stableRevision'] as const;
type MemberField = (typeof MEMBER_FIELDS)[number];
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** A member's Service in a role: the blue-green names and the canary names mean the same sides. */
function serviceOf(rollout: Rollout, field: 'previewService' | 'activeService' | 'canaryService' | 'stableService'): string | undefined {
  const { blueGreen, canary } = rollout.spec.strategy;
  const preview = field === 'previewService' || field === 'canaryService';
  if (blueGreen) return preview ? blueGreen.previewService : blueGreen.activeService;
  if (canary) return preview ? canary.canaryService : canary.stableService;
  return undefined;
}

interface ArgContext {
  readonly o: Observed;
  /** Absent at validation: release values are only checked for being known. */
  readonly release?: ReleaseStatus;
}

/** An arg value with its placeholders replaced, or what is wrong with it. */
function resolveValue(value: string, ctx: ArgContext): { ok: true; value: string } | { ok: false; problem: string } {
  const problems: string[] = [];
  const out = value.replace(PLACEHOLDER, (whole, expr: string) => {
    const got = resolvePlaceholder(expr, ctx);
    if (typeof got === 'string') return got;
    problems.push(`${whole}: ${got.problem}`);
    return whole;
  });
  return problems.length > 0 ? { ok: false, problem: problems.join('; ') } : { ok: true, value: out };
}

function resolvePlaceholder(expr: string, { o, release }: ArgContext): string | { problem: string } {
  const { metadata, spec } = o.group;
  if (expr === 'namespace') return metadata.namespace;
  if (expr === 'group') return metadata.name;
  if (expr === 'release.id') return release?.id ?? '';
  const m = /^members\.([^.]+)\.([A-Za-z]+)$/.exec(expr);
  if (!m) return { problem: `unknown placeholder; use {{members.<rollout>.<${MEMBER_FIELDS.join('|')}>}}, {{release.id}}, {{namespace}} or {{group}}` };
  const [, name, field] = m as unknown as [string, string, string];
  if (!spec.members.some((x) => x.rollout === name)) return { problem: `${name} is not a member of the group` };
  if (!(MEMBER_FIELDS as readonly string[]).includes(field)) return { problem: `unknown field ${field}; use one of ${MEMBER_FIELDS.join(', ')}` };
  const rollout = o.rollouts.get(name)?.rollout;
  if (!rollout) return ''; // a missing member is reported as MemberNotFound
  const f = field as MemberField;
  if (f === 'revision' || f === 'stableRevision') {
    if (!release) return '';
    const target = release.targets.find((t) => t.rollout === name);
    // A member outside the release runs its stable revision on both sides.
    return f === 'revision' ? (target?.revision ?? rollout.status?.stableRS ?? '') : (target?.from ?? rollout.status?.stableRS ?? '');
  }
  const service = serviceOf(rollout, f);
  return service ?? { problem: `rollout ${name} names no ${f}` };
}

/** Every problem with the group's analysis (SpecValid=False while there is any). */
export function validateAnalysis(o: Observed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const analysis = o.group.spec.analysis;
  if (!analysis) return problems;
  for (const [point, step] of Object.entries(analysis) as [AnalysisPoint, AnalysisStep | undefined][]) {
    if (!step) continue;
    const where = `spec.analysis.${point}`;
    if (point === 'barrier') {
      const barriers = Math.max(0, ...o.group.spec.members.map((m) => {
        const r = o.rollouts.get(m.rollout)?.rollout;
        return r?.spec.strategy.canary ? barrierStepsOf(r).length : 0;
      }));
      if (o.group.spec.strategy !== 'Lockstep' || barriers < 2) {
        problems.push({ reason: 'AnalysisMisconfigured', message: `${where} runs at the barriers before the last of a Lockstep canary group, and this group has none${o.group.spec.strategy !== 'Lockstep' ? ' (strategy Ordered)' : ''}; its last barrier (or a blue-green gate) is the cutover's: use spec.analysis.prePromotion there` });
        continue;
      }
    }
    const templates: AnalysisTemplate[] = [];
    for (const ref of step.templates) {
      const found = o.analysisTemplates?.get(templateKey(ref));
      if (found) {
        templates.push(found);
        continue;
      }
      const other = o.analysisTemplates?.get(templateKey({ ...ref, clusterScope: !ref.clusterScope }));
      if (other) {
        problems.push({
          reason: 'AnalysisTemplateKind',
          message: ref.clusterScope
            ? `${where}: ${ref.templateName} is an AnalysisTemplate in namespace ${o.group.metadata.namespace}, not a ClusterAnalysisTemplate; remove clusterScope: true`
            : `${where}: ${ref.templateName} is a ClusterAnalysisTemplate, not an AnalysisTemplate in namespace ${o.group.metadata.namespace}; set clusterScope: true`,
        });
      } else {
        problems.push({
          reason: 'AnalysisTemplateNotFound',
          message: ref.clusterScope
            ? o.clusterTemplatesUnreadable
              ? `${where}: ClusterAnalysisTemplate ${ref.templateName} cannot be read by this controller, which watches namespace ${o.group.metadata.namespace} only; use an AnalysisTemplate in that namespace (clusterScope: false)`
              : `${where}: ClusterAnalysisTemplate ${ref.templateName} not found; create it or remove it from the group`
            : `${where}: AnalysisTemplate ${ref.templateName} not found in namespace ${o.group.metadata.namespace}; create it or remove it from the group`,
        });
      }
    }
    if (templates.length !== step.templates.length) continue;
    const merged = mergeTemplates(templates);
    for (const c of merged.conflicts) problems.push({ reason: 'AnalysisMisconfigured', message: `${where}: ${c}` });
    // The gate opens, or the release completes, only once this run has: a metric measured at an
    // interval with no count never ends (and has no duration the deadline could allow it).
    const endless = merged.metrics.filter((m) => (m as { interval?: unknown }).interval !== undefined && (m as { count?: unknown }).count === undefined).map((m) => m.name);
    if (endless.length > 0) {
      const never = point === 'postPromotion' ? 'the release never complete' : 'the gate never open';
      problems.push({ reason: 'AnalysisMisconfigured', message: `${where}: metric${endless.length > 1 ? 's' : ''} ${endless.join(', ')} ha${endless.length > 1 ? 've' : 's'} an interval but no count, so the run would never end and ${never}; give ${endless.length > 1 ? 'them' : 'it'} a count` });
    }
    const given = new Set(step.args.map((a) => a.name));
    for (const a of step.args) {
      if (!merged.args.some((t) => t.name === a.name)) {
        problems.push({ reason: 'AnalysisMisconfigured', message: `${where}: arg ${a.name} is declared by none of its templates (${step.templates.map((t) => t.templateName).join(', ')}); remove it or fix its name` });
      }
      const r = resolveValue(a.value, { o });
      if (!r.ok) problems.push({ reason: 'AnalysisMisconfigured', message: `${where}: arg ${a.name}: ${r.problem}` });
    }
    const missing = merged.args.filter((t) => t.value === undefined && t.valueFrom === undefined && !given.has(t.name)).map((t) => t.name);
    if (missing.length > 0) {
      problems.push({ reason: 'AnalysisArgsMissing', message: `${where}: its templates need arg${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; give ${missing.length > 1 ? 'them' : 'it'} in ${where}.args` });
    }
  }
  return problems;
}

type TemplateArg = NonNullable<AnalysisTemplate['spec']['args']>[number];

/** Metrics, args, dryRun and measurementRetention of several templates as one run's spec. */
function mergeTemplates(templates: readonly AnalysisTemplate[]) {
  const conflicts: string[] = [];
  const metrics: { name: string }[] = [];
  const args: TemplateArg[] = [];
  const seen = new Map<string, string>();
  for (const t of templates) {
    for (const m of t.spec.metrics) {
      const before = seen.get(m.name);
      if (before !== undefined) conflicts.push(`metric ${m.name} is defined by both ${before} and ${t.metadata.name}; Argo needs metric names to be unique in a run`);
      seen.set(m.name, t.metadata.name);
      metrics.push(m);
    }
    for (const a of t.spec.args ?? []) {
      const prev = args.find((x) => x.name === a.name);
      if (!prev) args.push(a);
      else if (prev.value !== undefined && a.value !== undefined && prev.value !== a.value) conflicts.push(`arg ${a.name} has two default values in its templates (${prev.value}, ${a.value})`);
    }
  }
  return {
    conflicts,
    metrics,
    args,
    dryRun: templates.flatMap((t) => t.spec.dryRun ?? []),
    measurementRetention: templates.flatMap((t) => t.spec.measurementRetention ?? []),
  };
}

/** The run of a point at a stage of a release, attempt by attempt (a retried release analyses again). */
export function analysisRunName(group: string, release: Pick<ReleaseStatus, 'id' | 'retries'>, point: AnalysisPoint, stage: number): string {
  const short = point === 'prePromotion' ? 'pre' : point === 'postPromotion' ? 'post' : 'barrier';
  const suffix = `-${release.id}-${short}-${stage + 1}${release.retries ? `-r${release.retries}` : ''}`;
  // A DNS subdomain of at most 253 characters, as every object name.
  const head = group.slice(0, 253 - suffix.length).replace(/[-.]+$/, '');
  return `${head}${suffix}`;
}

/** A label value (63 characters at most) that still says which group. */
const labelValue = (v: string): string => (v.length <= 63 ? v : v.slice(0, 63).replace(/[-._]+$/, ''));

/**
 * The view of a point's run for a stage, or undefined when the group has no analysis there. The run
 * is found by its name among the group's runs (observed by label and owner), so a restart finds it.
 */
export function analysisFor(o: Observed, point: AnalysisPoint, release: ReleaseStatus, stage: number): AnalysisView | undefined {
  const step = o.group.spec.analysis?.[point];
  if (!step) return undefined;
  const name = analysisRunName(o.group.metadata.name, release, point, stage);
  const run = o.analysisRuns?.get(name);
  const read = run ? readRun(run) : undefined;
  const view = { name, phase: read?.phase, message: read?.message, create: createAction(o, step, release, point, stage, name) };
  if (!run || (read?.phase !== 'Pending' && read?.phase !== 'Running')) return view;
  const created = Date.parse(run.metadata.creationTimestamp ?? '');
  const own = runDurationMs(run);
  const grace = o.group.spec.progressDeadlineSeconds * 1000;
  // Pending: Argo never started it; its own duration does not count then.
  const dueAt = created + (read.phase === 'Running' ? (own ?? Number.NaN) : 0) + grace;
  if (!Number.isFinite(dueAt)) return view;
  if (o.now < dueAt) return { ...view, dueAt };
  const s = (ms: number) => `${Math.round(ms / 1000)}s`;
  const overdue =
    read.phase === 'Pending'
      ? `analysis ${name} not started by Argo Rollouts within progressDeadlineSeconds (${s(grace)}) of its creation; is the Argo Rollouts controller running?`
      : `analysis ${name} still Running ${s(o.now - created)} after its creation: its metrics measure for ${s(own!)}, and progressDeadlineSeconds (${s(grace)}) have passed since`;
  return { ...view, dueAt, overdue };
}

/**
 * How long a run's metrics measure, by Argo's schedule: the first measurement after `initialDelay`,
 * then one every `interval` until `count`. Undefined when a count is not a number (an arg Argo fills
 * that Tandem cannot) or a metric measures until stopped (an interval and no count).
 */
export function runDurationMs(run: AnalysisRun): number | undefined {
  const args = new Map((run.spec?.args ?? []).map((a) => [a.name, a.value]));
  let longest = 0;
  for (const m of run.spec?.metrics ?? []) {
    // A count may be an arg (`{{args.n}}`), filled from the run's args as Argo does.
    const arg = typeof m.count === 'string' ? /^\{\{\s*args\.(\S+?)\s*\}\}$/.exec(m.count)?.[1] : undefined;
    const given = arg !== undefined ? args.get(arg) : m.count;
    const count = given === undefined ? (m.interval === undefined ? 1 : undefined) : Number(given);
    if (count === undefined || !Number.isInteger(count) || count < 0) return undefined;
    const delay = goDurationMs(m.initialDelay ?? '0s');
    const interval = goDurationMs(m.interval ?? '0s');
    if (delay === undefined || interval === undefined) return undefined;
    longest = Math.max(longest, delay + interval * Math.max(0, count - 1));
  }
  return longest;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Go's time.ParseDuration, which Argo's DurationString is ("1m30s", "500ms", "0"). Written here: the
 * npm parsers read a looser, English language ("2 days") that Argo refuses, and this is six lines.
 */
export function goDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const parts = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))*$/.test(text) ? [...text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)] : undefined;
  return parts?.reduce((ms, [, n, unit]) => ms + Number(n) * UNIT_MS[unit!]!, 0);
}

function createAction(o: Observed, step: AnalysisStep, release: ReleaseStatus, point: AnalysisPoint, stage: number, name: string): Action {
  // Validation has found every template and resolved every placeholder before a step is taken.
  const templates = step.templates.map((ref) => o.analysisTemplates!.get(templateKey(ref))!);
  const merged = mergeTemplates(templates);
  const given = new Map(step.args.map((a) => [a.name, a.value]));
  const args = merged.args.map((a) => {
    const v = given.get(a.name);
    if (v === undefined) return a;
    const r = resolveValue(v, { o, release });
    return { name: a.name, value: r.ok ? r.value : v };
  });
  return {
    kind: 'CreateAnalysisRun',
    name,
    labels: {
      [ANALYSIS_LABEL.group]: labelValue(o.group.metadata.name),
      [ANALYSIS_LABEL.release]: release.id,
      [ANALYSIS_LABEL.stage]: `${point}-${stage + 1}`,
    },
    spec: {
      metrics: merged.metrics,
      ...(args.length > 0 ? { args } : {}),
      ...(merged.dryRun.length > 0 ? { dryRun: merged.dryRun } : {}),
      ...(merged.measurementRetention.length > 0 ? { measurementRetention: merged.measurementRetention } : {}),
    },
  };
}

const PHASES: readonly AnalysisPhase[] = ['Pending', 'Running', 'Successful', 'Failed', 'Error', 'Inconclusive'];

/** An observed run's phase (a new run has none: Pending) and, once concluded, the metrics that decided it. */
export function readRun(run: AnalysisRun): { phase: AnalysisPhase; message: string | undefined } {
  const terminated = run.metadata.annotations[TERMINATED_ANNOTATION];
  if (terminated !== undefined) {
    // Argo calls a terminated run Successful: no verdict. Found by a release, it is one with the
    // same id as an earlier release that was replaced or aborted (its runs share the names).
    return { phase: 'Error', message: `terminated by Tandem before it concluded (${terminated}); it measured nothing for this release: change a member in Git to release and analyse again`.slice(0, 4096) };
  }
  const raw = run.status?.phase;
  const phase = (PHASES as readonly string[]).includes(raw ?? '') ? (raw as AnalysisPhase) : 'Pending';
  if (phase === 'Pending' || phase === 'Running') return { phase, message: undefined };
  // A success is decided by every metric (each must succeed); any other verdict by the metrics that gave it.
  const decisive = (run.status?.metricResults ?? []).filter((m) => phase === 'Successful' || m.phase === phase || (phase !== 'Inconclusive' && (m.phase === 'Failed' || m.phase === 'Error')));
  const described = decisive.map((m) => {
    const last = m.measurements?.at(-1)?.value;
    return `metric ${m.name} ${m.phase}${last !== undefined ? ` (last value ${last})` : ''}${m.message ? `: ${m.message}` : ''}`;
  });
  const message = described.length > 0 ? described.join('; ') : (run.status?.message ?? undefined);
  return { phase, message: message?.slice(0, 4096) };
}

// ---- runs no release needs any more ----

/** The runs a release waits for in its state: the one at its gate (pre-promotion, or a barrier's), the guard of its cutover. */
function neededBy(group: string, release: ReleaseStatus | undefined): string[] {
  const stage = release?.stage ?? 0;
  if (release?.state === 'Gating') return [analysisRunName(group, release, 'prePromotion', stage), analysisRunName(group, release, 'barrier', stage)];
  if (release?.state === 'CuttingOver') return [analysisRunName(group, release, 'postPromotion', stage)];
  return [];
}

const concluded = (run: AnalysisRun): boolean => {
  const phase = readRun(run).phase;
  return phase !== 'Pending' && phase !== 'Running';
};

/**
 * Terminates the group's runs that still measure while no release needs them: of a release that was
 * replaced, aborted, rolled back or completed, or of a point it has passed (a gate someone else
 * opened). Needed means by the release persisted (the state a crash would resume) or by the one this
 * plan leaves, so a run is stopped only once no persisted state can still wait for it.
 */
export function terminations(o: Observed, next: ReleaseStatus | undefined): Action[] {
  const group = o.group.metadata.name;
  const prev = o.group.status?.release;
  const needed = new Set([...neededBy(group, prev), ...neededBy(group, next)]);
  const actions: Action[] = [];
  for (const run of [...(o.analysisRuns?.values() ?? [])].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    const name = run.metadata.name;
    if (needed.has(name) || run.spec?.terminate === true || concluded(run)) continue;
    const release = run.metadata.labels[ANALYSIS_LABEL.release] ?? 'unknown';
    const why = release !== prev?.id && release !== next?.id ? `release ${release} was replaced` : next === undefined ? `release ${release} ended` : releaseFailed(next) ? `release ${release} was aborted` : `release ${release} is past its ${run.metadata.labels[ANALYSIS_LABEL.stage] ?? 'point'}`;
    actions.push({ kind: 'TerminateAnalysisRun', name, reason: why });
  }
  return actions;
}
