import { POD_TEMPLATE_HASH, type ReplicaSet } from '../api/rollout.ts';
import { injectedMetadata } from './injected-metadata.ts';
import { replicaSetOf } from './member-reading.ts';

export type PodTemplate = Record<string, unknown>;

/**
 * The Rollout pod template that produced `revision`, read back from its ReplicaSet: Argo's `undo`,
 * minus the labels and annotations Argo injected from ephemeral metadata and Tandem's own pins
 * (`pinKeys`), which would otherwise be baked into the template, change its hash and start a new
 * revision instead of returning to the old one.
 */
export function templateOf(replicaSets: readonly ReplicaSet[], rollout: string, revision: string, pinKeys: readonly string[] = []): PodTemplate | undefined {
  const rs = replicaSetOf(replicaSets, rollout, revision);
  if (!rs?.spec.template) return undefined;
  const template = structuredClone(rs.spec.template) as PodTemplate & { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } };
  const injected = injectedMetadata(rs);
  const meta = template.metadata ?? {};
  for (const field of ['labels', 'annotations'] as const) {
    const values = meta[field];
    if (!values) continue;
    for (const [k, v] of Object.entries(injected[field] ?? {})) if (values[k] === v) delete values[k];
    if (field === 'labels') delete values[POD_TEMPLATE_HASH];
    else for (const k of pinKeys) delete values[k];
    if (Object.keys(values).length === 0) delete meta[field];
  }
  return template;
}
