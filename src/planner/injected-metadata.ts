import { EPHEMERAL_METADATA, type ReplicaSet } from '../api/rollout.ts';

export interface InjectedMetadata {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * The role metadata Argo injected into a ReplicaSet's template, and so into its pods: it records it
 * in an annotation as it writes the template, then updates the pods (reference §1.3). Unreadable: none.
 */
export function injectedMetadata(rs: ReplicaSet): InjectedMetadata {
  const json = rs.metadata.annotations[EPHEMERAL_METADATA];
  if (!json) return {};
  try {
    const v = JSON.parse(json) as unknown;
    return typeof v === 'object' && v !== null ? (v as InjectedMetadata) : {};
  } catch {
    return {};
  }
}
