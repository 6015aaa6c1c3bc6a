import { z } from 'zod';
import { AUTHORIZED_GROUP_ANNOTATION } from './rolloutgroup.ts';

/** The subset of an Argo Rollout (argoproj.io/v1alpha1) Tandem reads. Unknown fields pass through. */
const PodTemplateMetadata = z.looseObject({
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type PodTemplateMetadata = z.infer<typeof PodTemplateMetadata>;

const BlueGreen = z.looseObject({
  activeService: z.string().optional(),
  previewService: z.string().optional(),
  autoPromotionEnabled: z.boolean().optional(),
  activeMetadata: PodTemplateMetadata.optional(),
  previewMetadata: PodTemplateMetadata.optional(),
});
const Canary = z.looseObject({
  canaryService: z.string().optional(),
  stableService: z.string().optional(),
  canaryMetadata: PodTemplateMetadata.optional(),
  stableMetadata: PodTemplateMetadata.optional(),
  steps: z
    .array(
      z.looseObject({
        pause: z.looseObject({ duration: z.union([z.string(), z.number()]).optional() }).optional(),
        // Read to refuse a barrier before the canary has pods (validation.ts).
        setWeight: z.number().optional(),
        setCanaryScale: z.looseObject({ weight: z.number().optional(), replicas: z.number().optional() }).optional(),
      }),
    )
    .optional(),
});

export const Rollout = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string(),
    uid: z.string().default(''),
    generation: z.number().int().default(0),
    resourceVersion: z.string().default(''),
    /** Of the annotations only consent is read (and kept by the cache: an object keeps the keys it names). */
    annotations: z.object({ [AUTHORIZED_GROUP_ANNOTATION]: z.string().optional() }).optional(),
  }),
  spec: z.looseObject({
    replicas: z.number().int().optional(),
    paused: z.boolean().optional(),
    strategy: z.looseObject({ blueGreen: BlueGreen.optional(), canary: Canary.optional() }).default({}),
    template: z
      .looseObject({
        spec: z.looseObject({ containers: z.array(z.looseObject({ image: z.string().optional() })).default([]) }).optional(),
        metadata: PodTemplateMetadata.optional(),
      })
      .optional(),
  }),
  status: z
    .looseObject({
      observedGeneration: z.string().optional(),
      currentPodHash: z.string().optional(),
      currentStepIndex: z.number().int().optional(),
      stableRS: z.string().optional(),
      controllerPause: z.boolean().optional(),
      abort: z.boolean().optional(),
      phase: z.string().optional(),
      message: z.string().optional(),
      pauseConditions: z.array(z.looseObject({ reason: z.string() })).nullish(),
      blueGreen: z.looseObject({ activeSelector: z.string().optional(), previewSelector: z.string().optional() }).optional(),
    })
    .default({}),
});
export type Rollout = z.infer<typeof Rollout>;

/** The Services a Rollout's strategy names: blue-green active and preview, canary stable and canary. */
export function serviceNamesOf(strategy: Rollout['spec']['strategy'] | undefined): string[] {
  const { blueGreen, canary } = strategy ?? {};
  return [blueGreen?.activeService, blueGreen?.previewService, canary?.stableService, canary?.canaryService].filter((n): n is string => !!n);
}

export type MetadataField = 'previewMetadata' | 'activeMetadata' | 'canaryMetadata' | 'stableMetadata';

/** Annotation keys Tandem's field manager owns, per metadata field; the gateway reads them off managedFields. */
export type OwnedKeys = Partial<Record<MetadataField, readonly string[]>>;

/** A Rollout as the planner sees it. */
export interface RolloutView {
  readonly rollout: Rollout;
  readonly owned: OwnedKeys;
}

export const ReplicaSet = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string(),
    generation: z.number().int().default(0),
    labels: z.record(z.string(), z.string()).default({}),
    annotations: z.record(z.string(), z.string()).default({}),
    ownerReferences: z.array(z.looseObject({ kind: z.string(), name: z.string() })).default([]),
  }),
  spec: z
    .looseObject({
      replicas: z.number().int().default(0),
      /** The pod template as Argo created it, plus Argo's injected ephemeral metadata and API defaults. */
      template: z.looseObject({ metadata: PodTemplateMetadata.optional() }).optional(),
    })
    .default({ replicas: 0 }),
  status: z
    .looseObject({
      observedGeneration: z.number().int().default(0),
      replicas: z.number().int().default(0),
      availableReplicas: z.number().int().default(0),
    })
    .default({ observedGeneration: 0, replicas: 0, availableReplicas: 0 }),
});
export type ReplicaSet = z.infer<typeof ReplicaSet>;

export const Service = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.string() }),
  spec: z
    .looseObject({
      selector: z.record(z.string(), z.string()).default({}),
      ports: z.array(z.looseObject({ name: z.string().optional(), port: z.number().int() })).default([]),
    })
    .default({ selector: {}, ports: [] }),
});
export type Service = z.infer<typeof Service>;

export const POD_TEMPLATE_HASH = 'rollouts-pod-template-hash';
/** JSON of the labels and annotations Argo injected into a ReplicaSet's template from ephemeral metadata. */
export const EPHEMERAL_METADATA = 'rollout.argoproj.io/ephemeral-metadata';
