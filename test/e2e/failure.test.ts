/** DESIGN §4.2: a member failing before cutover aborts every changed member; the group is Degraded. */
import { afterEach, describe, expect, it } from 'vitest';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

async function loansWithDeadline(prefix: string, deadlineSeconds: number): Promise<Scenario> {
  const sc = await Scenario.create(prefix, 'loans', ['interest', 'loan']);
  await sc.kube.applyFile(sc.ns, 'examples/loan-interest/interest.yaml');
  await sc.kube.applyFile(sc.ns, 'examples/loan-interest/loan.yaml');
  await sc.kube.applyFile(sc.ns, 'examples/loan-interest/group.yaml', (t) => `${t}  progressDeadlineSeconds: ${deadlineSeconds}\n`);
  sc.startController();
  await sc.waitSteady();
  return sc;
}

async function expectAllAborted(sc: Scenario, stable: Record<string, string>) {
  for (const m of sc.members) {
    const r = await sc.kube.rollout(sc.ns, m);
    expect(r.status!['abort'], `${m} aborted`).toBe(true);
    expect(r.status!['stableRS']).toBe(stable[m]);
    expect(r.status!['blueGreen']['activeSelector']).toBe(stable[m]);
  }
}

async function stableRevisions(sc: Scenario) {
  const out: Record<string, string> = {};
  for (const m of sc.members) out[m] = (await sc.kube.rollout(sc.ns, m)).status!['stableRS'];
  return out;
}

describe('failure before cutover', () => {
  it('a member whose new revision never becomes available aborts the whole release at the deadline', async () => {
    s = await loansWithDeadline('nevready', 20);
    const stable = await stableRevisions(s);
    // No node matches: the new interest pods stay Pending forever.
    await s.kube.patchRollout(s.ns, 'interest', {
      spec: { template: { spec: { nodeSelector: { 'tandem.dev/e2e': 'nowhere' }, containers: [{ name: 'interest', image: 'ghcr.io/acme/interest:2.0' }] } } },
    });
    await s.kube.setImage(s.ns, 'loan', 'ghcr.io/acme/loan:2.0');
    const degraded = await s.waitPhase('Degraded', 90_000);
    // loan waits too: its preview pods get no address while interest's preview never serves the new revision.
    expect(degraded.status!.message).toMatch(/aborted: not ready within 20s: waiting for loan, interest$/);
    expect(degraded.status!.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ReleaseAborted' });
    await s.waitGroup('both aborted', (g) => (g.status?.members ?? []).every((m) => m.state === 'Failed'));
    await expectAllAborted(s, stable);
    await waitFor('ReleaseAborted event', async () => (await s!.kube.events(s!.ns, 'loans')).some((e) => e.type === 'Warning' && e.reason === 'ReleaseAborted'));
  });

  it('an abort of one member aborts the other; the message names the member', async () => {
    s = await loansWithDeadline('abort1', 900);
    const stable = await stableRevisions(s);
    await s.kube.setImage(s.ns, 'interest', 'ghcr.io/acme/interest:2.0');
    await s.kube.setImage(s.ns, 'loan', 'ghcr.io/acme/loan:2.0');
    await s.waitPhase('Paused');
    await s.kube.patchRolloutStatus(s.ns, 'interest', { abort: true });
    const degraded = await s.waitPhase('Degraded');
    expect(degraded.status!.message).toContain('member interest failed');
    await s.waitGroup('loan aborted too', (g) => g.status?.members?.find((m) => m.rollout === 'loan')?.state === 'Failed');
    await expectAllAborted(s, stable);
  });

  it('an abort request aborts the release and is removed; a retry of blue-green members is refused', async () => {
    s = await loansWithDeadline('abortreq', 900);
    const stable = await stableRevisions(s);
    await s.kube.setImage(s.ns, 'interest', 'ghcr.io/acme/interest:2.0');
    await s.kube.setImage(s.ns, 'loan', 'ghcr.io/acme/loan:2.0');
    await s.waitPhase('Paused');
    await s.kube.annotateGroup(s.ns, 'loans', { 'tandem.dev/abort': 'bad data in staging' });
    const degraded = await s.waitPhase('Degraded');
    expect(degraded.status!.message).toContain('abort requested: bad data in staging');
    await s.waitGroup('request removed', (g) => g.metadata.annotations?.['tandem.dev/abort'] === undefined);
    await expectAllAborted(s, stable);

    // Argo would switch blue-green members live at once on `abort: false`: the retry is refused, nothing moves.
    await s.kube.annotateGroup(s.ns, 'loans', { 'tandem.dev/retry': degraded.status!.release!.id });
    await s.waitGroup('retry removed', (g) => g.metadata.annotations?.['tandem.dev/retry'] === undefined);
    await waitFor('RetryRefused event', async () => (await s!.kube.events(s!.ns, 'loans')).some((e) => e.type === 'Warning' && e.reason === 'RetryRefused'));
    await s.plannedAgain();
    await expectAllAborted(s, stable);
  });

  it('a promote request for another release is refused with a Warning and removed', async () => {
    s = await loansWithDeadline('stale', 900);
    await s.kube.setImage(s.ns, 'interest', 'ghcr.io/acme/interest:2.0');
    await s.waitPhase('Paused');
    await s.kube.annotateGroup(s.ns, 'loans', { 'tandem.dev/promote': 'feedface00' });
    await s.waitGroup('request removed', (g) => g.metadata.annotations?.['tandem.dev/promote'] === undefined);
    // Events follow the request's removal.
    await waitFor('PromoteRefused event', async () => (await s!.kube.events(s!.ns, 'loans')).some((e) => e.type === 'Warning' && e.reason === 'PromoteRefused'));
    const g = await s.kube.group(s.ns, 'loans');
    expect(g.status!.phase).toBe('Paused');
    expect(g.status!.release!.promotedAt).toBeUndefined();
  });
});
