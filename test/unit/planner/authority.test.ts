/** DESIGN §8 at the planner: refused keys, the allow-list, hostile paths and consent mode. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Rollout } from '../../../src/api/rollout.ts';
import { AUTHORIZED_GROUP_ANNOTATION, Dependency, PATH_PATTERN } from '../../../src/api/rolloutgroup.ts';
import { REFUSED_KEY_PATTERN, keyProblem, refusedDomainOf, type AuthorityPolicy } from '../../../src/planner/authority.ts';
import { plan } from '../../../src/planner/plan.ts';
import { addressOf } from '../../../src/planner/wiring.ts';
import { blueGreen, group, observed, services, url, type GroupInput } from '../../fixtures/builders.ts';

const crdText = readFileSync(new URL('../../../crds/rolloutgroup.yaml', import.meta.url), 'utf8');

describe('refused annotation keys', () => {
  it.each([
    ['kubernetes.io/x', 'kubernetes.io'],
    ['container.apparmor.security.beta.kubernetes.io/app', 'kubernetes.io'],
    ['k8s.io/x', 'k8s.io'],
    ['node.k8s.io/x', 'k8s.io'],
    ['argoproj.io/x', 'argoproj.io'],
    ['rollouts-pod-template-hash.argoproj.io/x', 'argoproj.io'],
    ['KUBERNETES.IO/x', 'kubernetes.io'],
  ])('%s is in the refused domain %s', (key, domain) => {
    expect(refusedDomainOf(key)).toBe(domain);
    expect(new RegExp(REFUSED_KEY_PATTERN).test(key.toLowerCase())).toBe(true);
  });

  it.each(['tandem.dev/interest-url', 'sidecar.istio.io/inject', 'notkubernetes.io/x', 'kubernetes.io', 'x', 'kubernetes.io.example.com/x', 'example.com/kubernetes.io'])(
    '%s is not in a refused domain',
    (key) => {
      expect(refusedDomainOf(key)).toBeUndefined();
      expect(new RegExp(REFUSED_KEY_PATTERN).test(key)).toBe(false);
    },
  );

  it('the CRD refuses the same keys with the same pattern, for dependsOn and both roleAnnotations maps', () => {
    expect(crdText.split(`matches('${REFUSED_KEY_PATTERN}')`).length - 1).toBe(3);
  });

  it('the allow-list admits only keys with an allowed prefix, and never a refused domain', () => {
    const policy: AuthorityPolicy = { annotationPrefixes: ['tandem.dev/', 'acme.example/'] };
    expect(keyProblem('tandem.dev/x', policy)).toBeUndefined();
    expect(keyProblem('acme.example/queue', policy)).toBeUndefined();
    expect(keyProblem('sidecar.istio.io/inject', policy)).toContain('does not start with an allowed prefix (tandem.dev/, acme.example/)');
    expect(keyProblem('sidecar.istio.io/inject', undefined)).toBeUndefined();
    expect(keyProblem('k8s.io/x', { annotationPrefixes: ['k8s.io/'] })).toContain('in the k8s.io domain');
  });
});

describe('addresses', () => {
  const svcs = services('interest');
  const interest = blueGreen({ name: 'interest', stable: 'i1' }).view.rollout;
  const address = (dep: Record<string, unknown>) => addressOf(Dependency.parse({ rollout: 'interest', ...dep }), interest, 'active', svcs, 'cluster.local');

  it('a path that would make the Service a user name is refused by the URL parser, even past the schema', () => {
    // The schema refuses this path (below); a spec that skipped it still never leaves the Service.
    const unchecked = { rollout: 'interest', scheme: 'http', path: '@evil.example/x' } satisfies Dependency;
    const r = addressOf(unchecked, interest, 'active', svcs, 'cluster.local');
    expect(r).toMatchObject({ ok: false, refused: true });
    expect(!r.ok && r.problem).toContain('would reach host evil.example');
  });

  it.each(['@evil.example/x', '//evil.example/x', '\\\\evil.example', ' /x', ':9090/x', '.evil.example/x'])('the schema refuses the path %j', (path) => {
    expect(new RegExp(PATH_PATTERN).test(path)).toBe(false);
    expect(Dependency.safeParse({ rollout: 'interest', path }).success).toBe(false);
  });

  it.each(['', '/', '/v1/rates?currency=eur#top', '?q=1', '#frag', '/@user/x', '/a:b@c'])('the path %j stays on the Service', (path) => {
    expect(new RegExp(PATH_PATTERN).test(path)).toBe(true);
    const r = address({ path });
    expect(r).toEqual({ ok: true, url: `${url('interest-active')}${path}` });
    expect(new URL(r.ok ? r.url : '').hostname).toBe('interest-active.shop.svc.cluster.local');
  });

  it('the CRD carries the same path pattern', () => {
    const crd = parse(crdText);
    const dep = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.members.items.properties.dependsOn.items;
    expect(dep.properties.path.pattern).toBe(PATH_PATTERN);
  });

  it('a scheme without authority the URL parser accepts is refused when the host it parses differs', () => {
    // `file:` URLs cannot carry a port: the parser rejects them, so no address is written.
    expect(address({ scheme: 'file' })).toMatchObject({ ok: false, refused: true });
    expect(address({ scheme: 'amqp', path: '/vhost' })).toEqual({ ok: true, url: 'amqp://interest-active.shop.svc.cluster.local:8080/vhost' });
  });
});

const KEY = 'tandem.dev/interest-url';
const members = (extra: Record<string, unknown> = {}): GroupInput['members'] => [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: [{ rollout: 'interest', ...extra }] }];
const consenting = (m: ReturnType<typeof blueGreen>, group: string | undefined) => {
  if (group === undefined) return m;
  const rollout = Rollout.parse({ ...m.view.rollout, metadata: { ...m.view.rollout.metadata, annotations: { [AUTHORIZED_GROUP_ANNOTATION]: group } } });
  return { ...m, view: { ...m.view, rollout } };
};
function planFor(g: Partial<GroupInput>, authority?: AuthorityPolicy, consent: { interest?: string; loan?: string } = {}) {
  const o = observed(group({ members: members(), ...g }), [
    consenting(blueGreen({ name: 'interest', stable: 'i1', desired: 'i2' }), consent.interest),
    consenting(blueGreen({ name: 'loan', stable: 'l1' }), consent.loan),
  ]);
  return plan({ ...o, authority });
}
const specValid = (p: ReturnType<typeof plan>) => p.status?.conditions.find((c) => c.type === 'SpecValid');
const rolloutWrites = (p: ReturnType<typeof plan>) => p.actions.filter((a) => 'rollout' in a);

describe('the planner refuses, reports and touches nothing', () => {
  it('a refused dependsOn key (a group stored before the CRD rule)', () => {
    const p = planFor({ members: members({ annotation: 'kubernetes.io/interest' }), auto: true });
    expect(specValid(p)).toMatchObject({ status: 'False', reason: 'AnnotationKeyRefused' });
    expect(specValid(p)!.message).toContain('member loan, dependsOn[interest].annotation: annotation key kubernetes.io/interest is in the kubernetes.io domain');
    expect(rolloutWrites(p)).toEqual([]);
  });

  it('a refused roleAnnotations key', () => {
    const p = planFor({ members: [{ rollout: 'interest', roleAnnotations: { preview: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } } }, { rollout: 'loan' }] });
    expect(specValid(p)).toMatchObject({ status: 'False', reason: 'AnnotationKeyRefused' });
    expect(specValid(p)!.message).toContain('member interest, roleAnnotations.preview');
    expect(rolloutWrites(p)).toEqual([]);
  });

  it('a roleAnnotations key that is also a dependency’s address key: one key, one writer (found by the fuzzed test: the role value went out under the address key while no address could be given)', () => {
    const p = planFor({ members: [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: [{ rollout: 'interest' }], roleAnnotations: { preview: { 'tandem.dev/interest-url': '' } } }] });
    expect(specValid(p)).toMatchObject({ status: 'False', reason: 'MemberMisconfigured' });
    expect(specValid(p)!.message).toContain("rollout loan: roleAnnotations.preview names tandem.dev/interest-url, which is a dependency's address annotation");
    expect(rolloutWrites(p)).toEqual([]);
  });

  it('a key outside the controller’s allow-list, and the default address key inside it', () => {
    const policy = { annotationPrefixes: ['tandem.dev/'] };
    const refused = planFor({ members: [{ rollout: 'interest', roleAnnotations: { active: { 'sidecar.istio.io/inject': 'false' } } }, { rollout: 'loan', dependsOn: [{ rollout: 'interest' }] }] }, policy);
    expect(specValid(refused)).toMatchObject({ status: 'False', reason: 'AnnotationKeyRefused' });
    expect(rolloutWrites(refused)).toEqual([]);
    const allowed = planFor({}, policy);
    expect(specValid(allowed)).toMatchObject({ status: 'True' });
    expect(rolloutWrites(allowed).length).toBeGreaterThan(0);
  });

  it('consent mode: a member without the annotation naming the group is MemberNotAuthorized', () => {
    const p = planFor({ auto: true }, { requireConsent: true }, { interest: 'loans', loan: 'other-group' });
    expect(specValid(p)).toMatchObject({ status: 'False', reason: 'MemberNotAuthorized' });
    expect(specValid(p)!.message).toBe(`rollout loan does not consent to group loans: whoever may edit it must annotate it ${AUTHORIZED_GROUP_ANNOTATION}=loans`);
    expect(rolloutWrites(p)).toEqual([]);
  });

  it('consent mode: members that name the group are driven as usual', () => {
    const p = planFor({ auto: true }, { requireConsent: true }, { interest: 'loans', loan: 'loans' });
    expect(specValid(p)).toMatchObject({ status: 'True' });
    expect(p.actions.map((a) => a.kind)).toContain('ApplyMetadata');
    const wired = p.actions.find((a) => a.kind === 'ApplyMetadata' && a.rollout === 'loan');
    expect(wired && wired.kind === 'ApplyMetadata' && wired.metadata.activeMetadata?.[KEY]).toBe(url('interest-active'));
  });

  it('without consent mode the annotation is not needed', () => {
    expect(specValid(planFor({}))).toMatchObject({ status: 'True' });
  });
});
