import { z } from 'zod';

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
  port: z.union([z.number().int().min(1).max(65535), z.string().min(1).max(15)]).optional(),
  scheme: z.string().min(1).max(32).regex(/^[a-z][a-z0-9+.-]*$/).default('http'),
  path: z.string().max(MAX_PATH).optional(),
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
  paused: z.boolean().default(false),
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

export const ReleaseStatus = z.object({
  id: z.string(),
  /** The changed members and the revision each moves to; the id hashes these. */
  targets: z.array(ReleaseTarget),
  startedAt: z.string(),
  /** Since when every changed member has been ready without a break (the soak counts from here). */
  readyAt: z.string().optional(),
  /** When the release was first ready: the progress deadline no longer applies after it. */
  firstReadyAt: z.string().optional(),
  /** When the gate opened (promote request accepted, or auto after soak). */
  promotedAt: z.string().optional(),
  /** Members moved on at the current stage (resumed past its barrier, or promoted at the last). */
  promotedMembers: z.array(z.string()).default([]),
  /** Index of the current stage: a barrier (Lockstep) or one member's barrier (Ordered). */
  stage: z.number().int().min(0).optional(),
  stages: z.number().int().min(1).optional(),
  /** When the current stage began: its progress deadline counts from here. */
  stageStartedAt: z.string().optional(),
  abortedAt: z.string().optional(),
  abortReason: z.string().optional(),
  /** Promoted members Tandem rolled back to their previous revision after the release failed. */
  rolledBack: z.array(z.string()).optional(),
  /** Rolled-back members Argo has returned to their previous revision; never rolled back twice. */
  restored: z.array(z.string()).optional(),
  /** How many times a retry request restarted this release. */
  retries: z.number().int().min(0).optional(),
});
export type ReleaseStatus = z.infer<typeof ReleaseStatus>;

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
