import { z } from 'zod';
import { GroupAnalysis, ReleaseAnalysis } from './analysis.ts';

export const GROUP = 'tandem.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'RolloutGroup';
export const PLURAL = 'rolloutgroups';
export const FINALIZER = 'tandem.dev/release-metadata';
export const FIELD_MANAGER = 'tandem-controller';

/** Requests users make by annotating the group (DESIGN §6). */
export const REQUEST = {
  promote: 'tandem.dev/promote',
  abort: 'tandem.dev/abort',
  retry: 'tandem.dev/retry',
} as const;

export const MAX_MEMBERS = 50;
export const MAX_DEPENDENCIES = 25; // bounded so the CRD's CEL rules fit the API server's cost budget
export const MAX_NAME = 253;
export const MAX_ANNOTATION_KEY = 316; // 253 prefix + '/' + 63 name
export const MAX_ANNOTATION_VALUE = 4096;
export const MAX_ROLE_ANNOTATIONS = 32;
export const MAX_PATH = 1024;

/**
 * Consent mode (DESIGN §8): a member Rollout names the group allowed to drive it, as Kargo's
 * `kargo.akuity.io/authorized-stage` does for Argo CD Applications.
 */
export const AUTHORIZED_GROUP_ANNOTATION = 'tandem.dev/authorized-group';

/**
 * An address suffix: empty, or starting with one '/' (never '//': that would name another host), '?'
 * or '#', then printable ASCII without spaces or backslashes. The URL parser has the last word (wiring.ts).
 */
export const PATH_PATTERN = '^(/([!-.0-\\[\\]-~][!-\\[\\]-~]*)?|[?#][!-\\[\\]-~]*)?$';

// A Kubernetes qualified annotation key: optional DNS-subdomain prefix, then a 1..63 char name.
export const ANNOTATION_KEY_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

const rolloutName = z.string().min(1).max(MAX_NAME).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
const annotationKey = z.string().min(1).max(MAX_ANNOTATION_KEY).regex(new RegExp(ANNOTATION_KEY_PATTERN));
const annotationMap = z
  .record(annotationKey, z.string().max(MAX_ANNOTATION_VALUE))
  .refine((m) => Object.keys(m).length <= MAX_ROLE_ANNOTATIONS, `at most ${MAX_ROLE_ANNOTATIONS} annotations`);

export const Dependency = z.object({
  rollout: rolloutName,
  annotation: annotationKey.optional(),
  port: z.union([z.number().int().min(1).max(65535), z.string().min(1).max(15).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)]).optional(),
  scheme: z.string().min(1).max(32).regex(/^[a-z][a-z0-9+.-]*$/).default('http'),
  path: z.string().max(MAX_PATH).regex(new RegExp(PATH_PATTERN)).optional(),
});
export type Dependency = z.infer<typeof Dependency>;

export const Member = z.object({
  rollout: rolloutName,
  dependsOn: z.array(Dependency).max(MAX_DEPENDENCIES).default([]),
  roleAnnotations: z
    .object({ preview: annotationMap.optional(), active: annotationMap.optional() })
    .optional(),
});
export type Member = z.infer<typeof Member>;

export const Strategy = z.enum(['Lockstep', 'Ordered']);
export type Strategy = z.infer<typeof Strategy>;
export const Order = z.enum(['DependenciesFirst', 'DependentsFirst']);

export const RolloutGroupSpec = z.object({
  strategy: Strategy.default('Lockstep'),
  order: Order.optional(),
  members: z.array(Member).min(1).max(MAX_MEMBERS),
  promotion: z
    .object({
      auto: z.boolean().default(false),
      soakSeconds: z.number().int().min(0).max(86_400).default(0),
    })
    .default({ auto: false, soakSeconds: 0 }),
  progressDeadlineSeconds: z.number().int().min(1).max(604_800).default(900),
  /**
   * How long after a Service's EndpointSlices list only the pods it should reach the nodes are taken
   * to route by them (kube-proxy's sync): pins stay, and the next member waits, until then (docs/design.md).
   */
  dataPlaneSettleSeconds: z.number().int().min(0).max(600).default(3),
  paused: z.boolean().default(false),
  /** Group analysis: Argo AnalysisRuns across the members that gate the release (api/analysis.ts). */
  analysis: GroupAnalysis.optional(),
});
export type RolloutGroupSpec = z.infer<typeof RolloutGroupSpec>;

export const Phase = z.enum(['Healthy', 'Progressing', 'Paused', 'Promoting', 'Degraded']);
export type Phase = z.infer<typeof Phase>;
export const MemberState = z.enum(['Stable', 'Deploying', 'Ready', 'Promoting', 'Promoted', 'Failed', 'RolledBack', 'Missing']);
export type MemberState = z.infer<typeof MemberState>;

export const Condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  observedGeneration: z.number().int().optional(),
  lastTransitionTime: z.string(),
});
export type Condition = z.infer<typeof Condition>;

export const ReleaseTarget = z.object({
  rollout: z.string(),
  revision: z.string(),
  /** The stable revision when the release started: where a rollback returns to. */
  from: z.string().optional(),
});
export type ReleaseTarget = z.infer<typeof ReleaseTarget>;

/** The states of a release (DESIGN §4b); a completed release leaves `status.release` empty. */
export const ReleaseState = z.enum(['Gating', 'CuttingOver', 'RollingBack', 'Aborted']);
export type ReleaseState = z.infer<typeof ReleaseState>;

const names = z.array(z.string()).max(MAX_MEMBERS);
/** Declared absent in a state, so consumers may read every field of any state. */
const absent = z.undefined().optional();

/** Fields every state carries. */
const ReleaseBase = {
  id: z.string(),
  /** The changed members and the revision each moves to; the id hashes these. */
  targets: z.array(ReleaseTarget),
  startedAt: z.string(),
  /** Index of the current stage: a barrier (Lockstep) or one member's barrier (Ordered). */
  stage: z.number().int().min(0).optional(),
  stages: z.number().int().min(1).optional(),
  /** When the current stage began. */
  stageStartedAt: z.string().optional(),
  /** Since when the release has waited on Argo or pods: progressDeadlineSeconds counts from here (§4b). */
  progressAt: z.string().optional(),
  /** Since when every mover of the stage has been ready without a break (the soak counts from here). */
  readyAt: z.string().optional(),
  firstReadyAt: z.string().optional(),
  /** Members moved on at the current stage (resumed past its barrier, or promoted at the last). */
  promotedMembers: names.default([]),
  /** How many times a retry request restarted this release. */
  retries: z.number().int().min(0).optional(),
  /** The graph the release started with (§4b): an edit of the spec applies from the next release. */
  strategy: Strategy.optional(),
  /** Targets, dependencies first, as the spec ordered them when the release started. */
  sequence: names.optional(),
  specHash: z.string().max(64).optional(),
  /** Newer revisions (`name@revision`) that arrived after the gate opened; they wait for the next release. */
  deferred: z.array(z.string().max(320)).max(MAX_MEMBERS).optional(),
  /** Members a person holds with `spec.paused: true`: Tandem waits for them and never unpauses them. */
  held: names.optional(),
  /** Members someone else promoted or resumed before Tandem's gate opened. */
  outOfBand: names.optional(),
  /** `rollout@revision` whose ReplicaSet and pods carry pinned addresses; removed only once unpinned. */
  pinned: z.array(z.string().max(320)).max(MAX_MEMBERS).optional(),
  /** The group AnalysisRuns of this release, one per point and stage, created once (api/analysis.ts). */
  analysisRuns: z.array(ReleaseAnalysis).max(16).optional(),
};

const Gating = z.object({ ...ReleaseBase, state: z.literal('Gating'), promotedAt: absent, abortedAt: absent, abortReason: absent, rolledBack: absent, restored: absent, superseded: absent, openedBy: absent });
const CuttingOver = z.object({
  ...ReleaseBase,
  state: z.literal('CuttingOver'),
  /** When the gate of the current stage opened. */
  promotedAt: z.string(),
  /** What opened it: a promote request, auto promotion, or someone else's promotion. */
  openedBy: z.string().max(1024).optional(),
  abortedAt: absent,
  abortReason: absent,
  rolledBack: absent,
  restored: absent,
  superseded: absent,
});
const AbortedFields = {
  ...ReleaseBase,
  abortedAt: z.string(),
  abortReason: z.string().default(''),
  /** Set when the failure came after the gate opened (Argo would switch its members again on a retry). */
  promotedAt: z.string().optional(),
  openedBy: absent,
  /** Promoted members Tandem rolled back to their previous revision after the release failed. */
  rolledBack: names.optional(),
  /** Rolled-back members Argo has returned to their previous revision; never rolled back twice. */
  restored: names.optional(),
  /**
   * A newer revision superseded the release mid-cutover: once the live members are back, they are
   * put forward again to what Git declares, so the newest revisions are released together.
   */
  superseded: z.boolean().optional(),
};
const RollingBack = z.object({ ...AbortedFields, state: z.literal('RollingBack') });
const Aborted = z.object({ ...AbortedFields, state: z.literal('Aborted') });

/** A status written before releases had an explicit state (v0.1): the state its fields imply. */
const withState = (v: unknown): unknown => {
  if (typeof v !== 'object' || v === null || 'state' in v) return v;
  const r = v as { abortedAt?: string; promotedAt?: string; rolledBack?: string[]; restored?: string[] };
  const returning = (r.rolledBack ?? []).some((m) => !(r.restored ?? []).includes(m));
  return { ...v, state: r.abortedAt ? (returning ? 'RollingBack' : 'Aborted') : r.promotedAt ? 'CuttingOver' : 'Gating' };
};

export const ReleaseStatus = z.preprocess(withState, z.discriminatedUnion('state', [Gating, CuttingOver, RollingBack, Aborted]));
export type ReleaseStatus = z.infer<typeof ReleaseStatus>;

/** A release that failed: rolling back what went live, or done with that (Aborted). */
export const releaseFailed = (release: Pick<ReleaseStatus, 'state'> | undefined): boolean => release?.state === 'RollingBack' || release?.state === 'Aborted';

export const MemberStatus = z.object({
  rollout: z.string(),
  strategy: z.enum(['BlueGreen', 'Canary']).optional(),
  phase: z.string().optional(),
  stableRevision: z.string().optional(),
  desiredRevision: z.string().optional(),
  images: z.array(z.string()).default([]),
  state: MemberState,
});
export type MemberStatus = z.infer<typeof MemberStatus>;

export const RolloutGroupStatus = z.object({
  observedGeneration: z.number().int().optional(),
  phase: Phase.optional(),
  message: z.string().optional(),
  readyMembers: z.string().optional(),
  release: ReleaseStatus.optional(),
  members: z.array(MemberStatus).default([]),
  conditions: z.array(Condition).default([]),
});
export type RolloutGroupStatus = z.infer<typeof RolloutGroupStatus>;

export const ObjectMeta = z.object({
  name: z.string(),
  namespace: z.string(),
  uid: z.string().default(''),
  generation: z.number().int().default(1),
  resourceVersion: z.string().default(''),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  annotations: z.record(z.string(), z.string()).default({}),
  finalizers: z.array(z.string()).default([]),
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;

export const RolloutGroup = z.object({
  apiVersion: z.literal(API_VERSION).default(API_VERSION),
  kind: z.literal(KIND).default(KIND),
  metadata: ObjectMeta,
  spec: RolloutGroupSpec,
  status: RolloutGroupStatus.optional(),
});
export type RolloutGroup = z.infer<typeof RolloutGroup>;

/** Annotation a dependency's address is written to unless the member names one. */
export const defaultAddressAnnotation = (rollout: string): string => `tandem.dev/${rollout}-url`;
