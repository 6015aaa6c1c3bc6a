/**
 * DESIGN §8, fuzzed (issue 13 item 5): arbitrary group specs (hostile keys, paths, ports, schemes)
 * and member Rollouts go through the zod schema, the validation and the planner, a few reconciles
 * in a row with each status fed back. Whatever the input: plan() never throws, writes only to the
 * group's members (and former members), never writes a refused key or one outside the allow-list,
 * every address it writes leads to a Service of the namespace, and in consent mode no member that
 * did not consent is written to.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUTHORIZED_GROUP_ANNOTATION, RolloutGroup, defaultAddressAnnotation, type Member } from '../../../src/api/rolloutgroup.ts';
import { Rollout, Service, type ReplicaSet, type RolloutView } from '../../../src/api/rollout.ts';
import { consents, refusedDomainOf, type AuthorityPolicy } from '../../../src/planner/authority.ts';
import type { Observed } from '../../../src/planner/observed.ts';
import { pinKeyOf } from '../../../src/planner/pins.ts';
import { plan } from '../../../src/planner/plan.ts';
import type { Action } from '../../../src/planner/plan-types.ts';
import { NS, T0, blueGreen, canary } from '../../fixtures/builders.ts';

const POOL = ['a', 'b', 'c', 'd'] as const;
const HOSTILE_KEYS = [
  'kubernetes.io/x',
  'container.apparmor.security.beta.kubernetes.io/app',
  'k8s.io/x',
  'node.k8s.io/y',
  'argoproj.io/z',
  'rollout.argoproj.io/revision',
  'sidecar.istio.io/inject',
  'tandem.dev/q',
  'acme.example/url',
  'url',
];
const HOSTILE_PATHS = ['@evil.example/x', '//evil.example/x', '/\\evil.example', ':9090/x', '.evil.example', '#@evil', '?@evil.example', '/ok', '/@evil.example', '', '/%2F%2Fevil'];

// Mostly what the schema admits and a sound group needs, so most inputs reach the planner and get written.
const key = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('tandem.dev/q', 'acme.example/url', 'url', 'tandem.dev/other') },
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_KEYS) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('', 'x.', 'kubernetes.', 'a.b.'), fc.constantFrom('kubernetes.io', 'k8s.io', 'argoproj.io', 'example.com', 'io'), fc.string({ minLength: 1, maxLength: 8 }))
      .map(([sub, d, n]) => `${sub}${d}/${n}`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const path = fc.oneof(
  { weight: 6, arbitrary: fc.webPath() },
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_PATHS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.webUrl().map((u) => u.replace(/^[a-z]+:/, '')) },
);
const maybe = <T>(a: fc.Arbitrary<T>, weight = 1) => fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight, arbitrary: a });
const dependency = (names: readonly string[]) =>
  fc.record({
    rollout: fc.constantFrom(...names),
    annotation: maybe(key, 3),
    port: maybe(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(8080, 80, 9090, 'http', 'metrics', 'HTTP', '8080') }, { weight: 1, arbitrary: fc.integer({ min: -1, max: 70000 }) }, { weight: 1, arbitrary: fc.string({ maxLength: 16 }) })),
    scheme: maybe(fc.oneof({ weight: 8, arbitrary: fc.constantFrom('http', 'https', 'amqp', 'file', 'javascript', 'http+unix') }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) })),
    path: maybe(path, 3),
  });
const annotations = maybe(fc.dictionary(key, fc.string({ maxLength: 12 }), { maxKeys: 2 }));
const members = fc
  .uniqueArray(fc.oneof({ weight: 19, arbitrary: fc.constantFrom(...POOL) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }), { minLength: 1, maxLength: 3 })
  .chain((names) =>
    fc.tuple(
      ...names.map((rollout, i) =>
        fc.record({
          rollout: fc.constant(rollout),
          // Mostly on earlier members (no cycles); a few on any, and on themselves.
          dependsOn: fc.uniqueArray(dependency(i > 0 && names.length > 1 ? names.slice(0, i) : names), { maxLength: 2, selector: (d) => d.rollout }),
          roleAnnotations: maybe(fc.record({ preview: annotations, active: annotations })),
        }),
      ),
    ),
  );
const rolloutState = fc.record({
  canary: fc.boolean(),
  changed: fc.boolean(),
  available: fc.nat(3).map((n) => n > 0),
  abort: fc.nat(9).map((n) => n === 0),
  consentTo: fc.constantFrom(undefined, 'g', 'g', 'g', 'other'),
  present: fc.nat(9).map((n) => n > 0),
  servicePort: fc.record({ name: fc.constantFrom('http', 'metrics'), port: fc.constantFrom(8080, 80, 9090) }),
  servicesExist: fc.nat(9).map((n) => n > 0),
});
const input = fc.record({
  members,
  strategy: fc.constantFrom('Lockstep', 'Ordered'),
  auto: fc.boolean(),
  rollouts: fc.tuple(...POOL.map(() => rolloutState)),
  policy: fc.record({
    annotationPrefixes: fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.subarray(['tandem.dev/', 'acme.example/', 'url']) }),
    requireConsent: fc.nat(2).map((n) => n === 0),
  }),
  promote: fc.boolean(),
  steps: fc.integer({ min: 1, max: 4 }),
});
type Input = typeof input extends fc.Arbitrary<infer T> ? T : never;

function world(i: Input): { views: RolloutView[]; replicaSets: ReplicaSet[]; services: Map<string, Service> } {
  const views: RolloutView[] = [];
  const replicaSets: ReplicaSet[] = [];
  const services = new Map<string, Service>();
  POOL.forEach((name, n) => {
    const s = i.rollouts[n]!;
    if (!s.present) return;
    const desired = s.changed ? `${name}2` : `${name}1`;
    const built = s.canary
      ? canary({ name, stable: `${name}1`, desired, barriers: 1, ...(s.changed ? { atBarrier: 0 } : {}), available: s.available, abort: s.abort })
      : blueGreen({ name, stable: `${name}1`, desired, previewAvailable: s.available, abort: s.abort });
    const meta = built.view.rollout.metadata;
    const rollout = Rollout.parse({ ...built.view.rollout, metadata: { ...meta, ...(s.consentTo ? { annotations: { [AUTHORIZED_GROUP_ANNOTATION]: s.consentTo } } : {}) } });
    views.push({ rollout, owned: built.view.owned });
    replicaSets.push(...built.replicaSets);
    if (!s.servicesExist) return;
    for (const role of s.canary ? ['canary', 'stable'] : ['active', 'preview']) {
      const svc = `${name}-${role}`;
      services.set(svc, Service.parse({ metadata: { name: svc, namespace: NS }, spec: { selector: { app: name }, ports: [s.servicePort] } }));
    }
  });
  return { views, replicaSets, services };
}

/** Every annotation a plan writes onto a Rollout, a ReplicaSet or pods, with the Rollout it goes to. */
function writtenKeys(actions: readonly Action[]): { rollout: string; key: string; value: string | null }[] {
  return actions.flatMap((a) => {
    if (a.kind === 'ApplyMetadata') return Object.values(a.metadata).flatMap((m) => Object.entries(m ?? {}).map(([key, value]) => ({ rollout: a.rollout, key, value })));
    if (a.kind === 'Pin') return Object.entries(a.annotations).map(([key, value]) => ({ rollout: a.rollout, key, value }));
    return [];
  });
}

const stats = { runs: 0, parsed: 0, valid: 0, wrote: 0, addresses: 0, refusedInSpec: 0 };

function check(i: Input, raw: unknown): void {
  stats.runs++;
  const parsed = RolloutGroup.safeParse(raw);
  // The reconciler reports a group zod cannot read and plans nothing for it.
  if (!parsed.success) return;
  stats.parsed++;
  let g = parsed.data;
  const { views, replicaSets, services } = world(i);
  const rollouts = new Map(views.map((v) => [v.rollout.metadata.name, v]));
  const policy: AuthorityPolicy = i.policy;
  const members = new Set(g.spec.members.map((m) => m.rollout));
  const specKeys = new Set(g.spec.members.flatMap((m: Member) => [...m.dependsOn.map((d) => d.annotation ?? defaultAddressAnnotation(d.rollout)), ...Object.keys(m.roleAnnotations?.preview ?? {}), ...Object.keys(m.roleAnnotations?.active ?? {})]));
  // A member's own dependencies' keys carry addresses (the same key in its roleAnnotations is invalid).
  const addressKeys = new Map(g.spec.members.map((m: Member) => [m.rollout, new Set(m.dependsOn.map((d) => d.annotation ?? defaultAddressAnnotation(d.rollout)))]));
  if ([...specKeys].some((k) => refusedDomainOf(k))) stats.refusedInSpec++;
  const fqdns = new Set([...services.keys()].map((s) => `${s}.${NS}.svc.cluster.local`));

  for (let step = 0; step < i.steps; step++) {
    const o: Observed = { now: T0 + step * 60_000, clusterDomain: 'cluster.local', group: g, rollouts, replicaSets, services, peers: [], authority: policy };
    const p = plan(o); // must not throw
    const valid = p.status?.conditions.find((c) => c.type === 'SpecValid')?.status === 'True';
    if (valid) stats.valid++;
    const formers = new Set((g.status?.members ?? []).map((m) => m.rollout));
    for (const a of p.actions) {
      if (!('rollout' in a)) continue;
      stats.wrote++;
      // Only the group's members and former members, never another Rollout of the namespace.
      expect(members.has(a.rollout) || formers.has(a.rollout), `write to ${a.rollout}`).toBe(true);
      if (a.kind === 'Pin') expect(replicaSets.some((rs) => rs.metadata.name === a.replicaSet && rs.metadata.ownerReferences.some((r) => r.kind === 'Rollout' && r.name === a.rollout))).toBe(true);
      // In consent mode, nothing but releasing Tandem's own keys touches a member that did not consent.
      const releasing = a.kind === 'ApplyMetadata' && Object.keys(a.metadata).length === 0;
      if (policy.requireConsent && !releasing) expect(consents(rollouts.get(a.rollout)!.rollout, g.metadata.name), `write to ${a.rollout} without consent`).toBe(true);
    }
    for (const w of writtenKeys(p.actions)) {
      expect(refusedDomainOf(w.key), `refused key ${w.key}`).toBeUndefined();
      const named = w.key.startsWith('pin.') && !specKeys.has(w.key) ? w.key.slice('pin.'.length) : w.key;
      expect(specKeys.has(named), `key ${w.key} named by the spec`).toBe(true);
      const prefixes = policy.annotationPrefixes ?? [];
      if (prefixes.length > 0) expect(prefixes.some((pre) => named.startsWith(pre)), `key ${named} allowed`).toBe(true);
      const isAddress = addressKeys.get(w.rollout)?.has(named) === true;
      if (isAddress && w.value !== null) {
        stats.addresses++;
        const u = new URL(w.value);
        expect(fqdns.has(u.hostname), `address ${w.value}`).toBe(true);
        expect(u.username + u.password).toBe('');
      }
    }
    if (!p.status) break;
    g = { ...g, status: p.status, metadata: { ...g.metadata, finalizers: ['tandem.dev/release-metadata'], annotations: i.promote && p.status.release ? { 'tandem.dev/promote': p.status.release.id } : {} } };
  }
}

describe('least authority, fuzzed', () => {
  it('whatever the spec and the members, the planner stays inside the group, its keys and its Services', { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(input, (i) => {
        const raw = {
          metadata: { name: 'g', namespace: NS, uid: 'u', generation: 1, resourceVersion: '1', creationTimestamp: '2025-12-01T00:00:00Z' },
          // JSON drops the undefined fields, as the API server would never have stored them.
          spec: JSON.parse(JSON.stringify({ strategy: i.strategy, members: i.members, promotion: { auto: i.auto, soakSeconds: 0 } })) as unknown,
        };
        check(i, raw);
      }),
      { numRuns: 1500 },
    );
    // The inputs reach every stage: a fuzz that only ever fed the schema would prove nothing.
    console.log('least authority fuzz:', stats);
    expect(stats.parsed).toBeGreaterThan(stats.runs * 0.2);
    expect(stats.valid).toBeGreaterThan(50);
    expect(stats.wrote).toBeGreaterThan(50);
    expect(stats.addresses).toBeGreaterThan(50);
    expect(stats.refusedInSpec).toBeGreaterThan(50);
    // A refused key written to a pod would also have been seen: pin keys derive from spec keys.
    expect(pinKeyOf('tandem.dev/x')).toBe('pin.tandem.dev/x');
  });
});
