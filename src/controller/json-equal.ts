/**
 * Whether two values are equal as JSON: the same keys and values whatever their order, a property
 * whose value is undefined the same as an absent one (JSON.stringify drops it). This is the
 * comparison of a planned status with the stored one on every reconcile; it used to serialise both
 * as canonical JSON (sorted copies of every object, then two strings), 6 % of the controller's busy
 * time in a storm. util.isDeepStrictEqual and the deep-equal packages treat `{a: undefined}` and
 * `{}` as different, which would make a status write of every plan that leaves a field undefined.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let defined = 0;
  for (const k in ra) {
    if (ra[k] === undefined) continue;
    defined++;
    if (!jsonEqual(ra[k], rb[k])) return false;
  }
  for (const k in rb) if (rb[k] !== undefined) defined--;
  return defined === 0;
}
