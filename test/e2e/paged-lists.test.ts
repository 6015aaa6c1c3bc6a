/**
 * The caches' first lists come in pages (limit/continue, src/kube/paged-list.ts): against the real
 * API server, with one object a page, every list is paged, each watch resumes from a list's
 * resourceVersion, and the controller still sees everything it needs to release.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RecordingProxy } from './support/recording-proxy.ts';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

let s: Scenario | undefined;
let proxy: RecordingProxy | undefined;
afterEach(async () => {
  await s?.cleanup();
  await proxy?.stop();
  s = proxy = undefined;
});

describe('paged lists', () => {
  it('with --list-page-size 1 every cache lists page by page, watches from the list, and a release completes', async () => {
    s = await Scenario.create('paged', 'loans', ['interest', 'loan']);
    const sc = s;
    for (const f of ['interest', 'loan', 'group']) await sc.kube.applyFile(sc.ns, `examples/loan-interest/${f}.yaml`);
    const proxied = await RecordingProxy.inFrontOf(inject('controllerKubeconfig'));
    proxy = proxied.proxy;
    const { kubeconfig } = proxied;
    // Argo has made the ReplicaSets and the endpointslice controller the slices: those lists have several objects too.
    await waitFor('ReplicaSets of both members', async () => (await sc.kube.apps.listNamespacedReplicaSet({ namespace: sc.ns })).items.length >= 2);
    const controller = sc.startController('controller', ['--list-page-size', '1'], {}, kubeconfig);

    await sc.waitSteady();
    for (const m of sc.members) await sc.kube.setImage(sc.ns, m, `ghcr.io/acme/${m}:2.0`);
    const paused = await sc.waitPhase('Paused');
    await sc.kube.annotateGroup(sc.ns, 'loans', { 'tandem.dev/promote': paused.status!.release!.id });
    await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 120_000);
    expect(await controller.kill('SIGTERM')).toBe(0);

    const query = (path: string) => new URL(path, 'http://x').searchParams;
    const lists = proxy.requests.filter((r) => r.verb === 'list' && r.namespace === sc.ns && r.resource !== 'pods');
    const watches = proxy.requests.filter((r) => r.verb === 'watch' && r.namespace === sc.ns);
    // Every cache's list asked for one object a page; none asked for a whole list.
    expect(lists.length).toBeGreaterThan(0);
    expect(lists.filter((r) => query(r.path).get('limit') !== '1').map((r) => r.path)).toEqual([]);
    // Kinds with several objects (2 Rollouts, 4 Services, 2+ ReplicaSets) took more than one page, the later ones by continue token.
    for (const resource of ['rollouts', 'services', 'replicasets']) {
      const own = lists.filter((r) => r.resource === resource);
      expect(own.length, resource).toBeGreaterThanOrEqual(2);
      expect(query(own[0]!.path).has('continue'), resource).toBe(false);
      expect(own.slice(1).every((r) => (query(r.path).get('continue') ?? '') !== ''), resource).toBe(true);
    }
    // Each watch resumed from a list's resourceVersion (a snapshot), never from "" (which would start with every object again).
    expect(watches.length).toBeGreaterThanOrEqual(lists.filter((r) => !query(r.path).has('continue')).length);
    expect(watches.filter((r) => !/^[1-9]\d*$/.test(query(r.path).get('resourceVersion') ?? '')).map((r) => r.path)).toEqual([]);
  });
});
