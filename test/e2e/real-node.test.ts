/**
 * Issue 14 on the real node (cluster.sh real-node): loan and interest run as real pods, a load
 * generator calls loan's active Service through kube-proxy throughout a Lockstep blue-green
 * release, and every answer says which (loan, interest) versions served it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPairs, LiveTraffic, pairOf, pairsBySecond, type Answer } from '../../examples/real-node/live-traffic.ts';
import { LOG_DIR } from './support/controller-process.ts';
import { matchedVersionViolations } from './support/invariants.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario, serviceUrl } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

const cluster = (...args: string[]) => ['test/cluster/cluster.sh', ...args];
// Skipped only when this machine cannot run a real node at all (not root, packages missing), and
// then it says why; a real node that can run but fails to start fails the test.
const check = spawnSync('bash', cluster('real-node', 'check'), { encoding: 'utf8' });
const cannotRun = check.status === 3 ? check.stdout.trim() : undefined;
if (cannotRun) console.warn(`[e2e real-node] SKIPPED: the real node cannot run on this machine: ${cannotRun}`);

let netns = '';
let s: Scenario | undefined;

describe.skipIf(cannotRun !== undefined)('real node: loan → interest as real pods under live traffic', () => {
  beforeAll(() => {
    const started = performance.now();
    const out = execFileSync('bash', cluster('real-node', 'up'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    netns = /REAL_NODE_NETNS=(\S+)/.exec(out)![1]!;
    console.log(`[e2e real-node] real node up in ${((performance.now() - started) / 1000).toFixed(1)}s (netns ${netns})`);
  }, 900_000);

  afterAll(async () => {
    await s?.cleanup();
  });

  it('Lockstep blue-green under live traffic: no answer from mismatched versions, either way', async () => {
    s = await Scenario.create('real', 'loans', ['interest', 'loan']);
    const { kube, ns, group } = s;
    for (const f of ['interest', 'loan', 'group']) await kube.applyFile(ns, `examples/real-node/${f}.yaml`);
    s.startController();
    await s.waitSteady(180_000);

    const ip = (await kube.core.readNamespacedService({ name: 'loan-active', namespace: ns })).spec!.clusterIP!;
    const traffic = LiveTraffic.start(netns, `http://${ip}:8080/api/v1/status`, { rate: 25, maxSeconds: 420 });
    const count = (pred: (a: Answer) => boolean) => traffic.answers.filter(pred).length;
    const recorder = await Recorder.start(kube, ns);
    let released = 0;
    let completed = 0;
    try {
      // Steady state under traffic first: 1.0 → 1.0, through the Service's ClusterIP and CoreDNS.
      await waitFor('25 answers from loan 1.0 → interest 1.0', async () => count((a) => pairOf(a) === '1.0→1.0') >= 25, { dump: s.dump });
      released = Date.now();
      for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `tandem.local/${m}:2.0`);
      const paused = await s.waitPhase('Paused', 240_000);
      const id = paused.status!.release!.id;
      // Both previews are up and wired; live traffic still sees only 1.0 → 1.0 (checked below).
      await kube.annotateGroup(ns, group, { 'tandem.dev/promote': id });
      await s.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 240_000);
      completed = Date.now();
      // Traffic on after completion: new loan now answers through interest's restored active address.
      const since = Date.now();
      await waitFor('25 answers from loan 2.0 → interest 2.0 after the release', async () =>
        traffic.answers.filter((a) => a.t >= since && pairOf(a) === '2.0→2.0' && a.url === serviceUrl('interest-active', ns)).length >= 25,
        { dump: s.dump, timeoutMs: 60_000 });
    } finally {
      await traffic.stop();
      await recorder.stop();
      // The history, second by second, also when a wait above timed out.
      const totals = new Map<string, number>();
      for (const a of traffic.answers) totals.set(pairOf(a), (totals.get(pairOf(a)) ?? 0) + 1);
      const seconds = pairsBySecond(traffic.answers);
      console.log(`[e2e real-node] ${traffic.answers.length} answers over ${seconds.length} s: ${formatPairs(totals)}`);
      for (const { second, pairs } of seconds) console.log(`  ${new Date(second * 1000).toISOString().slice(11, 19)}  ${formatPairs(pairs)}`);
      writeFileSync(`${LOG_DIR}/${ns}-answers.ndjson`, traffic.answers.map((a) => JSON.stringify(a)).join('\n'));
      const errors = [...new Set(traffic.answers.filter((a) => a.error).map((a) => a.error))];
      if (errors.length) console.log(`[e2e real-node] errors: ${errors.slice(0, 10).join(' | ')}`);
    }

    const answers = traffic.answers;

    // Matched versions under live traffic, both ways: new loan never answers with old interest, and
    // old loan never with new interest (its address never changes; the new pods carry pins).
    const mismatched = answers.filter((a) => a.loan !== undefined && a.interest !== undefined && a.loan !== a.interest);
    console.log(`[e2e real-node] mismatched answers: ${mismatched.length}`);
    expect(mismatched.map((a) => `${new Date(a.t).toISOString()} ${pairOf(a)} via ${a.url}`)).toEqual([]);
    // Every request fails until kube-proxy has programmed loan's new Service (tens of ms): the
    // traffic counts from its first answer, before the release began; from then on, no error.
    const first = answers.findIndex((a) => !a.error);
    expect(first, 'loan never answered').toBeGreaterThanOrEqual(0);
    expect(answers[first]!.t).toBeLessThan(released);
    expect(answers.slice(first).filter((a) => a.error).map((a) => `${new Date(a.t).toISOString()} ${a.error}`)).toEqual([]);
    // The release really happened under this traffic: 1.0 → 1.0 answered after the change was made,
    // then 2.0 → 2.0, and at ≥ 20 requests/s over the whole run.
    expect(answers.some((a) => a.t > released && pairOf(a) === '1.0→1.0')).toBe(true);
    expect(count((a) => pairOf(a) === '2.0→2.0')).toBeGreaterThanOrEqual(25);
    expect(answers.filter((a) => a.t > completed + 1_000 && pairOf(a) !== '2.0→2.0').map((a) => `${new Date(a.t).toISOString()} ${pairOf(a)}`)).toEqual([]);
    const span = (answers.at(-1)!.t - answers[0]!.t) / 1000;
    expect(answers.length / span).toBeGreaterThanOrEqual(20);
    // Also on the object level, at every observed state, with no exception (as in lockstep.test.ts).
    expect(matchedVersionViolations(recorder, [{ dependent: 'loan', dependency: 'interest', annotation: 'tandem.dev/interest-url' }])).toEqual([]);

    // New loan pods followed their pin (interest-preview during the cutover), then interest-active
    // once it was removed, through the kubelet's Downward API volume, without a restart.
    const urls = [...new Set(answers.filter((a) => a.loan === '2.0').map((a) => a.url))];
    expect(urls).toEqual([serviceUrl('interest-preview', ns), serviceUrl('interest-active', ns)]);
    const loanPods = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=loan' })).items;
    const live = loanPods.filter((p) => p.spec?.containers[0]?.image === 'tandem.local/loan:2.0');
    expect(live.length).toBe(2);
    for (const p of live) {
      expect(p.spec?.nodeName).toBe('real-node-0');
      expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    }
  }, 900_000);
});
