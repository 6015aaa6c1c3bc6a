import type { MetadataField, OwnedKeys } from '../api/rollout.ts';

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  fieldsV1?: unknown;
}

const FIELDS: Record<'blueGreen' | 'canary', readonly MetadataField[]> = {
  blueGreen: ['previewMetadata', 'activeMetadata'],
  canary: ['canaryMetadata', 'stableMetadata'],
};

/** The ephemeral-metadata annotation keys a field manager owns through server-side apply. */
export function ownedAnnotationKeys(managedFields: readonly ManagedFieldsEntry[] | undefined, manager: string): OwnedKeys {
  const owned: Record<string, string[]> = {};
  for (const entry of managedFields ?? []) {
    if (entry.manager !== manager || entry.operation !== 'Apply') continue;
    const strategy = child(child(entry.fieldsV1, 'f:spec'), 'f:strategy');
    for (const [s, fields] of Object.entries(FIELDS)) {
      for (const field of fields) {
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
