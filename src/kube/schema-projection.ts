import type { z } from 'zod';

/**
 * What of an object a zod schema declares: objects keep only the keys their shape names, arrays are
 * projected item by item, everything else (records, unions, scalars) is kept whole, as are the paths
 * in `whole` (dotted, `[]` for array items). Written here because informer caches must hold only what
 * the schemas of src/api/ read, and zod has no "strip unknown keys" walk for loose objects.
 */
export function project(schema: z.ZodType, value: unknown, whole: ReadonlySet<string> = new Set(), path = ''): unknown {
  if (value === null || value === undefined || whole.has(path)) return value;
  const def = schema.def as { type: string; innerType?: z.ZodType; element?: z.ZodType; in?: z.ZodType };
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return project(def.innerType!, value, whole, path);
    case 'pipe':
      return project(def.in!, value, whole, path);
    case 'array':
      return Array.isArray(value) ? value.map((v) => project(def.element!, v, whole, `${path}[]`)) : value;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const shape = (schema as unknown as { shape: Record<string, z.ZodType> }).shape;
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(shape)) {
        const v = (value as Record<string, unknown>)[key];
        if (v !== undefined) out[key] = project(child, v, whole, path ? `${path}.${key}` : key);
      }
      return out;
    }
    default:
      return value;
  }
}
