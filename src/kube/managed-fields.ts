import type { OwnedKeys } from '../api/rollout.ts';
import { ROLE_FIELDS } from '../api/rollout-roles.ts';

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  fieldsV1?: unknown;
}

/** The ephemeral-metadata annotation keys a field manager owns through server-side apply. */
export function ownedAnnotationKeys(managedFields: readonly ManagedFieldsEntry[] | undefined, manager: string): OwnedKeys {
  const owned: Record<string, string[]> = {};
  for (const entry of managedFields ?? []) {
    if (entry.manager !== manager || entry.operation !== 'Apply') continue;
    const strategy = child(child(entry.fieldsV1, 'f:spec'), 'f:strategy');
    for (const [s, roles] of Object.entries(ROLE_FIELDS)) {
      for (const { metadata: field } of Object.values(roles)) {
        const annotations = child(child(child(strategy, `f:${s}`), `f:${field}`), 'f:annotations');
        const keys = annotations ? Object.keys(annotations).filter((k) => k.startsWith('f:')).map((k) => k.slice(2)) : [];
        if (keys.length > 0) owned[field] = [...(owned[field] ?? []), ...keys];
      }
    }
  }
  return owned;
}

function child(node: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  const value = (node as Record<string, unknown>)[key];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}
