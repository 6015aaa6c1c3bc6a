import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { MAX_ROLE_ANNOTATIONS, RolloutGroupSpec, RolloutGroupStatus } from '../../../src/api/rolloutgroup.ts';

type Schema = Record<string, unknown> & {
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  anyOf?: Schema[];
  required?: string[];
  propertyNames?: Schema;
};

const crd = parse(readFileSync(new URL('../../../crds/rolloutgroup.yaml', import.meta.url), 'utf8'));
const version = crd.spec.versions[0];
const root = version.schema.openAPIV3Schema as Schema;
const jsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Schema;
const BOUNDS = ['enum', 'minItems', 'maxItems', 'minLength', 'maxLength', 'minimum', 'maximum', 'pattern'] as const;
/** RegExp#source writes '/' as '\\/'; both mean the same character. */
const unescapeSlash = (v: unknown) => (typeof v === 'string' ? v.replaceAll('\\/', '/') : v);

/** Walks both schemas and lists every difference, with its path. */
const rulesOf = (s: Schema) => ((s['x-kubernetes-validations'] as { rule: string }[] | undefined) ?? []).map((r) => r.rule).join(' ');

/**
 * A discriminated union (status.release, one object per state) as the one object the CRD declares:
 * every variant's fields, the discriminator's values as an enum, a field absent in a state ignored.
 */
function merged(zodNode: Schema): Schema {
  const variants = (zodNode['oneOf'] ?? zodNode.anyOf) as Schema[] | undefined;
  if (!variants || !variants.every((v) => v.type === 'object')) return zodNode;
  const properties: Record<string, Schema> = {};
  for (const v of variants) {
    for (const [k, p] of Object.entries(v.properties ?? {})) {
      if (p['const'] !== undefined) {
        const prev = (properties[k]?.enum as unknown[] | undefined) ?? [];
        properties[k] = { type: p.type, enum: [...prev, p['const']] };
      } else if (p.type !== undefined || !properties[k]) properties[k] = properties[k]?.type !== undefined && p.type === undefined ? properties[k]! : p;
    }
  }
  return { type: 'object', properties };
}

function differences(crdNode: Schema, zodInput: Schema, path: string, strict: boolean, parentRules = ''): string[] {
  const out: string[] = [];
  const zodNode = merged(zodInput);
  if (crdNode['x-kubernetes-int-or-string']) {
    const a = crdNode.anyOf ?? [];
    const b = zodNode.anyOf ?? [];
    if (a.length !== b.length) return [`${path}: anyOf has ${a.length} vs ${b.length} branches`];
    // Structural schemas forbid bounds in int-or-string branches, and CEL on the field itself is
    // over the cost budget: the parent object's CEL rule states them.
    const field = `self.${path.slice(path.lastIndexOf('.') + 1)}`;
    const rule = parentRules;
    b.forEach((branch, i) => {
      if (a[i]!.type !== branch.type) out.push(`${path}|${i}: type ${String(a[i]!.type)} vs ${String(branch.type)}`);
      const bounds = [
        branch.minimum !== undefined && `${field} >= ${String(branch.minimum)}`,
        branch.maximum !== undefined && `${field} <= ${String(branch.maximum)}`,
        branch.minLength !== undefined && `size(${field}) >= ${String(branch.minLength)}`,
        branch.maxLength !== undefined && `size(${field}) <= ${String(branch.maxLength)}`,
      ].filter((x): x is string => typeof x === 'string');
      for (const bound of bounds) if (!rule.includes(bound)) out.push(`${path}|${i}: no CEL rule says ${bound}`);
      // A pattern is stated on the field itself (it applies to string values only): cheaper than CEL.
      if (branch.pattern !== crdNode.pattern && (branch.type === 'string' || branch.pattern !== undefined)) out.push(`${path}|${i}: pattern ${String(crdNode.pattern)} vs ${String(branch.pattern)}`);
    });
    return out;
  }
  if (crdNode.type !== zodNode.type) out.push(`${path}: type ${String(crdNode.type)} vs ${String(zodNode.type)}`);
  if (strict) {
    for (const k of BOUNDS) {
      if (JSON.stringify(crdNode[k]) !== JSON.stringify(unescapeSlash(zodNode[k]))) out.push(`${path}: ${k} ${JSON.stringify(crdNode[k])} vs ${JSON.stringify(zodNode[k])}`);
    }
    if (crdNode.type !== 'object' && JSON.stringify(crdNode.default) !== JSON.stringify(zodNode.default)) {
      out.push(`${path}: default ${JSON.stringify(crdNode.default)} vs ${JSON.stringify(zodNode.default)}`);
    }
    const req = (s: Schema) => JSON.stringify([...(s.required ?? [])].sort());
    if (req(crdNode) !== req(zodNode)) out.push(`${path}: required ${req(crdNode)} vs ${req(zodNode)}`);
  } else if (JSON.stringify(crdNode.enum) !== JSON.stringify(zodNode.enum)) {
    out.push(`${path}: enum ${JSON.stringify(crdNode.enum)} vs ${JSON.stringify(zodNode.enum)}`);
  }
  const cp = crdNode.properties ?? {};
  const zp = zodNode.properties ?? {};
  for (const k of new Set([...Object.keys(cp), ...Object.keys(zp)])) {
    if (!cp[k] || !zp[k]) out.push(`${path}.${k}: only in ${cp[k] ? 'CRD' : 'zod'}`);
    else out.push(...differences(cp[k], zp[k], `${path}.${k}`, strict, rulesOf(crdNode)));
  }
  if (crdNode.items && zodNode.items) out.push(...differences(crdNode.items, zodNode.items, `${path}[]`, strict));
  else if (crdNode.items || zodNode.items) out.push(`${path}: items only in one schema`);
  if (crdNode.additionalProperties && zodNode.additionalProperties) {
    out.push(...differences(crdNode.additionalProperties, zodNode.additionalProperties, `${path}{}`, strict));
  }
  if (zodNode.propertyNames) {
    // CRDs cannot say propertyNames: the CRD checks map keys with a CEL rule using the same pattern.
    const rules = (crdNode['x-kubernetes-validations'] as { rule: string }[] | undefined) ?? [];
    const pattern = String(unescapeSlash(zodNode.propertyNames.pattern));
    const length = String(zodNode.propertyNames.maxLength);
    if (!rules.some((r) => r.rule.includes(`'${pattern}'`) && r.rule.includes(`size(k) <= ${length}`))) {
      out.push(`${path}: no CEL rule checks keys against ${pattern}`);
    }
    if (crdNode.maxProperties !== MAX_ROLE_ANNOTATIONS) out.push(`${path}: maxProperties ${String(crdNode.maxProperties)}`);
  }
  return out;
}

describe('the CRD and the zod schemas', () => {
  it('agree on the spec: fields, types, enums, bounds, patterns, defaults and required fields', () => {
    expect(differences(root.properties!['spec']!, jsonSchema(RolloutGroupSpec), 'spec', true)).toEqual([]);
  });

  it('agree on the status fields and their types', () => {
    expect(differences(root.properties!['status']!, jsonSchema(RolloutGroupStatus), 'status', false)).toEqual([]);
  });

  it('the walker does find a difference', () => {
    const changed = structuredClone(root.properties!['spec']!);
    changed.properties!['members']!.maxItems = 49;
    expect(differences(changed, jsonSchema(RolloutGroupSpec), 'spec', true)).toEqual(['spec.members: maxItems 49 vs 50']);
  });

  it('declares the names, status subresource and printer columns of DESIGN §1', () => {
    expect(crd.spec.names).toMatchObject({ kind: 'RolloutGroup', plural: 'rolloutgroups', shortNames: ['rg'] });
    expect(crd.spec.group).toBe('tandem.dev');
    expect(version.name).toBe('v1alpha1');
    expect(version.subresources).toEqual({ status: {} });
    expect(version.additionalPrinterColumns.map((c: { name: string; priority?: number }) => [c.name, c.priority ?? 0])).toEqual([
      ['Strategy', 0],
      ['Phase', 0],
      ['Release', 0],
      ['Ready', 0],
      ['Age', 0],
      ['Message', 1],
    ]);
  });

  it('bounds every list and string in the spec', () => {
    const unbounded: string[] = [];
    const walk = (s: Schema, path: string) => {
      if (s.type === 'array' && s.maxItems === undefined) unbounded.push(path);
      if (s.type === 'string' && s.maxLength === undefined && s.enum === undefined) unbounded.push(path);
      if (s.type === 'object' && s.additionalProperties && s.maxProperties === undefined) unbounded.push(path);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
      if (s.additionalProperties) walk(s.additionalProperties, `${path}{}`);
      for (const [i, b] of (s.anyOf ?? []).entries()) walk(b, `${path}|${i}`);
    };
    walk(root.properties!['spec']!, 'spec');
    // The string branch of an int-or-string cannot carry maxLength; its CEL bound is checked above.
    expect(unbounded).toEqual(['spec.members[].dependsOn[].port|1']);
  });
});
