/** The admission policy of DESIGN §8 as shipped: generated, complete, and within CEL's cost budget. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { MAX_MEMBERS } from '../../../src/api/rolloutgroup.ts';
import { MEMBERS_PER_POLICY, render } from '../../../scripts/admission-policy.ts';

type Validation = { expression: string; messageExpression: string; reason: string };
type Doc = { kind: string; metadata: { name: string }; spec: { policyName?: string; variables?: { name: string; expression: string }[]; validations?: Validation[]; matchConditions?: { expression: string }[] } };
const docs = parseAllDocuments(readFileSync('config/admission/member-authority.yaml', 'utf8')).map((d) => d.toJS() as Doc);
const policies = docs.filter((d) => d.kind === 'ValidatingAdmissionPolicy');
// Fixed by the API server (k8s.io/apiserver: cel/library/cost.go, apis/cel/config.go).
const CHECK_COST = 350_000;
const PER_EXPRESSION = 1_000_000;
const PER_BINDING = 10_000_000;
const checks = (e: string) => e.split('.check(').length - 1;

describe('config/admission/member-authority.yaml', () => {
  it('is what scripts/admission-policy.ts generates', () => {
    expect(readFileSync('config/admission/member-authority.yaml', 'utf8')).toBe(render());
  });

  it('checks both verbs on every member index a group can have, each policy bound', () => {
    const covered = policies.flatMap((p) => p.spec.validations!.map((v) => /variables\.members\[(\d+)\]\.rollout\)\.check\('patch'\)/.exec(v.expression)?.[1] + (v.expression.includes(".subresource('status')") ? '/status' : '')));
    const want = Array.from({ length: MAX_MEMBERS }, (_, i) => [`${i}`, `${i}/status`]).flat();
    expect(covered).toEqual(want);
    for (const p of policies) expect(docs.some((d) => d.kind === 'ValidatingAdmissionPolicyBinding' && d.spec.policyName === p.metadata.name)).toBe(true);
  });

  it('every message names the member and the verb it lacks', () => {
    for (const p of policies) {
      for (const v of p.spec.validations!) {
        const i = /members\[(\d+)\]/.exec(v.expression)![1];
        expect(v.messageExpression).toContain(`variables.members[${i}].rollout`);
        expect(v.messageExpression).toContain(v.expression.includes(".subresource('status')") ? 'may not patch rollouts/status of member' : 'may not patch rollouts of member');
        expect(v.reason).toBe('Forbidden');
      }
    }
  });

  it('stays within the per-expression and per-binding cost of authorizer checks, even when every check runs', () => {
    for (const p of policies) {
      const exprs = [...p.spec.variables!.map((v) => v.expression), ...p.spec.validations!.map((v) => v.expression)];
      for (const e of exprs) expect(checks(e) * CHECK_COST).toBeLessThan(PER_EXPRESSION);
      const worst = exprs.reduce((n, e) => n + checks(e), 0) * CHECK_COST;
      expect(worst).toBeLessThan(PER_BINDING);
      expect(p.spec.validations!.length).toBeLessThanOrEqual(2 * MEMBERS_PER_POLICY);
    }
  });
});
