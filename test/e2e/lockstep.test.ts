/** DESIGN §4–§5: Lockstep blue-green releases on the real stack, checked over their whole history. */
import { afterEach, describe, expect, it } from 'vitest';
import { addressKey, blueGreenApp, groupManifest } from './support/apps.ts';
import { activeSwitches, firstReady, matchedVersionViolations, type Edge } from './support/invariants.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario, serviceUrl } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

/** Runs one release of every member from 1.0 to 2.0 and checks DESIGN §5 over what was recorded. */
async function releaseAll(sc: Scenario, edges: readonly Edge[], expectedOrder: readonly string[]) {
  const { kube, ns, group } = sc;
  // Steady state first: wired, finalizer on, Healthy.
  await sc.waitGroup('Healthy and wired', (g) => g.status?.phase === 'Healthy' && (g.metadata.finalizers ?? []).includes('tandem.dev/release-metadata'));
  for (const e of edges) {
    const r = await kube.rollout(ns, e.dependent);
    await waitFor(`${e.dependent} pods wired to ${e.dependency}`, async () => {
      const pods = await sc.podAnnotations(e.dependent, r.status!['stableRS']);
      return pods.length > 0 && pods.every((a) => a[e.annotation] === serviceUrl(`${e.dependency}-active`, ns));
    }, { dump: sc.dump });
  }
  const recorder = await Recorder.start(kube, ns);
  try {
    for (const m of sc.members) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
    const paused = await sc.waitPhase('Paused');
    const release = paused.status!.release!;
    expect(release.targets.map((t) => t.rollout).sort()).toEqual([...sc.members].sort());
    expect(paused.status!.message).toBe(`release ${release.id} ready: ${sc.members.length}/${sc.members.length} members; waiting for promote`);
    expect(paused.status!.readyMembers).toBe(`${sc.members.length}/${sc.members.length}`);
    // Waiting at the gate means waiting: nothing switches until the promote request.
    await sc.plannedAgain();
    expect(activeSwitches(recorder)).toEqual([]);

    const table = sc.kubectl('get', 'rolloutgroups', '-o', 'wide');
    const [header, row] = table.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'STRATEGY', 'PHASE', 'RELEASE', 'READY', 'AGE', 'MESSAGE']);
    expect(row!.split(/\s{2,}/).slice(0, 5)).toEqual([group, 'Lockstep', 'Paused', release.id, `${sc.members.length}/${sc.members.length}`]);
    expect(sc.kubectl('get', 'rg', group, '-o', 'name').trim()).toBe(`rolloutgroup.tandem.dev/${group}`);

    await kube.annotateGroup(ns, group, { 'tandem.dev/promote': release.id });
    const done = await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
    expect(done.metadata.annotations?.['tandem.dev/promote']).toBeUndefined();
    for (const m of sc.members) {
      const r = await kube.rollout(ns, m);
      expect(r.status!['stableRS']).toBe(release.targets.find((t) => t.rollout === m)!.revision);
      expect(r.status!['blueGreen']['activeSelector']).toBe(r.status!['stableRS']);
    }
    // Addresses restored to the active Services, on the pods now live.

    for (const e of edges) {
      const r = await kube.rollout(ns, e.dependent);
      await waitFor(`${e.dependent} addresses restored`, async () => {
        const pods = await sc.podAnnotations(e.dependent, r.status!['stableRS']);
        // ... and the cutover's pins gone.
        return pods.length > 0 && pods.every((a) => a[e.annotation] === serviceUrl(`${e.dependency}-active`, ns) && a[`pin.${e.annotation}`] === undefined);
      }, { dump: sc.dump });
    }
    await recorder.caughtUp();
  } finally {
    await recorder.stop();
  }

  expect(matchedVersionViolations(recorder, edges)).toEqual([]);
  const switches = activeSwitches(recorder);
  expect(switches.map((w) => w.rollout)).toEqual(expectedOrder);
  const ready = firstReady(recorder);
  for (const m of sc.members) expect(ready.get(m), `${m} never ready`).toBeLessThan(switches[0]!.seq);
  const reasons = await waitFor('release events', async () => {
    const rs = (await kube.events(ns, group)).map((e) => e.reason);
    return rs.includes('ReleaseCompleted') ? rs : undefined;
  });
  for (const r of ['ReleaseStarted', 'ReleaseReady', 'PromotionStarted', 'MemberPromoted', 'ReleaseCompleted']) expect(reasons).toContain(r);
  expect(reasons.filter((r) => r === 'MemberPromoted')).toHaveLength(sc.members.length);
}

describe('Lockstep blue-green', () => {
  it('releases loan and interest together, loan first, versions matched throughout', async () => {
    s = await Scenario.create('pair', 'loans', ['interest', 'loan']);
    await s.kube.applyFile(s.ns, 'examples/loan-interest/interest.yaml');
    await s.kube.applyFile(s.ns, 'examples/loan-interest/loan.yaml');
    await s.kube.applyFile(s.ns, 'examples/loan-interest/group.yaml');
    s.startController();
    await releaseAll(s, [{ dependent: 'loan', dependency: 'interest', annotation: 'tandem.dev/interest-url' }], ['loan', 'interest']);
  });

  it('releases a three-service chain web → api → db dependents first', async () => {
    s = await Scenario.create('chain', 'shop', ['db', 'api', 'web']);
    for (const m of ['db', 'api', 'web']) await s.kube.apply(s.ns, blueGreenApp(m, '1.0'));
    await s.kube.apply(s.ns, groupManifest('shop', [{ rollout: 'db' }, { rollout: 'api', dependsOn: ['db'] }, { rollout: 'web', dependsOn: ['api'] }]));
    s.startController();
    await releaseAll(
      s,
      [
        { dependent: 'web', dependency: 'api', annotation: addressKey('api') },
        { dependent: 'api', dependency: 'db', annotation: addressKey('db') },
      ],
      ['web', 'api', 'db'],
    );
  });

  it('deleting a group leaves its Rollouts running, minus Tandem’s keys', async () => {
    s = await Scenario.create('delete', 'loans', ['interest', 'loan']);
    await s.kube.applyFile(s.ns, 'examples/loan-interest/interest.yaml');
    await s.kube.applyFile(s.ns, 'examples/loan-interest/loan.yaml');
    await s.kube.applyFile(s.ns, 'examples/loan-interest/group.yaml');
    s.startController();
    await s.waitSteady();
    const before = await s.kube.rollout(s.ns, 'loan');
    const hash = before.status!['stableRS'];
    await waitFor('loan pods wired', async () => (await s!.podAnnotations('loan', hash)).every((a) => a['tandem.dev/interest-url']), { dump: s.dump });
    await s.kube.deleteGroup(s.ns, 'loans');
    await waitFor('group gone', async () => (await s!.kube.groupOrUndefined(s!.ns, 'loans')) === undefined, { dump: s.dump });
    const after = await s.kube.rollout(s.ns, 'loan');
    const bg = after.spec['strategy']['blueGreen'];
    expect(bg.previewMetadata?.annotations?.['tandem.dev/interest-url']).toBeUndefined();
    expect(bg.activeMetadata?.annotations?.['tandem.dev/interest-url']).toBeUndefined();
    expect(after.status!['stableRS']).toBe(hash);
    await waitFor('loan pods lose the address', async () => {
      const pods = await s!.podAnnotations('loan', hash);
      return pods.length === 2 && pods.every((a) => a['tandem.dev/interest-url'] === undefined);
    }, { dump: s.dump });
    expect((await s.kube.rollout(s.ns, 'interest')).status!['phase']).toBe('Healthy');

    // SIGTERM: the controller finishes what it is doing and exits 0.
    expect(await s.controller.kill('SIGTERM')).toBe(0);
    const messages = s.controller.logLines().map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages.slice(-2)).toEqual(['shutting down; finishing reconciles in flight', 'controller stopped']);
  });

  it('removing a member from the group releases Tandem’s keys from it', async () => {
    s = await Scenario.create('remove', 'loans', ['interest', 'loan']);
    const sc = s;
    for (const f of ['interest', 'loan', 'group']) await sc.kube.applyFile(sc.ns, `examples/loan-interest/${f}.yaml`);
    sc.startController();
    await sc.waitSteady();
    const hash = (await sc.kube.rollout(sc.ns, 'loan')).status!['stableRS'];
    await waitFor('loan pods wired', async () => (await sc.podAnnotations('loan', hash)).every((a) => a['tandem.dev/interest-url']), { dump: sc.dump });
    await sc.kube.apply(sc.ns, groupManifest('loans', [{ rollout: 'interest' }]));
    await sc.waitGroup('loan forgotten', (g) => (g.status?.members ?? []).map((m) => m.rollout).join() === 'interest');
    const bg = (await sc.kube.rollout(sc.ns, 'loan')).spec['strategy']['blueGreen'];
    expect(bg.activeMetadata?.annotations?.['tandem.dev/interest-url']).toBeUndefined();
    expect(bg.previewMetadata?.annotations?.['tandem.dev/interest-url']).toBeUndefined();
    await waitFor('loan pods lose the address', async () => (await sc.podAnnotations('loan', hash)).every((a) => a['tandem.dev/interest-url'] === undefined), { dump: sc.dump });
  });

  it('the shop example: role annotations give preview pods the preview queue, live pods the production queue', async () => {
    s = await Scenario.create('shop', 'shop', ['interest', 'loan', 'worker']);
    const sc = s;
    for (const f of ['interest', 'loan', 'worker', 'group']) await sc.kube.applyFile(sc.ns, `examples/shop/${f}.yaml`);
    sc.startController();
    await sc.waitSteady();
    const queueOf = async (hash: string) => (await sc.podAnnotations('worker', hash)).map((a) => a['tandem.dev/queue']);
    const v1 = (await sc.kube.rollout(sc.ns, 'worker')).status!['stableRS'] as string;
    await waitFor('live worker reads loans', async () => (await queueOf(v1)).every((q) => q === 'loans') && (await queueOf(v1)).length === 1, { dump: sc.dump });

    await sc.kube.patchRollout(sc.ns, 'worker', { spec: { template: { spec: { containers: [{ name: 'worker', image: 'ghcr.io/tandem-dev/example-worker:2.0' }] } } } });
    const paused = await sc.waitPhase('Paused');
    const v2 = paused.status!.release!.targets[0]!.revision;
    await waitFor('preview worker reads loans-preview, live worker still loans', async () => {
      const [preview, live] = [await queueOf(v2), await queueOf(v1)];
      return preview.length === 1 && preview[0] === 'loans-preview' && live.length === 1 && live[0] === 'loans';
    }, { dump: sc.dump });

    await sc.kube.annotateGroup(sc.ns, 'shop', { 'tandem.dev/promote': paused.status!.release!.id });
    await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release);
    await waitFor('the new worker reads loans', async () => (await queueOf(v2)).every((q) => q === 'loans') && (await queueOf(v2)).length === 1, { dump: sc.dump });
  });
});
