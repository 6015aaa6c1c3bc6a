/** The RFC 7386 merge patch that turns `from` into `to`: removed keys become null, arrays are replaced. */
export function mergePatch(from: unknown, to: unknown): unknown {
  if (!isPlainObject(from) || !isPlainObject(to)) return to;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(from)) if (!(key in to) || to[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    if (!(key in from)) patch[key] = value;
    else if (JSON.stringify(from[key]) !== JSON.stringify(value)) patch[key] = mergePatch(from[key], value);
  }
  return patch;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
