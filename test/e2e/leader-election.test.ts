/**
 * Two controllers with --leader-elect: only the Lease holder acts; SIGKILL of the leader mid-cutover
 * lets the standby finish the release within the lease time, promoting nothing twice; SIGTERM
 * releases the lease.
 */
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { activeSwitches, matchedVersionViolations } from './support/invariants.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';
import type { ControllerProcess } from './support/controller-process.ts';

// Short timings keep the test fast; the defaults (15 s / 10 s / 2 s) are unit-tested.
const LEASE_S = 4;
const RETRY_MS = 500;
const WRITES = ['action done', 'status updated', 'request handled'];
const writes = (c: ControllerProcess) => WRITES.flatMap((m) => c.records(m));

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

describe('leader election', () => {
  it('the standby stays hands-off, then takes over a killed leader and finishes the release once', async () => {
    s = await Scenario.create('leader', 'loans', ['interest', 'loan']);
    const sc = s;
    for (const f of ['interest', 'loan', 'group']) await sc.kube.applyFile(sc.ns, `examples/loan-interest/${f}.yaml`);
    const leaseNs = inject('controllerNamespace');
    const leaseName = `leader-${sc.ns}`;
    const args = ['--leader-elect', '--leader-election-namespace', leaseNs, '--leader-election-id', leaseName, '--leader-elect-lease-duration', `${LEASE_S}s`, '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', `${RETRY_MS}ms`];
    const leases = sc.kube.kc.makeApiClient(CoordinationV1Api);
    const lease = async () => (await leases.readNamespacedLease({ namespace: leaseNs, name: leaseName })).spec!;

    // The leader SIGKILLs itself right after persisting that its first member was promoted.
    const a = sc.startController('a', args, { TANDEM_FAILPOINT: 'after-status:MemberPromoted' });
    await sc.waitSteady();
    expect(a.records('became leader')).toHaveLength(1);
    expect((await lease()).holderIdentity).toBe(a.identity());

    const b = sc.startController('b', args);
    await waitFor('b waiting for leadership', async () => b.records('waiting for leadership').length > 0, { dump: sc.dump });
    // A standby is ready (caches warm) and live, yet acts on nothing.
    expect((await b.get('health', '/readyz')).status).toBe(200);
    expect((await b.get('health', '/healthz')).status).toBe(200);
    expect((await b.get('metrics', '/metrics')).body).toContain(`leader_election_master_status{name="${leaseName}"} 0`);

    const recorder = await Recorder.start(sc.kube, sc.ns);
    let killedAt: number;
    try {
      await sc.kube.setImage(sc.ns, 'interest', 'ghcr.io/acme/interest:2.0');
      await sc.kube.setImage(sc.ns, 'loan', 'ghcr.io/acme/loan:2.0');
      const paused = await sc.waitPhase('Paused');
      expect(writes(b), 'writes by the standby').toEqual([]);
      await sc.kube.annotateGroup(sc.ns, 'loans', { 'tandem.dev/promote': paused.status!.release!.id });
      expect(await a.exit()).toBe('SIGKILL');
      killedAt = Date.now();
      expect(writes(b), 'writes by the standby while the leader lived').toEqual([]);
      expect((await sc.kube.group(sc.ns, 'loans')).status!.release!.promotedMembers).toEqual(['loan']);

      await sc.waitGroup('Healthy after the takeover', (g) => g.status?.phase === 'Healthy' && !g.status.release, 60_000);
    } finally {
      await recorder.stop();
    }
    const tookOver = Date.parse(b.records('became leader')[0]!['time'] as string);
    // The standby counts a lease duration from the last renewal it saw (≤ one retry period before the kill).
    expect(tookOver - killedAt).toBeLessThanOrEqual(LEASE_S * 1000 + 2 * RETRY_MS + 1_000);
    expect(writes(b).length).toBeGreaterThan(0);
    expect((await lease()).holderIdentity).toBe(b.identity());
    expect((await b.get('metrics', '/metrics')).body).toContain(`leader_election_master_status{name="${leaseName}"} 1`);

    // Nothing promoted twice; versions matched throughout the handover.
    expect(activeSwitches(recorder).map((w) => w.rollout)).toEqual(['loan', 'interest']);
    expect(matchedVersionViolations(recorder, [{ dependent: 'loan', dependency: 'interest', annotation: 'tandem.dev/interest-url' }])).toEqual([]);

    // SIGTERM: b finishes and gives the lease up (holder empty, 1 s), as client-go's ReleaseOnCancel.
    expect(await b.kill('SIGTERM')).toBe(0);
    expect(await lease()).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
  });
});
