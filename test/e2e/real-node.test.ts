/**
 * Issue 14 on the real node (cluster.sh real-node): loan, interest and the worker run as real pods.
 * Load generators call loan's Services through kube-proxy throughout Lockstep releases (blue-green,
 * canary, a rollback after a partial cutover), and every answer says which (loan, interest)
 * versions served it; the worker takes messages from a real RabbitMQ through its promotion.
 */
import { connect } from 'amqplib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pairOf, type Answer } from '../../examples/real-node/live-traffic.ts';
import { addressKey, webAnalysis } from './support/apps.ts';
import { emptyServiceViolations, matchedVersionViolations, selectorChanges } from './support/invariants.ts';
import { asCanary, nodeBroker, previewWindow, unpinWindow, realNodeCannotRun, realNodeUp, ServiceTraffic, withPostPromotionAnalysis, type NodeBroker } from './support/real-node.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario, serviceUrl } from './support/scenario.ts';
import { verdictServer, type VerdictServer } from './support/verdict-server.ts';
import { waitFor } from './support/wait.ts';

// Skipped only when this machine cannot run a real node at all (not root, packages missing), and
// then it says why; a real node that can run but fails to start fails the test.
const cannotRun = realNodeCannotRun();
if (cannotRun) console.warn(`[e2e real-node] SKIPPED: the real node cannot run on this machine: ${cannotRun}`);

let netns = '';

// The canary and rollback releases caught windows of the data plane (kube-proxy following a
// Service a moment after its object moved) until the planner waited for it (docs/design.md, "The
// data plane"); each window is still measured and printed. Both require the preview window
// (previewWindow) empty: Tandem gives loan's preview (canary) pods interest's preview (canary)
// address only once that serves new interest alone (preview-hold.ts).

/** loan's status endpoint behind one of its Services, by ClusterIP (the traffic runs in the node's namespace). */
async function statusUrl(kube: Scenario['kube'], ns: string, service: string): Promise<string> {
  return `http://${(await kube.core.readNamespacedService({ name: service, namespace: ns })).spec!.clusterIP!}:8080/api/v1/status`;
}

/** Where each live pod of an image runs and how often its container restarted. */
async function runningPods(kube: Scenario['kube'], ns: string, image: string): Promise<{ node: string | undefined; restarts: number | undefined }[]> {
  const app = image.slice(image.lastIndexOf('/') + 1, image.lastIndexOf(':'));
  const pods = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
  return pods.filter((p) => !p.metadata?.deletionTimestamp && p.spec?.containers[0]?.image === image)
    .map((p) => ({ node: p.spec?.nodeName, restarts: p.status?.containerStatuses?.[0]?.restartCount }));
}
let s: Scenario | undefined;
let verdict: VerdictServer | undefined;
let broker: NodeBroker | undefined;

describe.skipIf(cannotRun !== undefined)('real node: loan → interest as real pods under live traffic', () => {
  beforeAll(() => {
    netns = realNodeUp();
  }, 900_000);

  afterEach(async () => {
    await s?.cleanup();
    await verdict?.close();
    await broker?.stop();
    s = undefined;
    verdict = undefined;
    broker = undefined;
  });

  it('Lockstep blue-green under live traffic: no answer from mismatched versions, either way', async () => {
    s = await Scenario.create('real', 'loans', ['interest', 'loan']);
    const { kube, ns, group } = s;
    for (const f of ['interest', 'loan', 'group']) await kube.applyFile(ns, `examples/real-node/${f}.yaml`);
    s.startController();
    await s.waitSteady(180_000);

    const traffic = ServiceTraffic.start(netns, { 'loan-active': await statusUrl(kube, ns, 'loan-active'), 'loan-preview': await statusUrl(kube, ns, 'loan-preview') }, { rate: 25, maxSeconds: 420 });
    const count = (pred: (a: Answer) => boolean) => traffic.count('loan-active', pred);
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
        traffic.countSince('loan-active', since, '2.0→2.0', (a) => a.url === serviceUrl('interest-active', ns)) >= 25,
        { dump: s.dump, timeoutMs: 60_000 });
    } finally {
      // The history, second by second, also when a wait above timed out.
      await traffic.stop(`${ns}-answers`);
      await recorder.stop();
    }

    const answers = traffic.answers('loan-active');

    // Matched versions under live traffic, both ways, through both Services with no exception: new
    // loan never answers with old interest, and old loan never with new interest (its address never
    // changes; the new pods carry pins). The preview window is measured and must be empty: Argo
    // points loan-preview at new loan at once, but those pods are ready only once they have
    // interest's preview address, which Tandem gives once interest-preview serves new interest alone.
    const window = previewWindow(recorder, traffic, 'loan-preview', { dependent: 'loan-preview', dependency: 'interest-preview' }, { inWindow: '2.0→1.0', after: '2.0→2.0' });
    expect(window.answers).toBe(0);
    expect(traffic.mismatches()).toEqual([]);
    // From loan's first answer, before the release began, no error through the whole release; but
    // Argo points loan's preview Service at the new ReplicaSet as soon as it exists, before any of
    // its pods is ready: through it requests are refused from then until the first new loan answers.
    expect(traffic.errorsAfterFirstAnswer('loan-active', released)).toEqual([]);
    const previewReady = traffic.answers('loan-preview').find((a) => a.t > window.from && a.loan === '2.0')!.t;
    const previewEmpty = (a: Answer) => a.t >= window.from && a.t < previewReady;
    console.log(`[e2e real-node] loan-preview selected no ready pod for ${previewReady - window.from} ms: ${traffic.count('loan-preview', (a) => !!a.error && previewEmpty(a))} requests failed`);
    expect(traffic.errorsAfterFirstAnswer('loan-preview', released, previewEmpty)).toEqual([]);
    expect(traffic.rate('loan-preview')).toBeGreaterThanOrEqual(20);
    expect(traffic.answers('loan-preview').filter((a) => a.t > completed + 1_000 && pairOf(a) !== '2.0→2.0').map((a) => `${new Date(a.t).toISOString()} ${pairOf(a)}`)).toEqual([]);
    // The release really happened under this traffic: 1.0 → 1.0 answered after the change was made,
    // then 2.0 → 2.0, and at ≥ 20 requests/s over the whole run.
    expect(answers.some((a) => a.t > released && pairOf(a) === '1.0→1.0')).toBe(true);
    expect(count((a) => pairOf(a) === '2.0→2.0')).toBeGreaterThanOrEqual(25);
    expect(answers.filter((a) => a.t > completed + 1_000 && pairOf(a) !== '2.0→2.0').map((a) => `${new Date(a.t).toISOString()} ${pairOf(a)}`)).toEqual([]);
    expect(traffic.rate('loan-active')).toBeGreaterThanOrEqual(20);
    // Also on the object level, at every observed state, with no exception (as in lockstep.test.ts).
    expect(matchedVersionViolations(recorder, [{ dependent: 'loan', dependency: 'interest', annotation: 'tandem.dev/interest-url' }])).toEqual([]);

    // New loan pods followed their pin (interest-preview during the cutover), then interest-active
    // once it was removed, through the kubelet's Downward API volume, without a restart.
    const urls = [...new Set(answers.filter((a) => a.loan === '2.0').map((a) => a.url))];
    expect(urls).toEqual([serviceUrl('interest-preview', ns), serviceUrl('interest-active', ns)]);
    expect(await runningPods(s.kube, ns, 'tandem.local/loan:2.0')).toEqual(Array(2).fill({ node: 'real-node-0', restarts: 0 }));
  }, 900_000);

  it('Lockstep canary under live traffic through loan-stable and loan-canary: no answer from mismatched versions', async () => {
    s = await Scenario.create('realcan', 'loans', ['interest', 'loan']);
    const { kube, ns, group } = s;
    for (const f of ['interest', 'loan']) await kube.applyFile(ns, `examples/real-node/${f}.yaml`, (t) => asCanary(t, [25, 75]));
    await kube.applyFile(ns, 'examples/real-node/group.yaml');
    s.startController();
    await s.waitSteady(180_000);

    const traffic = ServiceTraffic.start(netns, { 'loan-stable': await statusUrl(kube, ns, 'loan-stable'), 'loan-canary': await statusUrl(kube, ns, 'loan-canary') }, { rate: 25, maxSeconds: 480 });
    const recorder = await Recorder.start(kube, ns);
    const at: Record<string, number> = {};
    try {
      for (const svc of traffic.names) {
        await waitFor(`25 answers 1.0 → 1.0 through ${svc}`, async () => traffic.countSince(svc, 0, '1.0→1.0') >= 25, { dump: s.dump });
      }
      at['released'] = Date.now();
      for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `tandem.local/${m}:2.0`);
      for (const [barrier, promote] of [[1, (id: string) => id], [2, (id: string) => `${id}/2`]] as const) {
        const paused = await s.waitGroup(`Paused at barrier ${barrier}/2`, (g) => g.status?.phase === 'Paused' && g.status.message?.includes(`(barrier ${barrier}/2)`) === true, 240_000);
        at[`barrier${barrier}`] = Date.now();
        // The canary answers 2.0 → 2.0 through loan-canary while loan-stable still answers 1.0 → 1.0.
        for (const svc of traffic.names) {
          const pair = svc === 'loan-canary' ? '2.0→2.0' : '1.0→1.0';
          await waitFor(`10 answers ${pair} through ${svc} at barrier ${barrier}`, async () => traffic.countSince(svc, at[`barrier${barrier}`]!, pair) >= 10, { dump: s.dump, timeoutMs: 60_000 });
        }
        at[`promoted${barrier}`] = Date.now();
        await kube.annotateGroup(ns, group, { 'tandem.dev/promote': promote(paused.status!.release!.id) });
      }
      await s.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 240_000);
      at['completed'] = Date.now();
      for (const svc of traffic.names) {
        await waitFor(`25 answers 2.0 → 2.0 through ${svc} via interest-stable after the release`, async () =>
          traffic.countSince(svc, at['completed']!, '2.0→2.0', (a) => a.url === serviceUrl('interest-stable', ns)) >= 25, { dump: s.dump, timeoutMs: 60_000 });
      }
      // The recorded history reaches the end of the old pods (the unpin window's end, below).
      await waitFor('no interest 1.0 pod left', async () =>
        (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=interest' })).items.every((p) => p.spec?.containers[0]?.image === 'tandem.local/interest:2.0'), { dump: s.dump, timeoutMs: 60_000 });
      await recorder.caughtUp();
    } finally {
      await traffic.stop(`${ns}-answers`);
      await recorder.stop();
      console.log(`[e2e real-node] canary: ${Object.entries(at).map(([k, t]) => `${k} ${new Date(t).toISOString().slice(11, 23)}`).join(', ')}`);
    }

    // Matched versions through both Services, both ways, with no exception. Both windows are closed
    // and still measured: the preview window (loan's canary available before interest's: 25–61
    // answers 2.0→1.0 through loan-canary in 5 of 14 runs before), now that loan's canary pods get
    // interest's canary address only once that serves new interest alone, so Argo switches
    // loan-canary after interest-canary; the unpin window (27 answers 2.0→1.0 in 1.4 s, once in
    // eight runs), now that the pins stay until interest-stable's EndpointSlices list only new pods
    // and dataPlaneSettleSeconds have passed.
    const window = previewWindow(recorder, traffic, 'loan-canary', { dependent: 'loan-canary', dependency: 'interest-canary' }, { inWindow: '2.0→1.0', after: '2.0→2.0' });
    const unpinned = unpinWindow(recorder, traffic, { dependent: 'loan', dependency: 'interest', annotation: 'tandem.dev/interest-url', address: serviceUrl('interest-stable', ns) }, { old: '1.0', new: '2.0' });
    expect(unpinned.answers).toBe(0);
    expect(window.answers).toBe(0);
    expect(traffic.mismatches()).toEqual([]);
    for (const svc of traffic.names) {
      expect(traffic.errorsAfterFirstAnswer(svc, at['released']!)).toEqual([]);
      expect(traffic.rate(svc)).toBeGreaterThanOrEqual(20);
      // Only the new pair once the release completed.
      expect(traffic.answers(svc).filter((a) => a.t > at['completed']! + 1_000 && pairOf(a) !== '2.0→2.0').map((a) => `${new Date(a.t).toISOString()} ${pairOf(a)}`)).toEqual([]);
    }
    // Until loan was promoted at the last barrier, its stable Service answered only from the old pair.
    expect(traffic.answers('loan-stable').filter((a) => a.t < at['promoted2']! && pairOf(a) !== '1.0→1.0')).toEqual([]);
    expect(matchedVersionViolations(recorder, [{ dependent: 'loan', dependency: 'interest', annotation: 'tandem.dev/interest-url' }])).toEqual([]);

    // New loan pods reached interest's canary (their canary metadata, then the pin through the
    // cutover), then interest's stable Service once the pin went; without a restart.
    const urls = [...new Set([...traffic.answers('loan-stable'), ...traffic.answers('loan-canary')].sort((a, b) => a.t - b.t).filter((a) => a.loan === '2.0').map((a) => a.url))];
    expect(urls).toEqual([serviceUrl('interest-canary', ns), serviceUrl('interest-stable', ns)]);
    expect(await runningPods(kube, ns, 'tandem.local/loan:2.0')).toEqual(Array(4).fill({ node: 'real-node-0', restarts: 0 }));
  }, 900_000);

  it("interest's post-promotion analysis fails after loan went live: both roll back under live traffic, no answer from mismatched versions", async () => {
    verdict = await verdictServer();
    s = await Scenario.create('realrb', 'loans', ['interest', 'loan']);
    const { kube, ns, group } = s;
    await kube.apply(ns, webAnalysis('interest-ok', verdict.url));
    await kube.applyFile(ns, 'examples/real-node/interest.yaml', (t) => withPostPromotionAnalysis(t, 'interest-ok'));
    for (const f of ['loan', 'group']) await kube.applyFile(ns, `examples/real-node/${f}.yaml`);
    s.startController();
    await s.waitSteady(180_000);
    const before = { interest: (await kube.rollout(ns, 'interest')).status!['stableRS'], loan: (await kube.rollout(ns, 'loan')).status!['stableRS'] };

    const traffic = ServiceTraffic.start(netns, { 'loan-active': await statusUrl(kube, ns, 'loan-active') }, { rate: 25, maxSeconds: 480 });
    const recorder = await Recorder.start(kube, ns);
    const at: Record<string, number> = {};
    let targets: { rollout: string; revision: string }[] = [];
    try {
      await waitFor('25 answers 1.0 → 1.0', async () => traffic.countSince('loan-active', 0, '1.0→1.0') >= 25, { dump: s.dump });
      verdict.set(false);
      at['released'] = Date.now();
      for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `tandem.local/${m}:2.0`);
      const paused = await s.waitGroup('release of both ready', (g) => g.status?.phase === 'Paused' && g.status.release?.targets.length === 2, 240_000);
      targets = paused.status!.release!.targets;
      await kube.annotateGroup(ns, group, { 'tandem.dev/promote': paused.status!.release!.id });
      at['promoted'] = Date.now();
      await s.waitGroup('rolled back', (g) => g.status?.phase === 'Degraded' && (g.status.release?.rolledBack ?? []).includes('loan'), 240_000);
      await waitFor('both on their previous revisions', async () => {
        const [i, l] = [await kube.rollout(ns, 'interest'), await kube.rollout(ns, 'loan')];
        return i.status!['blueGreen']['activeSelector'] === before.interest && i.status!['stableRS'] === before.interest &&
          l.status!['stableRS'] === before.loan && l.status!['currentPodHash'] === before.loan && l.status!['blueGreen']['activeSelector'] === before.loan;
      }, { dump: s.dump, timeoutMs: 120_000 });
      at['rolledBack'] = Date.now();
      await waitFor('25 answers 1.0 → 1.0 via interest-active after the rollback', async () =>
        traffic.countSince('loan-active', at['rolledBack']!, '1.0→1.0', (a) => a.url === serviceUrl('interest-active', ns)) >= 25, { dump: s.dump, timeoutMs: 60_000 });
      await recorder.caughtUp();
    } finally {
      await traffic.stop(`${ns}-answers`);
      await recorder.stop();
      console.log(`[e2e real-node] rollback: ${Object.entries(at).map(([k, t]) => `${k} ${new Date(t).toISOString().slice(11, 23)}`).join(', ')}`);
    }

    expect(verdict.asked()).toBeGreaterThan(0);
    // A partial cutover: both active Services went to the new revision (loan first), then back.
    const target = (m: string) => targets.find((t) => t.rollout === m)!.revision;
    expect(selectorChanges(recorder).filter((c) => c.service.endsWith('-active')).map((c) => `${c.service} → ${c.to}`)).toEqual([
      `loan-active → ${target('loan')}`, `interest-active → ${target('interest')}`, `interest-active → ${before.interest}`, `loan-active → ${before.loan}`,
    ]);
    // The partial cutover happened under this traffic (new loan answered, with new interest), and
    // through it and the rollback no answer came from mismatched versions and no request failed.
    expect(traffic.countSince('loan-active', at['promoted']!, '2.0→2.0')).toBeGreaterThan(0);
    // With no exception: new loan's pins stay after loan-active is back on the old revision until its
    // EndpointSlices list only old loan pods and dataPlaneSettleSeconds have passed (kube-proxy still
    // routed loan-active to the new pods for a moment: 9 answers 2.0→1.0 in 0.3 s once, before that),
    // and interest was promoted only once loan-active routed to new loan alone (one answer 1.0→2.0 once).
    const loanBack = recorder.events[selectorChanges(recorder).filter((c) => c.service === 'loan-active').at(-1)!.seq]!.at;
    const followed = traffic.answers('loan-active').find((a) => a.t > loanBack && pairOf(a) === '1.0→1.0')!.t;
    const unpinned = unpinWindow(recorder, traffic, { dependent: 'loan', dependency: 'interest', annotation: addressKey('interest'), address: serviceUrl('interest-active', ns) }, { old: '1.0', new: '2.0' }, followed);
    expect(unpinned.answers).toBe(0);
    expect(traffic.mismatches()).toEqual([]);
    expect(traffic.errorsAfterFirstAnswer('loan-active', at['released']!)).toEqual([]);
    expect(traffic.rate('loan-active')).toBeGreaterThanOrEqual(20);
    const edges = [{ dependent: 'loan', dependency: 'interest', annotation: addressKey('interest') }];
    expect(matchedVersionViolations(recorder, edges)).toEqual([]);
    expect(emptyServiceViolations(recorder, edges)).toEqual([]);
    // Every member back on the previous revision: Git's images for loan restored, interest aborted.
    const loan = await kube.rollout(ns, 'loan');
    expect(loan.spec.template.spec.containers[0].image).toBe('tandem.local/loan:1.0');
    expect((await kube.rollout(ns, 'interest')).status!['abort']).toBe(true);
    // Once kube-proxy followed loan-active back (its first old answer after the rollback), only 1.0 → 1.0.
    const back = traffic.answers('loan-active').find((a) => a.t > at['rolledBack']! && pairOf(a) === '1.0→1.0')!.t;
    expect(traffic.answers('loan-active').filter((a) => a.t > back && pairOf(a) !== '1.0→1.0').map((a) => `${new Date(a.t).toISOString()} ${pairOf(a)}`)).toEqual([]);
    expect(await runningPods(kube, ns, 'tandem.local/loan:1.0')).toEqual(Array(2).fill({ node: 'real-node-0', restarts: 0 }));
  }, 900_000);

  it('worker with RabbitMQ: the preview worker never takes a production message; every message processed exactly once across the promotion', async () => {
    broker = await nodeBroker(netns);
    const amqp = await connect(broker.url);
    try {
      const channel = await amqp.createConfirmChannel();
      const [PROD, PREVIEW, RESULTS] = ['loans', 'loans-preview', 'worker-results'];
      for (const q of [PROD, PREVIEW, RESULTS]) {
        await channel.deleteQueue(q);
        await channel.assertQueue(q, { durable: true });
      }
      // One record per processed message, from every worker pod, also after it is gone.
      const results: { id: string; queue: string; version: string; pod: string; t: number }[] = [];
      await channel.consume(RESULTS, (m) => m && results.push(JSON.parse(m.content.toString())), { noAck: true });
      const published: Record<string, string[]> = { [PROD]: [], [PREVIEW]: [] };
      const publish = async (queue: string, id: string) => {
        channel.sendToQueue(queue, Buffer.from(id), { messageId: id, persistent: true });
        published[queue]!.push(id);
        await channel.waitForConfirms();
      };

      s = await Scenario.create('realwk', 'queue', ['worker']);
      const { kube, ns, group } = s;
      await kube.applyFile(ns, 'examples/real-node/worker.yaml');
      s.startController();
      await s.waitSteady(180_000);
      const recorder = await Recorder.start(kube, ns);
      // Production traffic throughout: 20 messages a second.
      let producing = true;
      const producer = (async () => {
        for (let i = 0; producing; i++) {
          await publish(PROD, `p-${i}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const at: Record<string, number> = {};
      try {
        await waitFor('40 production messages processed by worker 1.0', async () => results.filter((r) => r.queue === PROD && r.version === '1.0').length >= 40, { dump: s.dump });
        at['released'] = Date.now();
        await kube.setImage(ns, 'worker', 'tandem.local/worker:2.0');
        const paused = await s.waitPhase('Paused', 240_000);
        for (let i = 0; i < 30; i++) await publish(PREVIEW, `q-${i}`);
        await waitFor('the preview worker processed the 30 preview messages', async () => results.filter((r) => r.queue === PREVIEW).length >= 30, { dump: s.dump, timeoutMs: 60_000 });
        at['promoted'] = Date.now();
        await kube.annotateGroup(ns, group, { 'tandem.dev/promote': paused.status!.release!.id });
        await s.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 240_000);
        at['completed'] = Date.now();
        await waitFor('40 production messages processed by worker 2.0 after the release', async () =>
          results.filter((r) => r.queue === PROD && r.version === '2.0' && r.t > at['completed']!).length >= 40, { dump: s.dump, timeoutMs: 60_000 });
        producing = false;
        await producer;
        // Every worker 1.0 pod gone (so none can still take or redeliver a message), and every
        // message published has its record.
        await waitFor('the old worker pods gone', async () => (await runningPods(kube, ns, 'tandem.local/worker:1.0')).length === 0 &&
          (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=worker' })).items.every((p) => p.spec?.containers[0]?.image === 'tandem.local/worker:2.0'), { dump: s.dump, timeoutMs: 120_000 });
        await waitFor('a record for every published message', async () => published[PROD]!.every((id) => results.some((r) => r.id === id)), { dump: s.dump, timeoutMs: 60_000 });
        await recorder.caughtUp();
      } finally {
        producing = false;
        await producer;
        await recorder.stop();
        const counts = new Map<string, number>();
        for (const r of results) counts.set(`${r.queue} by ${r.version}`, (counts.get(`${r.queue} by ${r.version}`) ?? 0) + 1);
        console.log(`[e2e real-node] worker: published ${published[PROD]!.length} production, ${published[PREVIEW]!.length} preview; processed ${[...counts].map(([k, n]) => `${k} ×${n}`).join(', ')}; ${Object.entries(at).map(([k, t]) => `${k} ${new Date(t).toISOString().slice(11, 23)}`).join(', ')}`);
      }

      // The preview worker never took a production message: worker 2.0 processed none before its
      // pods were switched to the active side (the worker-active Service moved to them), and the
      // preview messages only went to it.
      const switched = recorder.events[selectorChanges(recorder).find((c) => c.service === 'worker-active')!.seq]!.at;
      expect(results.filter((r) => r.version === '2.0' && r.queue === PROD && r.t < switched).map((r) => `${r.id} by ${r.pod} at ${new Date(r.t).toISOString()}`)).toEqual([]);
      expect(results.filter((r) => r.queue === PREVIEW).map((r) => r.version)).toEqual(Array(30).fill('2.0'));
      // Exactly once: every message published has one record, none has two, nothing is left queued.
      const ids = (queue: string) => results.filter((r) => r.queue === queue).map((r) => r.id).sort();
      expect(ids(PROD)).toEqual([...published[PROD]!].sort());
      expect(ids(PREVIEW)).toEqual([...published[PREVIEW]!].sort());
      expect((await channel.checkQueue(PROD)).messageCount).toBe(0);
      // The release happened under this traffic: both versions took production messages.
      expect(results.some((r) => r.queue === PROD && r.version === '1.0' && r.t > at['released']!)).toBe(true);
      expect(await runningPods(s.kube, s.ns, 'tandem.local/worker:2.0')).toEqual(Array(2).fill({ node: 'real-node-0', restarts: 0 }));
    } finally {
      await amqp.close();
    }
  }, 900_000);
});
