/**
 * DESIGN §4b on the real stack: the world moves during a release (a newer revision mid-cutover, a
 * person's hold), and the controller is SIGKILLed at every step of a cutover. Matched versions are
 * checked over every recorded event, with no window allowed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { addressKey, blueGreenApp, groupManifest, webAnalysis } from './support/apps.ts';
import { activeSwitches, emptyServiceViolations, matchedVersionViolations, selectorChanges } from './support/invariants.ts';
import { Recorder } from './support/recorder.ts';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/**
 * An AnalysisTemplate whose one `web` metric (against a loopback endpoint that always says ok) is
 * measured only after a delay: it holds a member live but not yet stable for that long.
 */
async function slowAnalysis(name: string, seconds: number): Promise<string> {
  server = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ ok: true })));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return webAnalysis(name, `http://127.0.0.1:${port}/verdict`, seconds);
}

/** The time of the recorded event a violation names (`#seq …`). */
const atOf = (recorder: Recorder, violation: string): number => {
  const seq = Number(/^#(\d+)/.exec(violation)?.[1]);
  for (const { event } of recorder.states()) if (event.seq === seq) return event.at;
  return Infinity;
};

const loanInterest = [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }];
const loanEdge = [{ dependent: 'loan', dependency: 'interest', annotation: addressKey('interest') }];

/** loan → interest at 1.0, steady, with a post-promotion analysis on loan that takes 40 s. */
async function loanSettlingSlowly(prefix: string): Promise<Scenario> {
  s = await Scenario.create(prefix, 'loans', ['interest', 'loan']);
  const { kube, ns } = s;
  await kube.apply(ns, await slowAnalysis('settle', 40));
  await kube.apply(ns, blueGreenApp('interest', '1.0'));
  await kube.apply(ns, blueGreenApp('loan', '1.0', { postPromotionAnalysis: 'settle' }));
  await kube.apply(ns, groupManifest('loans', loanInterest));
  s.startController();
  await s.waitSteady();
  return s;
}

describe('the world moves mid-release', () => {
  it('a newer interest while loan is already live: loan goes back, then forward with interest 3.0 in a release with a gate of its own', async () => {
    // loan's post-promotion analysis waits 40 s: loan is live (its active Service switched) but not yet stable.
    const sc = await loanSettlingSlowly('newer');
    const { kube, ns } = sc;
    const before = (await kube.rollout(ns, 'loan')).status!['stableRS'];
    const recorder = await Recorder.start(kube, ns);
    try {
      for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      const paused = await sc.waitPhase('Paused');
      const first = paused.status!.release!;
      await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': first.id });
      const loanTarget = first.targets.find((t) => t.rollout === 'loan')!.revision;
      await waitFor('loan live on 2.0', async () => (await kube.rollout(ns, 'loan')).status!['blueGreen']['activeSelector'] === loanTarget, { dump: sc.dump });

      // Git pushes interest 3.0 before interest 2.0 was promoted.
      await kube.setImage(ns, 'interest', 'ghcr.io/acme/interest:3.0');
      const rolled = await sc.waitGroup('rolling back the superseded release', (g) => g.status?.release?.id === first.id && (g.status.release.state === 'RollingBack' || g.status.release.state === 'Aborted'), 60_000);
      expect(rolled.status!.release!.abortReason).toContain('superseded: interest@');
      await waitFor('loan back on 1.0', async () => {
        const l = await kube.rollout(ns, 'loan');
        return l.status!['blueGreen']['activeSelector'] === before && l.spec.template.spec.containers[0].image === 'ghcr.io/acme/loan:1.0';
      }, { dump: sc.dump, timeoutMs: 120_000 });

      // Git's newest revisions (loan 2.0 with interest 3.0) start a release together, gated as usual.
      const next = await sc.waitGroup('a new release at its gate', (g) => g.status?.phase === 'Paused' && g.status.release !== undefined && g.status.release.id !== first.id, 180_000);
      expect(next.status!.release!.targets.map((t) => t.rollout)).toEqual(['interest', 'loan']);
      // Each release from here on waits at its gate for a person. (Putting loan forward from its
      // ReplicaSet's template can start one more revision of the same image: see the issue note.)
      const promoted = new Set<string>();
      for (let g = next; g.status?.phase !== 'Healthy'; ) {
        const id = g.status!.release!.id;
        expect(promoted.size, 'gated releases after the supersede').toBeLessThan(3);
        promoted.add(id);
        await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': id });
        g = await sc.waitGroup('Healthy, or the next release at its gate', (x) => (x.status?.phase === 'Healthy' && !x.status.release) || (x.status?.phase === 'Paused' && x.status.release !== undefined && !promoted.has(x.status.release.id)), 180_000);
      }
    } finally {
      await recorder.stop();
    }
    // Git declared loan 2.0 with interest 3.0 once it pushed 3.0; Argo's interest-preview followed at once.
    expect(matchedVersionViolations(recorder, loanEdge, new Set(['2.0→3.0']))).toEqual([]);
    expect((await kube.rollout(ns, 'interest')).spec.template.spec.containers[0].image).toBe('ghcr.io/acme/interest:3.0');
    expect((await kube.rollout(ns, 'loan')).spec.template.spec.containers[0].image).toBe('ghcr.io/acme/loan:2.0');
    const reasons = (await kube.events(ns, 'loans')).map((e) => e.reason);
    for (const r of ['ChangeDeferred', 'ReleaseAborted', 'ReleaseRolledBack', 'ReleaseCompleted']) expect(reasons).toContain(r);
  });

  it('one commit moves loan and interest on while loan 2.0 is live: loan 2.0 stays live and reaches interest 3.0 once it is up, never interest 1.0 after that', async () => {
    // loan 2.0 is live but not yet stable when 3.0 arrives, so Argo strips its role metadata: the pin
    // is the only address its pods keep.
    const sc = await loanSettlingSlowly('stranded');
    const { kube, ns } = sc;
    const recorder = await Recorder.start(kube, ns);
    let interest3Ready = Infinity;
    let live2: { name: string; pin: string | undefined }[] = [];
    try {
      for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      const first = (await sc.waitPhase('Paused')).status!.release!;
      await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': first.id });
      const loan2 = first.targets.find((t) => t.rollout === 'loan')!.revision;
      await waitFor('loan live on 2.0', async () => (await kube.rollout(ns, 'loan')).status!['blueGreen']['activeSelector'] === loan2, { dump: sc.dump });

      // One commit: interest 3.0 and loan 3.0, before interest 2.0 was promoted, seen by the
      // controller in one observation. Written one by one under a running controller, a reconcile
      // between the two writes sees interest move alone: the previous test's case, loan goes back.
      await sc.controller.kill('SIGTERM');
      for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:3.0`);
      sc.startController('after-commit');
      // Read off its event: the next release replaces it within a reconcile or two.
      const aborted = await waitFor('the superseded release aborted', async () => (await kube.events(ns, 'loans')).find((e) => e.reason === 'ReleaseAborted' && e.message.includes(first.id)), { dump: sc.dump, timeoutMs: 60_000 });
      expect(aborted.message).toMatch(/loan@\S+ stay live/);
      // The next release (both 3.0) at its gate: loan 2.0 is still live, its pods pinned to interest's preview (3.0).
      const next = await sc.waitGroup('the release of both 3.0 at its gate', (g) => g.status?.phase === 'Paused' && g.status.release !== undefined && g.status.release.id !== first.id, 180_000);
      const preview = `http://interest-preview.${ns}.svc.cluster.local`;
      await waitFor('loan 2.0 pods pinned to interest-preview', async () => {
        const pods = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector: `rollouts-pod-template-hash=${loan2}` })).items;
        live2 = pods.map((p) => ({ name: p.metadata!.name!, pin: p.metadata?.annotations?.[`pin.${addressKey('interest')}`] }));
        return pods.length > 0 && live2.every((p) => p.pin?.startsWith(preview));
      }, { dump: sc.dump, timeoutMs: 60_000 });
      expect((await kube.rollout(ns, 'loan')).status!['blueGreen']['activeSelector']).toBe(loan2);
      await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': next.status!.release!.id });
      await sc.waitGroup('Healthy on both 3.0', (g) => g.status?.phase === 'Healthy' && !g.status.release, 240_000);
    } finally {
      await recorder.stop();
    }
    // When interest 3.0 first had a ready pod (the recorded history's time).
    for (const { event, state } of recorder.states()) {
      const hash = state.Rollout.get('interest')?.status?.currentPodHash;
      const up = [...state.Pod.values()].some((p: any) => p.metadata.labels?.['rollouts-pod-template-hash'] === hash && p.spec.containers[0].image.endsWith(':3.0') && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'));
      if (up) {
        interest3Ready = event.at;
        break;
      }
    }
    // loan 2.0 reaching interest 3.0 is the old-to-new direction Git declared with the commit; loan 2.0
    // reaching interest 1.0 only until interest 3.0 was up and Tandem repinned (a reconcile or two).
    const violations = matchedVersionViolations(recorder, loanEdge, new Set(['2.0→3.0']));
    const late = violations.filter((v) => v.includes('(loan:2.0) reaches interest-active (interest:1.0)') && atOf(recorder, v) > interest3Ready + 10_000);
    expect(late).toEqual([]);
    expect(violations.filter((v) => !v.includes('(loan:2.0) reaches interest-active (interest:1.0)'))).toEqual([]);
    // Argo points interest-preview, where loan 2.0's pin leads, at 3.0 as soon as the commit lands,
    // before its pods are up and before any reconcile sees the push (docs/design.md, known limits):
    // an empty Service until Tandem pins loan 2.0 to interest's active side, or 3.0 is up.
    expect(emptyServiceViolations(recorder, loanEdge).filter((v) => atOf(recorder, v) > interest3Ready + 10_000)).toEqual([]);
    for (const m of ['interest', 'loan']) expect((await kube.rollout(ns, m)).spec.template.spec.containers[0].image).toBe(`ghcr.io/acme/${m}:3.0`);
  });

  it('a person’s hold at the gate wins: the gate stays shut and Tandem never unpauses the member', async () => {
    s = await loanAndInterest('hold');
    const { kube, ns } = s;
    for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
    const ready = await s.waitPhase('Paused');
    // `kubectl argo rollouts pause loan`, then a promote request for the group.
    await kube.patchRollout(ns, 'loan', { spec: { paused: true } });
    const held = await s.waitGroup('reports the hold', (g) => g.status?.conditions?.some((c) => c.type === 'Ready' && c.reason === 'WaitingForPerson') === true);
    expect(held.status!.message).toContain('loan is paused by a person');
    await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': ready.status!.release!.id });
    // A positive signal that the controller looked at the request: it is still there (kept until the
    // gate can open), the group says why, and the hold is untouched.
    await s.waitGroup('request seen while held', (g) => g.status?.phase === 'Paused' && g.metadata.annotations?.['tandem.dev/promote'] === ready.status!.release!.id && (g.status.release?.held ?? []).includes('loan'));
    const loan = await kube.rollout(ns, 'loan');
    expect(loan.spec['paused']).toBe(true);
    expect(loan.status!['stableRS']).not.toBe(loan.status!['currentPodHash']);
    expect((await kube.events(ns, 'loans')).some((e) => e.reason === 'MemberHeld')).toBe(true);

    // The person resumes: the gate opens on the request that waited, and the release completes.
    await kube.patchRollout(ns, 'loan', { spec: { paused: false } });
    await s.waitGroup('Healthy', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
  });
  it('a stalled cutover is bounded: interest never becomes stable, so at the deadline loan is rolled back, naming interest', async () => {
    s = await Scenario.create('stall', 'loans', ['interest', 'loan']);
    const { kube, ns } = s;
    // interest's post-promotion analysis measures only after 10 minutes: once promoted it is live but never stable.
    await kube.apply(ns, await slowAnalysis('forever', 600));
    await kube.apply(ns, blueGreenApp('interest', '1.0', { postPromotionAnalysis: 'forever' }));
    await kube.apply(ns, blueGreenApp('loan', '1.0'));
    await kube.apply(ns, groupManifest('loans', loanInterest, '  progressDeadlineSeconds: 20\n'));
    s.startController();
    await s.waitSteady();
    const stable = { interest: (await kube.rollout(ns, 'interest')).status!['stableRS'], loan: (await kube.rollout(ns, 'loan')).status!['stableRS'] };
    const recorder = await Recorder.start(kube, ns);
    try {
      for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      const paused = await s.waitPhase('Paused');
      await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': paused.status!.release!.id });
      const failed = await s.waitGroup('rolled back at the deadline', (g) => g.status?.phase === 'Degraded' && g.status.release?.abortReason !== undefined, 120_000);
      expect(failed.status!.release!.abortReason).toBe('not promoted within 20s: waiting for interest');
      // interest, live but never stable, is aborted (Argo takes its active Service back, its preview
      // keeps 2.0 for loan's pinned pods); loan, stable on 2.0, gets its 1.0 template back after that.
      await waitFor('both live on 1.0 again', async () => {
        const i = await kube.rollout(ns, 'interest');
        const l = await kube.rollout(ns, 'loan');
        return i.status!['abort'] === true && i.status!['blueGreen']['activeSelector'] === stable.interest &&
          l.status!['blueGreen']['activeSelector'] === stable.loan && l.spec.template.spec.containers[0].image === 'ghcr.io/acme/loan:1.0';
      }, { dump: s.dump, timeoutMs: 120_000 });
      await recorder.caughtUp();
    } finally {
      await recorder.stop();
    }
    // loan went live first (dependents first), then interest stalled live: loan came back before interest's new pods went away.
    expect(activeSwitches(recorder).slice(0, 2).map((w) => w.rollout)).toEqual(['loan', 'interest']);
    expect(matchedVersionViolations(recorder, loanEdge)).toEqual([]);
    expect(emptyServiceViolations(recorder, loanEdge)).toEqual([]);
    const reasons = (await kube.events(ns, 'loans')).map((e) => e.reason);
    for (const r of ['MemberPromoted', 'ReleaseAborted', 'ReleaseRolledBack']) expect(reasons).toContain(r);
  });

  it('`kubectl argo rollouts promote interest` at the gate: reported, and the gate opens at once, so the mismatch lasts one cutover', async () => {
    s = await loanAndInterest('byhand');
    const { kube, ns } = s;
    const recorder = await Recorder.start(kube, ns);
    let release: string;
    try {
      for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      release = (await s.waitPhase('Paused')).status!.release!.id;
      // What the Argo plugin's promote writes for a blue-green Rollout paused before its switch.
      await kube.patchRolloutStatus(ns, 'interest', { pauseConditions: null });
      await s.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 120_000);
      await recorder.caughtUp();
    } finally {
      await recorder.stop();
    }
    const events = await kube.events(ns, 'loans');
    expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'OutOfBandPromotion', message: expect.stringContaining('interest promoted by someone else') }));
    expect(events.find((e) => e.reason === 'PromotionStarted')?.message).toContain('started by out-of-band promotion of interest');
    expect(events.some((e) => e.reason === 'ReleaseCompleted' && e.message.includes(release))).toBe(true);
    // The person switched interest first; Tandem followed with loan at once. Old loan reached new
    // interest only between the two switches, and nothing else ever mismatched.
    expect(activeSwitches(recorder).map((w) => w.rollout)).toEqual(['interest', 'loan']);
    const [first, second, ...more] = selectorChanges(recorder).filter((c) => c.service.endsWith('-active'));
    expect([first?.service, second?.service, more.length]).toEqual(['interest-active', 'loan-active', 0]);
    for (const v of matchedVersionViolations(recorder, loanEdge)) {
      const seq = Number(/^#(\d+)/.exec(v)?.[1]);
      expect(v).toContain('(loan:1.0) reaches interest-active (interest:2.0)');
      expect(seq).toBeGreaterThanOrEqual(first!.seq);
      expect(seq).toBeLessThan(second!.seq);
    }
  });
});

describe('crash-atomic cutover', () => {
  it('SIGKILL at every step of a three-service cutover: no pod ever reaches a revision it does not match, nothing promoted twice', async () => {
    s = await shopChain('killsteps');
    const { kube, ns } = s;
    await s.controller.kill('SIGTERM');
    const recorder = await Recorder.start(kube, ns);
    try {
      for (const m of ['db', 'api', 'web']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      // Each controller dies right after the next write of the cutover: gate opened, web pinned,
      // web promoted, web recorded, api pinned, api promoted, api recorded, db promoted.
      const steps = [
        'after-status:ReleaseReady',
        'after-status:PromotionStarted',
        'after-action:Pin',
        'after-action:Promote',
        'after-status:MemberPromoted',
        'after-action:Pin',
        'after-action:Promote',
        'after-status:MemberPromoted',
        'after-action:Promote',
      ];
      for (const [i, failpoint] of steps.entries()) {
        const c = s.startController(`step-${i}`, [], { TANDEM_FAILPOINT: failpoint });
        if (i === 1) {
          const g = await s.waitPhase('Paused');
          await kube.annotateGroup(ns, 'shop', { 'tandem.dev/promote': g.status!.release!.id });
        }
        expect(await c.exit(), `controller ${i} armed at ${failpoint}`).toBe('SIGKILL');
      }
      s.startController('last');
      await s.waitGroup('Healthy', (g) => g.status?.phase === 'Healthy' && !g.status.release, 180_000);
    } finally {
      await recorder.stop();
    }
    await expectCrashSafe(s, recorder);
  });

  it('SIGKILL at random moments of a three-service cutover (seeded; TANDEM_KILL_SEED replays one): the same guarantees', async () => {
    const seed = Number(process.env['TANDEM_KILL_SEED'] ?? Date.now() % 1_000_000);
    // Each controller lives 0.3–2.5 s: from before its caches sync to well into its writes.
    const lives = fc.sample(fc.array(fc.integer({ min: 300, max: 2_500 }), { minLength: 8, maxLength: 8 }), { seed, numRuns: 1 })[0]!;
    console.log(`[e2e random kills] seed ${seed}: controllers killed after ${lives.join(', ')} ms`);
    s = await shopChain('killrandom');
    const { kube, ns } = s;
    const recorder = await Recorder.start(kube, ns);
    try {
      for (const m of ['db', 'api', 'web']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      const g = await s.waitPhase('Paused');
      await kube.annotateGroup(ns, 'shop', { 'tandem.dev/promote': g.status!.release!.id });
      await s.controller.kill('SIGKILL');
      for (const [i, ms] of lives.entries()) {
        const c = s.startController(`random-${i}`);
        await new Promise((r) => setTimeout(r, ms)); // the random moment itself, not a wait for quiet
        await c.kill('SIGKILL');
      }
      s.startController('last');
      await s.waitGroup('Healthy', (x) => x.status?.phase === 'Healthy' && !x.status.release, 180_000);
      await recorder.caughtUp();
    } finally {
      await recorder.stop();
    }
    await expectCrashSafe(s, recorder);
  });
});

/** interest ← loan, blue-green, steady under a running controller. */
async function loanAndInterest(prefix: string): Promise<Scenario> {
  const sc = await Scenario.create(prefix, 'loans', ['interest', 'loan']);
  await sc.kube.apply(sc.ns, blueGreenApp('interest', '1.0'));
  await sc.kube.apply(sc.ns, blueGreenApp('loan', '1.0'));
  await sc.kube.apply(sc.ns, groupManifest('loans', loanInterest));
  sc.startController();
  await sc.waitSteady();
  return sc;
}

/** db ← api ← web, steady under a controller that keeps running. */
async function shopChain(prefix: string): Promise<Scenario> {
  const sc = await Scenario.create(prefix, 'shop', ['db', 'api', 'web']);
  for (const m of ['db', 'api', 'web']) await sc.kube.apply(sc.ns, blueGreenApp(m, '1.0'));
  await sc.kube.apply(sc.ns, groupManifest('shop', [{ rollout: 'db' }, { rollout: 'api', dependsOn: ['db'] }, { rollout: 'web', dependsOn: ['api'] }]));
  sc.startController('steady');
  await sc.waitSteady();
  return sc;
}

/** No pod ever reached a revision it does not match, each member switched once and in order, no pin left. */
async function expectCrashSafe(sc: Scenario, recorder: Recorder) {
  expect(matchedVersionViolations(recorder, [
    { dependent: 'web', dependency: 'api', annotation: addressKey('api') },
    { dependent: 'api', dependency: 'db', annotation: addressKey('db') },
  ])).toEqual([]);
  expect(activeSwitches(recorder).map((w) => w.rollout)).toEqual(['web', 'api', 'db']);
  for (const m of ['web', 'api']) {
    const r = await sc.kube.rollout(sc.ns, m);
    const pods = await sc.podAnnotations(m, r.status!['stableRS']);
    expect(pods.length).toBeGreaterThan(0);
    for (const a of pods) expect(Object.keys(a).filter((k) => k.startsWith('pin.')), `${m}'s pins left after the release`).toEqual([]);
  }
}
