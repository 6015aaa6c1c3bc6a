/** DESIGN §1: invalid groups are reported in their status and touch no Rollout; CEL rejects what it can see. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { blueGreenApp, groupManifest } from './support/apps.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { TestKube, type RolloutObj } from './support/kube.ts';
import { plannedAgain } from './support/planned-again.ts';
import { waitFor } from './support/wait.ts';

const kube = new TestKube(inject('kubeconfig'));
let ns: string;
let controller: ControllerProcess;
const before = new Map<string, RolloutObj>();

beforeAll(async () => {
  ns = await kube.namespace('invalid');
  await kube.apply(ns, blueGreenApp('a', '1.0'));
  await kube.apply(ns, blueGreenApp('b', '1.0'));
  await kube.apply(ns, blueGreenApp('solo', '1.0'));
  await kube.apply(ns, blueGreenApp('eager', '1.0', { autoPromotionEnabled: true }));
  await kube.apply(ns, blueGreenApp('front', '1.0'));
  for (const r of ['a', 'b', 'solo', 'eager', 'front']) {
    before.set(r, await waitFor(`${r} Healthy`, async () => {
      const ro = await kube.rollout(ns, r);
      return ro.status?.['phase'] === 'Healthy' ? ro : undefined;
    }));
  }
  await kube.apply(ns, groupManifest('first', [{ rollout: 'solo' }]));
  await new Promise((r) => setTimeout(r, 1_100)); // creationTimestamp has one-second resolution
  await kube.apply(ns, groupManifest('cycle', [{ rollout: 'a', dependsOn: ['b'] }, { rollout: 'b', dependsOn: ['a'] }]));
  await kube.apply(ns, groupManifest('missing', [{ rollout: 'front', dependsOn: ['ghost'] }, { rollout: 'ghost' }]));
  await kube.apply(ns, groupManifest('second', [{ rollout: 'solo' }]));
  await kube.apply(ns, groupManifest('autopromote', [{ rollout: 'eager' }]));
  controller = ControllerProcess.start(inject('controllerKubeconfig'), ns);
});

afterAll(async () => {
  await controller?.kill('SIGTERM');
  await kube.deleteNamespace(ns);
});

const specValid = (group: string) =>
  waitFor(`SpecValid of ${group}`, async () => {
    const g = await kube.group(ns, group);
    return g.status?.conditions?.find((c) => c.type === 'SpecValid');
  }, { dump: async () => controller.tail(30) });

describe('invalid groups', () => {
  it.each([
    ['cycle', 'DependencyCycle', 'dependency cycle a -> b -> a; remove one of these dependencies'],
    ['missing', 'MemberNotFound', `rollout ghost not found in namespace`],
    ['second', 'MemberClaimed', 'rollout solo already belongs to group first, which is older; remove it from one of the two groups'],
    ['autopromote', 'MemberMisconfigured', 'rollout eager: set spec.strategy.blueGreen.autoPromotionEnabled: false'],
  ])('%s is reported as %s with a message that says what to change', async (group, reason, message) => {
    const c = await specValid(group);
    expect(c).toMatchObject({ status: 'False', reason });
    expect(c.message).toContain(message);
    const g = await kube.group(ns, group);
    expect(g.status!.phase).toBe('Degraded');
    // Events follow the status write.
    await waitFor(`InvalidSpec event for ${group}`, async () => (await kube.events(ns, group)).some((e) => e.type === 'Warning' && e.reason === 'InvalidSpec'));
  });

  it('the older group keeps its member and is valid', async () => {
    expect(await specValid('first')).toMatchObject({ status: 'True', reason: 'Valid' });
  });

  it('touches no Rollout of an invalid group', async () => {
    await specValid('cycle');
    await specValid('autopromote');
    await plannedAgain(controller, kube, ns, ['cycle', 'autopromote', 'missing', 'first', 'second']);
    for (const r of ['a', 'b', 'eager', 'front', 'solo']) {
      const now = await kube.rollout(ns, r);
      expect(now.metadata.resourceVersion, `${r} was written`).toBe(before.get(r)!.metadata.resourceVersion);
      expect(now.spec).toEqual(before.get(r)!.spec);
    }
  });

  it('the API server rejects what CEL can see', async () => {
    await expect(kube.apply(ns, groupManifest('self', [{ rollout: 'a', dependsOn: ['a'] }]))).rejects.toThrow(/a member cannot depend on itself/);
    await expect(kube.apply(ns, groupManifest('stranger', [{ rollout: 'a', dependsOn: ['zzz'] }]))).rejects.toThrow(/must name a member of the group/);
    await expect(kube.apply(ns, groupManifest('soak', [{ rollout: 'a' }], '  promotion: {auto: true, soakSeconds: -1}\n'))).rejects.toThrow(/soakSeconds/);
    await expect(
      kube.apply(ns, `apiVersion: tandem.dev/v1alpha1
kind: RolloutGroup
metadata: {name: badkey}
spec:
  members:
  - rollout: a
    roleAnnotations: {preview: {"not a key!": x}}
`),
    ).rejects.toThrow(/valid annotation keys/);
  });
});
