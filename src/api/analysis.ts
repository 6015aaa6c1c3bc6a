import { z } from 'zod';

/**
 * Group analysis (docs/analysis.md): the RolloutGroup's `spec.analysis`, and the subsets of Argo's
 * AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun (argoproj.io/v1alpha1) Tandem reads.
 * The spec side mirrors Argo's own `RolloutAnalysis` (templates + args), so users write what they know.
 */

export const MAX_ANALYSIS_TEMPLATES = 10;
export const MAX_ANALYSIS_ARGS = 32;
export const MAX_ARG_VALUE = 4096;

/** Labels on the AnalysisRuns Tandem creates: the gateway watches only runs carrying the first. */
export const ANALYSIS_LABEL = {
  group: 'tandem.dev/group',
  release: 'tandem.dev/release',
  stage: 'tandem.dev/analysis-stage',
} as const;

/**
 * Set by Tandem, with `spec.terminate: true`, on a run it terminated because its release no longer
 * needs it (replaced or aborted): Argo then calls the run Successful ("Run Terminated"), which is no
 * verdict. A run someone else terminated keeps Argo's meaning (its phase).
 */
export const TERMINATED_ANNOTATION = 'tandem.dev/terminated';

const k8sName = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);

export const AnalysisTemplateRef = z.object({
  templateName: k8sName,
  /** true: a ClusterAnalysisTemplate; false: an AnalysisTemplate in the group's namespace. */
  clusterScope: z.boolean().default(false),
});
export type AnalysisTemplateRef = z.infer<typeof AnalysisTemplateRef>;

export const AnalysisArg = z.object({
  name: z.string().min(1).max(253),
  /** May hold release placeholders such as `{{members.loan.previewService}}` (analysis-args.ts). */
  value: z.string().max(MAX_ARG_VALUE),
});
export type AnalysisArg = z.infer<typeof AnalysisArg>;

export const AnalysisStep = z.object({
  templates: z.array(AnalysisTemplateRef).min(1).max(MAX_ANALYSIS_TEMPLATES),
  args: z.array(AnalysisArg).max(MAX_ANALYSIS_ARGS).default([]),
});
export type AnalysisStep = z.infer<typeof AnalysisStep>;

export const GroupAnalysis = z.object({
  /** Before the gate of the cutover: the gate cannot open until it has succeeded. */
  prePromotion: AnalysisStep.optional(),
  /**
   * From the gate of the cutover until it has succeeded: the release completes only then, and a
   * failure rolls every member back (as a member failure after a partial cutover does).
   */
  postPromotion: AnalysisStep.optional(),
  /**
   * Lockstep canary: at each barrier before the last (whose gate is the cutover's, prePromotion's),
   * one run across the members, all paused there; the barrier is passed only once it has succeeded.
   */
  barrier: AnalysisStep.optional(),
});
export type GroupAnalysis = z.infer<typeof GroupAnalysis>;

/** Where in a release an analysis runs; the run's `tandem.dev/analysis-stage` label. */
export const AnalysisPoint = z.enum(['prePromotion', 'postPromotion', 'barrier']);
export type AnalysisPoint = z.infer<typeof AnalysisPoint>;

/** Argo's AnalysisRun phases (analysis_types.go). */
export const AnalysisPhase = z.enum(['Pending', 'Running', 'Successful', 'Failed', 'Error', 'Inconclusive']);
export type AnalysisPhase = z.infer<typeof AnalysisPhase>;

/** What the release records of one of its AnalysisRuns (status.release.analysisRuns). */
export const ReleaseAnalysis = z.object({
  name: z.string().max(253),
  point: AnalysisPoint,
  /** The release's stage it belongs to (0-based, as status.release.stage). */
  stage: z.number().int().min(0),
  phase: AnalysisPhase,
  /** The metrics that decided (failed, errored, inconclusive), with their last value. */
  message: z.string().max(4096).optional(),
  /** An inconclusive post-promotion run a person promoted: the release may complete. */
  accepted: z.boolean().optional(),
});
export type ReleaseAnalysis = z.infer<typeof ReleaseAnalysis>;

// ---- Argo's objects, as far as Tandem reads them ----

const TemplateArg = z.looseObject({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z.looseObject({}).optional(),
});

/** An AnalysisTemplate or ClusterAnalysisTemplate: what a run built from it needs. */
export const AnalysisTemplate = z.looseObject({
  kind: z.string().optional(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  spec: z.looseObject({
    args: z.array(TemplateArg).optional(),
    metrics: z.array(z.looseObject({ name: z.string() })).default([]),
    dryRun: z.array(z.looseObject({})).optional(),
    measurementRetention: z.array(z.looseObject({})).optional(),
  }),
});
export type AnalysisTemplate = z.infer<typeof AnalysisTemplate>;

export const AnalysisRun = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string(),
    labels: z.record(z.string(), z.string()).default({}),
    annotations: z.record(z.string(), z.string()).default({}),
    creationTimestamp: z.string().optional(),
  }),
  /** Only what the planner reads: whether it was told to stop, and how long its metrics measure. */
  spec: z
    .looseObject({
      terminate: z.boolean().optional(),
      args: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })).optional(),
      metrics: z.array(z.looseObject({ name: z.string(), initialDelay: z.string().optional(), interval: z.string().optional(), count: z.union([z.number(), z.string()]).optional() })).optional(),
    })
    .optional(),
  status: z
    .looseObject({
      phase: z.string().optional(),
      message: z.string().optional(),
      metricResults: z
        .array(
          z.looseObject({
            name: z.string(),
            phase: z.string().optional(),
            message: z.string().optional(),
            measurements: z.array(z.looseObject({ value: z.string().optional(), phase: z.string().optional() })).optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});
export type AnalysisRun = z.infer<typeof AnalysisRun>;
