/** DESIGN §5 restart-safe: a controller killed mid-cutover is replaced and finishes the release. */
import { afterEach, describe, expect, it } from 'vitest';
import { activeSwitches, matchedVersionViolations } from './support/invariants.ts';
import { idleAfter } from './support/planned-again.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

describe('restart', () => {
  it('SIGKILL right after the first member is promoted, then a new controller finishes without promoting twice', async () => {
    s = await Scenario.create('restart', 'loans', ['interest', 'loan']);
    const sc = s;
    await sc.kube.applyFile(sc.ns, 'examples/loan-interest/interest.yaml');
    await sc.kube.applyFile(sc.ns, 'examples/loan-interest/loan.yaml');
    await sc.kube.applyFile(sc.ns, 'examples/loan-interest/group.yaml');
    // The first controller SIGKILLs itself right after persisting that its first member was promoted.
    const first = sc.startController('first', [], { TANDEM_FAILPOINT: 'after-status:MemberPromoted' });
    await sc.waitSteady();
    const recorder = await Recorder.start(sc.kube, sc.ns);
    try {
      await sc.kube.setImage(sc.ns, 'interest', 'ghcr.io/acme/interest:2.0');
      await sc.kube.setImage(sc.ns, 'loan', 'ghcr.io/acme/loan:2.0');
      const paused = await sc.waitPhase('Paused');
      await sc.kube.annotateGroup(sc.ns, 'loans', { 'tandem.dev/promote': paused.status!.release!.id });
      expect(await first.exit()).toBe('SIGKILL');
      const g = await sc.kube.group(sc.ns, 'loans');
      expect(g.status!.release!.promotedMembers).toEqual(['loan']);
      const interest = await sc.kube.rollout(sc.ns, 'interest');
      expect(interest.status!['stableRS']).not.toBe(interest.status!['currentPodHash']);
      expect(interest.status!['pauseConditions']).toHaveLength(1);

      sc.startController('second');
      await sc.waitGroup('Healthy after restart', (g) => g.status?.phase === 'Healthy' && !g.status.release, 120_000);
    } finally {
      await recorder.stop();
    }
    const switches = activeSwitches(recorder);
    expect(switches.map((w) => w.rollout)).toEqual(['loan', 'interest']);
    expect(matchedVersionViolations(recorder, [{ dependent: 'loan', dependency: 'interest', annotation: 'tandem.dev/interest-url' }])).toEqual([]);
    // Events go out after the status write, so the crash lost loan's event; none is ever sent twice.
    const events = await waitFor('ReleaseCompleted event', async () => {
      const es = await sc.kube.events(sc.ns, 'loans');
      return es.some((e) => e.reason === 'ReleaseCompleted') ? es : undefined;
    });
    const promoted = events.filter((e) => e.reason === 'MemberPromoted');
    expect(promoted.map((e) => e.message.split(':')[1]?.trim().split(' ')[0])).toEqual(['interest']);
  });

  it('a controller started after the group exists reacts to Rollout changes at once', async () => {
    s = await Scenario.create('warmstart', 'loans', ['interest', 'loan']);
    const sc = s;
    for (const f of ['interest', 'loan', 'group']) await sc.kube.applyFile(sc.ns, `examples/loan-interest/${f}.yaml`);
    const first = sc.startController('first');
    await sc.waitSteady();
    expect(await first.kill('SIGTERM')).toBe(0);
    const second = sc.startController('second');
    await waitFor('second controller synced', async () => second.logLines().some((l) => l.includes('caches synced')));
    await idleAfter(second, 1); // its first reconcile changes nothing: no group event follows
    await sc.kube.setImage(sc.ns, 'interest', 'ghcr.io/acme/interest:2.0');
    // Well before the periodic resync (5 minutes): the Rollout event must wake the group.
    await sc.waitGroup('release started', (g) => g.status?.release !== undefined, 20_000);
  });
});
