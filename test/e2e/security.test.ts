/**
 * DESIGN §8 on the real API server: a RolloutGroup never lets its author do more than they could do
 * to the Rollouts directly. The admission policy (config/admission) judges two users' requests by
 * their own RBAC; the CRD refuses hostile keys and paths; in consent mode the controller touches no
 * Rollout that did not name the group.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { groupManifest } from './support/apps.ts';
import type { TestKube } from './support/kube.ts';
import { Scenario } from './support/scenario.ts';
import { refusal, user, type Grant } from './support/users.ts';
import { waitFor } from './support/wait.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

const GROUPS: Grant = { resource: 'rolloutgroups.tandem.dev', verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] };
const rollouts = (verbs: string[], names?: string[]): Grant[] => [
  { resource: 'rollouts.argoproj.io', verbs: ['get', 'list', 'watch', ...verbs], ...(names ? { names } : {}) },
];
const group = (s: Scenario) => groupManifest(s.group, [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }]);
const policyDenial = (u: string, ns: string, verb: string, member: string) =>
  `user system:serviceaccount:${ns}:${u} may not patch ${verb} of member ${member} in namespace ${ns}: a RolloutGroup may only name Rollouts its author may patch, and patch the status of`;

async function withApps(prefix: string): Promise<Scenario> {
  const sc = await Scenario.create(prefix, 'loans', ['interest', 'loan']);
  await sc.kube.applyFile(sc.ns, 'examples/loan-interest/interest.yaml');
  await sc.kube.applyFile(sc.ns, 'examples/loan-interest/loan.yaml');
  return sc;
}

/** Tandem's field managers on a Rollout: empty while Tandem has written nothing to it. */
async function tandemManagers(kube: TestKube, ns: string, name: string): Promise<string[]> {
  const r = (await kube.rollout(ns, name)) as { metadata: { managedFields?: { manager?: string }[] } };
  return (r.metadata.managedFields ?? []).map((f) => f.manager ?? '').filter((m) => m.startsWith('tandem'));
}

describe('admission: a group may only name Rollouts its author may patch', () => {
  it('refuses a user with rights on groups only, and one lacking a member or a verb; admits a namespace edit user with rights on the Rollouts, who requests the promotion; the release works', async () => {
    s = await withApps('authority');
    const sc = s;
    const { ns } = sc;
    const alice = await user(sc.kube, ns, 'alice', [GROUPS]);
    const carol = await user(sc.kube, ns, 'carol', [GROUPS, ...rollouts(['patch'], ['interest']), { resource: 'rollouts.argoproj.io/status', verbs: ['patch'], names: ['interest'] }]);
    const dave = await user(sc.kube, ns, 'dave', [GROUPS, ...rollouts(['patch'])]);
    // bob has the namespace's `edit` (RolloutGroups through config/rbac's tandem-edit) and rights on
    // Rollouts, as Argo Rollouts' install aggregates them into edit (not installed on this stack).
    const EDIT: Grant = { clusterRole: 'edit', resource: 'rolloutgroups.tandem.dev', verbs: ['create', 'patch'] };
    const bob = await user(sc.kube, ns, 'bob', [EDIT, { resource: 'rollouts.argoproj.io/status', verbs: ['patch'] }, ...rollouts(['patch'])]);
    const vera = await user(sc.kube, ns, 'vera', [{ clusterRole: 'view', resource: 'rolloutgroups.tandem.dev', verbs: ['list'] }]);
    // view reads groups (tandem-view) but creates none: RBAC refuses before any policy runs.
    const viewer = await refusal(vera.apply(ns, group(sc)));
    expect(viewer.code).toBe(403);
    expect(viewer.message).not.toContain('ValidatingAdmissionPolicy');

    // Denied by the real API server, with the policy's message naming the member and the verb.
    for (const [who, kube, verb, member] of [
      ['alice', alice, 'rollouts', 'interest'],
      ['carol', carol, 'rollouts', 'loan'],
      ['dave', dave, 'rollouts/status', 'interest'],
    ] as const) {
      const r = await refusal(kube.apply(ns, group(sc)));
      expect(r.code, who).toBe(403);
      expect(r.message, who).toContain('ValidatingAdmissionPolicy');
      expect(r.message, who).toContain(policyDenial(who, ns, verb, member));
    }
    expect(await sc.kube.groupOrUndefined(ns, 'loans')).toBeUndefined();

    await bob.apply(ns, group(sc));
    expect((await vera.group(ns, 'loans')).metadata.name).toBe('loans');
    sc.startController();
    await sc.waitSteady();
    for (const m of sc.members) await sc.kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
    const paused = await sc.waitPhase('Paused');
    const id = paused.status!.release!.id;
    // alice may edit groups, but a promotion through one would promote Rollouts she may not touch.
    const r = await refusal(alice.annotateGroup(ns, 'loans', { 'tandem.dev/promote': id }));
    expect(r.message).toContain(policyDenial('alice', ns, 'rollouts', 'interest'));
    await bob.annotateGroup(ns, 'loans', { 'tandem.dev/promote': id });
    const done = await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
    expect(done.status!.conditions!.find((c) => c.type === 'SpecValid')).toMatchObject({ status: 'True' });
    for (const m of sc.members) {
      const ro = await sc.kube.rollout(ns, m);
      expect(ro.status!['stableRS'], m).toBe(paused.status!.release!.targets.find((t) => t.rollout === m)!.revision);
    }
  });

  it('the CRD rejects a refused annotation key, a hostile path and a hostile port name at admission', async () => {
    s = await withApps('hostile');
    const { ns, kube } = s;
    const dep = (extra: string, port = 'http') => `apiVersion: tandem.dev/v1alpha1
kind: RolloutGroup
metadata: {name: hostile}
spec:
  members:
  - rollout: interest
  - rollout: loan
    dependsOn:
    - {rollout: interest, port: '${port}', ${extra}}
`;
    const refused = 'annotation keys in the kubernetes.io, k8s.io and argoproj.io domains (and their subdomains) are refused';
    for (const [what, manifest, message] of [
      ['a kubernetes.io key', dep('annotation: kubernetes.io/interest-url'), refused],
      ['an argoproj.io subdomain key', dep('annotation: rollout.argoproj.io/revision'), refused],
      ['a path naming another host', dep("path: '@evil.example/x'"), 'spec.members[1].dependsOn[0].path'],
      ['a path starting with //', dep("path: '//evil.example/x'"), 'spec.members[1].dependsOn[0].path'],
      ['a port name no Service port can have', dep('scheme: http', 'x@evil.io'), 'spec.members[1].dependsOn[0].port'],
      [
        'a pod-security role annotation',
        `apiVersion: tandem.dev/v1alpha1\nkind: RolloutGroup\nmetadata: {name: hostile}\nspec:\n  members:\n  - rollout: interest\n    roleAnnotations:\n      preview: {container.apparmor.security.beta.kubernetes.io/app: unconfined}\n`,
        refused,
      ],
    ] as const) {
      const r = await refusal(kube.apply(ns, manifest));
      expect(r.code, what).toBe(422);
      expect(r.message, what).toContain(message);
    }
    expect(await kube.groupOrUndefined(ns, 'hostile')).toBeUndefined();
  });
});

describe('consent mode (--require-member-consent)', () => {
  it('reports a member without the annotation naming its group and touches no member; consent lets the release go', async () => {
    s = await withApps('consent');
    const sc = s;
    const { ns, kube } = sc;
    sc.kubectl('annotate', 'rollout', 'interest', 'tandem.dev/authorized-group=loans');
    await kube.apply(ns, group(sc).replace('spec:\n', 'spec:\n  promotion: {auto: true}\n'));
    const controller = sc.startController('controller', ['--require-member-consent']);
    const c = await waitFor('SpecValid', async () => (await kube.group(ns, 'loans')).status?.conditions?.find((x) => x.type === 'SpecValid'), { dump: sc.dump });
    expect(c).toMatchObject({ status: 'False', reason: 'MemberNotAuthorized' });
    expect(c.message).toBe('rollout loan does not consent to group loans: whoever may edit it must annotate it tandem.dev/authorized-group=loans');

    // A release that auto promotion would take at once, had every member consented.
    const port = await controller.serverPort('metrics');
    const reconciles = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text.split('\n').filter((l) => l.startsWith('controller_runtime_reconcile_total{')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    };
    for (const m of sc.members) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
    await waitFor('both previews ready (Argo paused them)', async () => {
      for (const m of sc.members) {
        const r = await kube.rollout(ns, m);
        if (r.status?.['phase'] !== 'Paused' || r.status?.['observedGeneration'] !== String(r.metadata.generation)) return false;
      }
      return true;
    }, { dump: sc.dump });
    // The controller has planned again since (the Rollouts' changes are its triggers) and still wrote nothing.
    const seen = await reconciles();
    await waitFor('a reconcile after the previews were ready', async () => (await reconciles()) > seen, { dump: sc.dump });
    for (const m of sc.members) expect(await tandemManagers(kube, ns, m), m).toEqual([]);
    expect((await kube.group(ns, 'loans')).status?.conditions?.find((x) => x.type === 'SpecValid')?.reason).toBe('MemberNotAuthorized');

    sc.kubectl('annotate', 'rollout', 'loan', 'tandem.dev/authorized-group=loans');
    await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release && g.status.conditions?.find((x) => x.type === 'SpecValid')?.status === 'True', 180_000);
    expect(await tandemManagers(kube, ns, 'loan')).toContain('tandem-controller'); // its wiring
    for (const m of sc.members) {
      const r = await kube.rollout(ns, m);
      expect(r.spec['template'].spec.containers[0].image, m).toBe(`ghcr.io/acme/${m}:2.0`);
      expect(r.status!['stableRS'], m).toBe(r.status!['currentPodHash']);
    }
  });
});
