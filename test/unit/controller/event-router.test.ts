import { describe, expect, it } from 'vitest';
import { EventRouter, type RouterCaches } from '../../../src/controller/event-router.ts';
import type { ObjectChange } from '../../../src/kube/gateway.ts';

/** Caches as plain maps: the router's whole view of the cluster. */
class FakeCaches implements RouterCaches {
  readonly groups = new Map<string, Record<string, unknown>>();
  readonly rollouts = new Map<string, readonly string[]>();
  getGroup = (ns: string, name: string) => this.groups.get(`${ns}/${name}`);
  listGroups = () => [...this.groups.values()];
  rolloutServices = (ns: string, name: string) => this.rollouts.get(`${ns}/${name}`);
  listRolloutServices = () => [...this.rollouts].map(([k, services]) => ({ namespace: k.split('/')[0]!, name: k.split('/')[1]!, services }));
  groupsNamingTemplate = (ns: string | undefined, name: string, clusterScope: boolean) =>
    [...this.groups.values()]
      .filter((g) => (ns === undefined || (g['metadata'] as { namespace: string }).namespace === ns) && JSON.stringify(g['spec']).includes(`"templateName":"${name}","clusterScope":${clusterScope}`))
      .map((g) => g['metadata'] as { namespace: string; name: string });
}

const group = (ns: string, name: string, members: string[], extra: { status?: object; created?: string; deleting?: boolean; rv?: string } = {}) => ({
  apiVersion: 'tandem.dev/v1alpha1',
  kind: 'RolloutGroup',
  metadata: {
    name,
    namespace: ns,
    uid: `uid-${name}`,
    resourceVersion: extra.rv ?? '1',
    generation: 1,
    creationTimestamp: extra.created ?? '2026-01-01T00:00:00Z',
    ...(extra.deleting ? { deletionTimestamp: '2026-01-02T00:00:00Z' } : {}),
  },
  spec: { members: members.map((rollout) => ({ rollout })) },
  ...(extra.status ? { status: extra.status } : {}),
});

const change = (kind: ObjectChange['kind'], namespace: string, name: string, ownerRollout?: string): ObjectChange => ({ kind, namespace, name, ...(ownerRollout ? { ownerRollout } : {}) });

/** Ten groups in one namespace, g0 … g9, each with its own Rollouts and Services; g0 and g1 share `shared`. */
function fixture() {
  const caches = new FakeCaches();
  for (let i = 0; i < 10; i++) {
    const members = [`r${i}a`, `r${i}b`, ...(i < 2 ? ['shared'] : [])];
    caches.groups.set(`ns/g${i}`, group('ns', `g${i}`, members, { created: `2026-01-01T00:00:0${i}Z` }));
    for (const m of members) caches.rollouts.set(`ns/${m}`, [`${m}-active`, `${m}-preview`]);
  }
  caches.groups.set('other/g0', group('other', 'g0', ['r0a']));
  caches.rollouts.set('other/r0a', ['r0a-active']);
  const router = new EventRouter(caches);
  const all = router.resync();
  return { caches, router, all };
}

describe('EventRouter', () => {
  it('a template wakes the groups naming it, as either kind (validation reports the wrong one), and no others', () => {
    const { caches, router } = fixture();
    const naming = (ns: string, name: string, clusterScope: boolean) => {
      const g = group(ns, name, [`${name}-r`]) as ReturnType<typeof group> & { spec: Record<string, unknown> };
      g.spec['analysis'] = { prePromotion: { templates: [{ templateName: 'health', clusterScope }], args: [] } };
      caches.groups.set(`${ns}/${name}`, g);
    };
    naming('ns', 'ns-scoped', false);
    naming('ns', 'ns-cluster', true);
    naming('other', 'other-scoped', false);
    naming('other', 'other-cluster', true);
    expect([...router.keysFor(change('AnalysisTemplate', 'ns', 'health'))].sort()).toEqual(['ns/ns-cluster', 'ns/ns-scoped']);
    expect([...router.keysFor(change('ClusterAnalysisTemplate', '', 'health'))].sort()).toEqual(['ns/ns-cluster', 'ns/ns-scoped', 'other/other-cluster', 'other/other-scoped']);
    expect(router.keysFor(change('AnalysisTemplate', 'ns', 'latency'))).toEqual([]);
  });

  it('reconciles every group after a full list', () => {
    expect(fixture().all.sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `ns/g${i}`), 'other/g0'].sort());
  });

  it('a status write of a group wakes that group only, even one sharing a Rollout', () => {
    const { caches, router } = fixture();
    for (const name of ['g0', 'g5']) {
      const g = caches.groups.get(`ns/${name}`)!;
      caches.groups.set(`ns/${name}`, { ...g, metadata: { ...(g['metadata'] as object), resourceVersion: '2' }, status: { phase: 'Healthy', members: [] } });
      expect(router.keysFor(change('RolloutGroup', 'ns', name))).toEqual([`ns/${name}`]);
    }
  });

  it('a change of what a group claims wakes the groups sharing its Rollouts, before and after', () => {
    const { caches, router } = fixture();
    // g5 takes r6a from g6: g6 must look again at its claim.
    caches.groups.set('ns/g5', group('ns', 'g5', ['r5a', 'r5b', 'r6a'], { created: '2026-01-01T00:00:05Z', rv: '2' }));
    expect([...router.keysFor(change('RolloutGroup', 'ns', 'g5'))].sort()).toEqual(['ns/g5', 'ns/g6']);
    // ... and gives it back: g6 again.
    caches.groups.set('ns/g5', group('ns', 'g5', ['r5a', 'r5b'], { created: '2026-01-01T00:00:05Z', rv: '3' }));
    expect([...router.keysFor(change('RolloutGroup', 'ns', 'g5'))].sort()).toEqual(['ns/g5', 'ns/g6']);
    // Deleting g0 (first its deletionTimestamp, then gone) frees `shared` for g1.
    caches.groups.set('ns/g0', group('ns', 'g0', ['r0a', 'r0b', 'shared'], { created: '2026-01-01T00:00:00Z', deleting: true, rv: '4' }));
    expect([...router.keysFor(change('RolloutGroup', 'ns', 'g0'))].sort()).toEqual(['ns/g0', 'ns/g1']);
    // Once deleting it claimed nothing already: its disappearance changes nothing for g1.
    caches.groups.delete('ns/g0');
    expect(router.keysFor(change('RolloutGroup', 'ns', 'g0'))).toEqual(['ns/g0']);
  });

  it('a new group wakes the groups listing its Rollouts, and nothing in other namespaces', () => {
    const { caches, router } = fixture();
    caches.groups.set('ns/late', group('ns', 'late', ['r3a', 'new'], { created: '2026-01-01T00:01:00Z' }));
    expect([...router.keysFor(change('RolloutGroup', 'ns', 'late'))].sort()).toEqual(['ns/g3', 'ns/late']);
  });

  it('a Rollout or its ReplicaSet wakes the groups listing it', () => {
    const { router } = fixture();
    expect(router.keysFor(change('Rollout', 'ns', 'r4b'))).toEqual(['ns/g4']);
    expect([...router.keysFor(change('Rollout', 'ns', 'shared'))].sort()).toEqual(['ns/g0', 'ns/g1']);
    expect(router.keysFor(change('ReplicaSet', 'ns', 'r4b-6d8f', 'r4b'))).toEqual(['ns/g4']);
    expect(router.keysFor(change('ReplicaSet', 'ns', 'plain-rs'))).toEqual([]);
    expect(router.keysFor(change('Rollout', 'ns', 'nobodys'))).toEqual([]);
  });

  it('a Service wakes only the groups whose Rollouts name it, following changes of the Rollouts', () => {
    const { caches, router } = fixture();
    expect(router.keysFor(change('Service', 'ns', 'r7a-preview'))).toEqual(['ns/g7']);
    expect([...router.keysFor(change('Service', 'ns', 'shared-active'))].sort()).toEqual(['ns/g0', 'ns/g1']);
    expect(router.keysFor(change('Service', 'ns', 'unrelated'))).toEqual([]);
    expect(router.keysFor(change('Service', 'other', 'r7a-preview'))).toEqual([]);
    // r7a now names another active Service: the old one no longer wakes g7, the new one does.
    caches.rollouts.set('ns/r7a', ['r7a-blue', 'r7a-preview']);
    router.keysFor(change('Rollout', 'ns', 'r7a'));
    expect(router.keysFor(change('Service', 'ns', 'r7a-active'))).toEqual([]);
    expect(router.keysFor(change('Service', 'ns', 'r7a-blue'))).toEqual(['ns/g7']);
    caches.rollouts.delete('ns/r7a');
    router.keysFor(change('Rollout', 'ns', 'r7a'));
    expect(router.keysFor(change('Service', 'ns', 'r7a-blue'))).toEqual([]);
  });

  it('peers are the live, readable groups listing one of the group’s Rollouts', () => {
    const { caches, router } = fixture();
    expect(router.peersOf('ns', 'g0')).toEqual([{ name: 'g1', creationTimestamp: '2026-01-01T00:00:01Z', members: ['r1a', 'r1b', 'shared'] }]);
    expect(router.peersOf('ns', 'g4')).toEqual([]);
    // A former member (status.members) still counts: a peer listing it keeps Tandem's keys on it.
    caches.groups.set('ns/g4', group('ns', 'g4', ['r4a'], { status: { members: [{ rollout: 'r4b', state: 'Stable' }] }, rv: '2' }));
    caches.groups.set('ns/g8', group('ns', 'g8', ['r8a', 'r8b', 'r4b'], { rv: '2', created: '2026-01-01T00:00:08Z' }));
    router.keysFor(change('RolloutGroup', 'ns', 'g4'));
    router.keysFor(change('RolloutGroup', 'ns', 'g8'));
    expect(router.peersOf('ns', 'g4').map((p) => p.name)).toEqual(['g8']);
    // An unreadable or deleting group claims nothing.
    caches.groups.set('ns/g1', { ...group('ns', 'g1', []), spec: { members: 'not a list' } });
    router.keysFor(change('RolloutGroup', 'ns', 'g1'));
    expect(router.peersOf('ns', 'g0')).toEqual([]);
  });

  it('a resync forgets groups deleted while events were missed', () => {
    const { caches, router } = fixture();
    caches.groups.delete('ns/g1');
    router.resync();
    expect(router.peersOf('ns', 'g0')).toEqual([]);
    expect(router.keysFor(change('Rollout', 'ns', 'shared'))).toEqual(['ns/g0']);
  });
});
