/**
 * Parses each cached object once per change of it. An informer's cache replaces an object on every
 * change (never mutates it), so the raw object's identity is its version: a WeakMap keyed by it
 * holds the parse for as long as the cache holds the object, and no longer. Every reconcile used to
 * parse its group, Rollouts, ReplicaSets and Services with zod again: in a storm that was a fifth
 * of the controller's busy time, and most of the garbage that grew V8's heap.
 *
 * The parsed value is shared by every reconcile that reads it, so it is frozen: a reader that
 * mutated it would change what the next reconcile observes, and now throws instead (ESM is strict).
 */
export interface Schema<T> {
  safeParse(raw: unknown): { success: true; data: T } | { success: false; error: { message: string; issues: readonly { path: PropertyKey[]; message: string }[] } };
}

export type Parsed<T> = ReturnType<Schema<T>['safeParse']>;

export function parseOnce<T>(schema: Schema<T>): (raw: object) => Parsed<T> {
  const parsed = new WeakMap<object, Parsed<T>>();
  return (raw) => {
    let result = parsed.get(raw);
    if (result === undefined) {
      result = schema.safeParse(raw);
      if (result.success) deepFreeze(result.data);
      parsed.set(raw, result);
    }
    return result;
  };
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}
