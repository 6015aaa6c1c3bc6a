import type { MetadataField, Rollout } from './rollout.ts';

/** Which side of a member: the one users reach (active/stable) or the one being tried (preview/canary). */
export type ServiceRole = 'preview' | 'active';
export type StrategyKey = 'blueGreen' | 'canary';

type ServiceField = 'previewService' | 'activeService' | 'canaryService' | 'stableService';
/** What Argo calls the side in that strategy, as people read it (`kubectl rolloutgroup get`). */
export type SideName = 'preview' | 'active' | 'canary' | 'stable';

/**
 * The one table of strategy × role → the ephemeral-metadata field, the Service field and Argo's name
 * for the side (DESIGN §3): the wiring, the managed fields Tandem owns and the plugin all read it.
 */
export const ROLE_FIELDS: Readonly<Record<StrategyKey, Readonly<Record<ServiceRole, { readonly metadata: MetadataField; readonly service: ServiceField; readonly side: SideName }>>>> = {
  blueGreen: {
    preview: { metadata: 'previewMetadata', service: 'previewService', side: 'preview' },
    active: { metadata: 'activeMetadata', service: 'activeService', side: 'active' },
  },
  canary: {
    preview: { metadata: 'canaryMetadata', service: 'canaryService', side: 'canary' },
    active: { metadata: 'stableMetadata', service: 'stableService', side: 'stable' },
  },
};

export const METADATA_FIELDS: readonly MetadataField[] = ['previewMetadata', 'activeMetadata', 'canaryMetadata', 'stableMetadata'];

/** Blue-green when it says so; everything else is read as canary (validation refuses neither). */
export const strategyKey = (r: Pick<Rollout, 'spec'>): StrategyKey => (r.spec.strategy.blueGreen ? 'blueGreen' : 'canary');

/** The name of a member's Service for a role, as its Rollout declares it. */
export function serviceNameOf(rollout: Pick<Rollout, 'spec'>, role: ServiceRole): string | undefined {
  const key = strategyKey(rollout);
  const spec = rollout.spec.strategy[key] as Partial<Record<ServiceField, string>> | undefined;
  return spec?.[ROLE_FIELDS[key][role].service];
}

/** The annotations a Rollout's ephemeral metadata for a role carries now. */
export function metadataOf(rollout: Pick<Rollout, 'spec'>, role: ServiceRole): Record<string, string> | undefined {
  const key = strategyKey(rollout);
  const spec = rollout.spec.strategy[key] as Partial<Record<MetadataField, { annotations?: Record<string, string> }>> | undefined;
  return spec?.[ROLE_FIELDS[key][role].metadata]?.annotations;
}
