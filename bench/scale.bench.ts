// Tandem at scale on the local stack (kwok pods, real Argo Rollouts): N groups of three chained
// blue-green Rollouts, and as Argo's baseline 3N plain Rollouts that promote themselves. Prints start →
// ready, start → every group Healthy, memory, the controller's idle writes (counted from a watch),
// reconcile quantiles, a release storm of every group against the baseline storm, and handoff latency.
//   npm run bench:scale -- --groups 100 [--namespaces 1] [--idle 30] [--cli dist/cli.js] [--node-arg=--cpu-prof] [--keep | --reuse]
// See docs/performance.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import PQueue from 'p-queue';
import { PooledKubeConfig } from '../src/kube/pooled-kubeconfig.ts';
import { BenchController, type Memory } from './scale/controller.ts';
import { ARGO, BENCH_LABEL, MEMBERS, TANDEM, baselineObjects, groupObjects, memberName, type Obj } from './scale/manifests.ts';
import { Observer, groupHealthy, promotedOn, type RolloutObj, type Write } from './scale/observer.ts';
import { histogram, histogramDelta, histogramQuantile, quantile } from './scale/stats.ts';
import { LoadSampler } from './scale/load.ts';
import { findWorld, imageVersion, worldOf, type World } from './scale/world.ts';

const { values: args } = parseArgs({
  options: {
    groups: { type: 'string', default: '100' },
    namespaces: { type: 'string', default: '1' },
    idle: { type: 'string', default: '30' },
    cli: { type: 'string', default: 'dist/cli.js' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    /** A flag for the controller itself (repeatable), e.g. --controller-arg=--list-page-size=0. */
    'controller-arg': { type: 'string', multiple: true, default: [] },
    label: { type: 'string', default: '' },
    /** The groups' dataPlaneSettleSeconds (unset: the CRD's default, 3 s, as a user gets it). */
    settle: { type: 'string' },
    /** Leave the world (namespaces, groups, Rollouts) for a later --reuse run. */
    keep: { type: 'boolean', default: false },
    /**
     * Take the world a --keep run left if it has this run's shape (groups, namespaces, baseline), else
     * create one; keep it either way. Its groups are deleted and created anew (no status, no
     * finalizer), its Rollouts stay as they are: wired already, so start-up has no wiring for Argo to
     * observe (see docs/performance.md).
     */
    reuse: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
    /** Start-up, idle and restart only: the figures of the curve against N, when the storms do not fit. */
    'no-storm': { type: 'boolean', default: false },
    /**
     * No 3N baseline Rollouts (only with --no-storm: they serve only the baseline storm). Argo then
     * brings up half the Rollouts before the controller starts, so start-up runs on a lighter API.
     */
    'no-baseline': { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`npm run bench:scale -- --groups N [options]   (see docs/performance.md)
  --groups N            groups of three chained blue-green Rollouts (default 100)
  --namespaces K        spread over K namespaces (default 1)
  --idle S              seconds to count writes while idle, and after the restart (default 30)
  --settle S            the groups' dataPlaneSettleSeconds (default: the CRD's, 3 s)
  --label name          added to the result's file name
  --cli path            the controller build to run (default dist/cli.js)
  --node-arg=FLAG       a flag for the controller's node (repeatable), e.g. --node-arg=--heap-prof
  --controller-arg=FLAG a flag for the controller (repeatable), e.g. --controller-arg=--list-page-size=0
  --no-storm            start-up, idle and restart only
  --no-baseline         no 3N baseline Rollouts (only with --no-storm)
  --keep                leave the world (namespaces, groups, Rollouts) for a later --reuse run
  --reuse               take a kept world of the same shape (else create one), keep it after the run;
                        its groups are created anew, its Rollouts stay wired (start-up differs from a
                        first run's: no wiring for Argo to observe)`);
  process.exit(0);
}
if (args['no-baseline'] && !args['no-storm']) throw new Error('--no-baseline needs --no-storm: the storm is timed against the baseline');
const BASELINE = !args['no-baseline'];
const N = Number(args.groups);
const K = Number(args.namespaces);
const IDLE_MS = Number(args.idle) * 1000;
const SETTLE_S = args.settle === undefined ? undefined : Number(args.settle);
/** What the controller waits after a Service's slices list only the new pods (the CRD's default is 3 s). */
const SETTLE_MS = (SETTLE_S ?? 3) * 1000;
const RESULTS = 'bench/results';
const LOGS = process.env['TANDEM_E2E_LOGS'] ?? '/tmp/tandem-bench';
const IMAGE_OF = (v: number) => `ghcr.io/acme/app:${v}.0`;
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const say = (msg: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const secs = (ms: number) => Math.round(ms) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the stack ----
const load = new LoadSampler();
const up = execFileSync('bash', ['test/cluster/cluster.sh', 'up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const kubeconfig = /KUBECONFIG=(.+)\s*$/.exec(up.trim())?.[1];
if (!kubeconfig) throw new Error(`cluster up printed no KUBECONFIG line:\n${up}`);
const stackDir = execFileSync('bash', ['-c', '. test/cluster/versions.sh && echo "$STACK_DIR"'], { encoding: 'utf8' }).trim();
execFileSync(`${stackDir}/bin/kubectl`, ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--force-conflicts', '-f', 'crds/rolloutgroup.yaml'], { stdio: 'ignore' });
execFileSync(`${stackDir}/bin/kubectl`, ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', 'crd/rolloutgroups.tandem.dev', '--timeout=60s'], { stdio: 'ignore' });
// One connection pool for the benchmark's own requests too (creating 19 objects per group).
const kc = new PooledKubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const objects = KubernetesObjectApi.makeApiClient(kc);
const pool = new PQueue({ concurrency: 32 });
mkdirSync(LOGS, { recursive: true });

/**
 * Removes what earlier runs left (a group's finalizer would hold its namespace forever without a
 * controller); resolves once those namespaces are gone. Each run has namespaces of its own, so the
 * objects of this run are created while the old ones are deleted (10 minutes for N = 100 under load);
 * nothing is measured before they are gone.
 */
async function removeBenchNamespaces(keep: World | undefined): Promise<() => Promise<void>> {
  const kept = new Set(keep ? [...keep.groupNamespaces, keep.baseNs] : []);
  const nss = (await core.listNamespace({ labelSelector: BENCH_LABEL })).items.map((n) => n.metadata!.name!).filter((n) => !kept.has(n));
  if (nss.length === 0) return () => Promise.resolve();
  say(`removing ${nss.length} namespaces of an earlier run`);
  for (const ns of nss) {
    const groups = (await custom.listNamespacedCustomObject({ ...TANDEM, namespace: ns })) as { items: KubernetesObject[] };
    await Promise.all(groups.items.map((g) => pool.add(() => custom.patchNamespacedCustomObject({ ...TANDEM, namespace: ns, name: g.metadata!.name!, body: { metadata: { finalizers: null } } }, MERGE))));
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
  return async () => {
    while ((await core.listNamespace({ labelSelector: BENCH_LABEL })).items.some((n) => nss.includes(n.metadata!.name!))) await sleep(2000);
  };
}

const kept = args.reuse ? await findWorld(core, custom, { groups: N, namespaces: K, baseline: BASELINE }) : undefined;
if (args.reuse) say(kept ? `reusing the kept world of run ${kept.run}` : `no kept world of this shape: creating one`);
const oldGone = await removeBenchNamespaces(kept);
const { run, groupNamespaces, baseNs } = kept ?? worldOf(Date.now().toString(36).slice(-4), K);
const groups = Array.from({ length: N }, (_, i) => ({ namespace: groupNamespaces[i % K]!, name: `g${String(i).padStart(4, '0')}` }));
const create = (list: Obj[]) => Promise.all(list.map((o) => pool.add(() => objects.create(o as KubernetesObject))));
/** The image the Rollouts run at start (a kept world's storm runs moved it on), and the storm's. */
const V0 = kept ? await imageVersion(custom, kept) : 1;
const IMAGE = (v: number) => IMAGE_OF(V0 - 1 + v);
load.mark('create');
let t = performance.now();
let created: number;
if (kept) {
  // The groups anew (no status, no finalizer: what the controller finds at a first start); the Rollouts as they are.
  for (const ns of groupNamespaces) {
    const old = (await custom.listNamespacedCustomObject({ ...TANDEM, namespace: ns })) as { items: KubernetesObject[] };
    await Promise.all(
      old.items.map((g) =>
        pool.add(async () => {
          await custom.patchNamespacedCustomObject({ ...TANDEM, namespace: ns, name: g.metadata!.name!, body: { metadata: { finalizers: null } } }, MERGE);
          await custom.deleteNamespacedCustomObject({ ...TANDEM, namespace: ns, name: g.metadata!.name! });
        }),
      ),
    );
    while (((await custom.listNamespacedCustomObject({ ...TANDEM, namespace: ns })) as { items: unknown[] }).items.length > 0) await sleep(1000);
  }
  await create(groups.flatMap((g) => groupObjects(g.namespace, g.name, IMAGE(1), SETTLE_S)).filter((o) => o.kind === 'RolloutGroup'));
  created = N;
} else {
  for (const name of [...groupNamespaces, baseNs]) await core.createNamespace({ body: { metadata: { name, labels: { [BENCH_LABEL]: 'true' } } } });
  await create([...groups.flatMap((g) => groupObjects(g.namespace, g.name, IMAGE(1), SETTLE_S)), ...(BASELINE ? groups.flatMap((g) => baselineObjects(baseNs, `b${g.name.slice(1)}`, IMAGE(1))) : [])]);
  created = BASELINE ? 19 * N : 10 * N;
}
const createS = secs(performance.now() - t);
say(kept ? `run ${run}: created ${N} groups anew in ${createS} s` : `run ${run}: created ${N} groups, ${(BASELINE ? 6 : 3) * N} Rollouts, ${(BASELINE ? 12 : 6) * N} Services in ${createS} s`);
load.mark('argo-up');

const observer = new Observer(kc, new Set([...groupNamespaces, baseNs]));
await observer.start();
const allPromoted = (set: 'group' | 'baseline', image: string) => () => {
  const rs = observer.listRollouts(set);
  return rs.length === (set === 'baseline' && !BASELINE ? 0 : 3 * N) && rs.every((r) => promotedOn(r) !== undefined && r.spec.template.spec.containers[0]!.image === image);
};
t = await observer.until('Argo: every Rollout Healthy', () => allPromoted('group', IMAGE(1))() && allPromoted('baseline', IMAGE(1))(), 3_600_000);
say(`Argo brought every Rollout up`);
await oldGone();
say(`the namespaces of earlier runs are gone`);

// ---- start, settle, idle ----
const peaks: Memory[] = [];
const sampler = (c: BenchController) => {
  const timer = setInterval(() => {
    try {
      c.memory();
    } catch {
      // exited
    }
  }, 1000);
  return () => {
    clearInterval(timer);
    const m = c.memory();
    peaks.push(m);
    return m;
  };
};
const steadyNow = () => {
  const gs = observer.listGroups();
  return gs.length === N && gs.every(groupHealthy) && allPromoted('group', IMAGE(1))();
};
load.mark('start');
const c1 = new BenchController(args.cli, kubeconfig, join(LOGS, `bench-controller-1-${Date.now()}.log`), args['node-arg'], args['controller-arg']);
const endSample1 = sampler(c1);
const ready1 = await c1.ready();
say(`controller ready after ${secs(ready1 - c1.startedAt)} s`);
const healthy1 = await observer.until('every group Healthy', () => observer.listGroups().length === N && observer.listGroups().every(groupHealthy), 3_600_000);
const steady1 = await observer.until('every group Healthy, every member observed', steadyNow, 3_600_000);
const rssSteady = c1.memory();
say(`every group Healthy after ${secs(healthy1 - c1.startedAt)} s (steady ${secs(steady1 - c1.startedAt)} s), RSS ${rssSteady.rssMiB.toFixed(0)} MiB`);
const startupWrites = observer.writesBetween(c1.startedAt, steady1);
// Where start-up goes, per group: start → the controller's last write to a member (the wiring: the
// queue and Tandem's writes), → Argo observing every member's new generation, → the group Healthy.
const startPhases = groups.flatMap((g) => {
  const keys = MEMBERS.map((m) => `${g.namespace}/${memberName(g.name, m)}`);
  const wired = Math.max(c1.startedAt, ...startupWrites.filter((w) => w.kind === 'Rollout' && keys.some((k) => w.what === `${k} spec/metadata`)).map((w) => w.at));
  const observedAll = Math.max(wired, ...keys.flatMap((k) => (observer.observedAt.get(k) ?? []).filter((at) => at >= wired).slice(0, 1)));
  const healthy = (observer.healthyAt.get(`${g.namespace}/${g.name}`) ?? []).filter((at) => at >= c1.startedAt).sort((a, b) => a - b)[0];
  return healthy === undefined ? [] : [{ wired: wired - c1.startedAt, argo: observedAll - wired, status: Math.max(0, healthy - observedAll) }];
});
load.mark('idle');
await sleep(IDLE_MS);
const idleWrites = observer.writesBetween(steady1, steady1 + IDLE_MS);
const rssIdle = c1.memory();
const m1 = await c1.metrics();
say(`idle ${IDLE_MS / 1000} s: ${idleWrites.length} writes; RSS ${rssIdle.rssMiB.toFixed(0)} MiB`);
const mem1 = endSample1();
await c1.stop();

// ---- restart ----
const c2 = new BenchController(args.cli, kubeconfig, join(LOGS, `bench-controller-2-${Date.now()}.log`), args['node-arg'], args['controller-arg']);
const endSample2 = sampler(c2);
const ready2 = await c2.ready();
await sleep(IDLE_MS);
const restartWrites = observer.writesBetween(c2.startedAt, ready2 + IDLE_MS);
say(`restart: ready after ${secs(ready2 - c2.startedAt)} s; ${restartWrites.length} writes in ${IDLE_MS / 1000} s after ready`);

// ---- storms ----
const setImages = (rs: readonly RolloutObj[], image: string) =>
  Promise.all(
    rs.map((r) =>
      pool.add(() =>
        custom.patchNamespacedCustomObject(
          { ...ARGO, namespace: r.metadata.namespace, name: r.metadata.name, body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }] },
          JSON_PATCH,
        ),
      ),
    ),
  );
const storms = !args['no-storm'];
/**
 * Argo Rollouts' own figures (its /metrics, the port test/cluster/cluster.sh gives it): the rollout
 * work queue's adds, retries, mean wait and work, to tell Argo's time from Tandem's in a storm.
 */
const ARGO_METRICS = `http://127.0.0.1:${Number(process.env['TANDEM_CLUSTER_PORT_BASE'] ?? 27400) + 7}/metrics`;
const argoScrape = async () => {
  const text = await (await fetch(ARGO_METRICS)).text();
  const v = (name: string) => Number(new RegExp(`^${name}\\{name="Rollouts"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { adds: v('workqueue_adds_total'), retries: v('workqueue_retries_total'), queueS: v('workqueue_queue_duration_seconds_sum'), workS: v('workqueue_work_duration_seconds_sum') };
};
const argoDelta = (a: Awaited<ReturnType<typeof argoScrape>>, b: Awaited<ReturnType<typeof argoScrape>>) => {
  const adds = b.adds - a.adds;
  return { reconciles: adds, retries: b.retries - a.retries, meanQueueWaitMs: Math.round(((b.queueS - a.queueS) / adds) * 1000), meanWorkMs: Math.round(((b.workS - a.workS) / adds) * 1000) };
};
const argo0 = await argoScrape();
load.mark('baseline-storm');
const baseStart = performance.now();
if (storms) await setImages(observer.listRollouts('baseline'), IMAGE(2));
const baseEnd = storms ? await observer.until('baseline storm done', allPromoted('baseline', IMAGE(2)), 3_600_000) : baseStart;
if (storms) say(`baseline storm (${3 * N} plain Rollouts): ${secs(baseEnd - baseStart)} s`);

const argo1 = await argoScrape();
const m2 = await c2.metrics();
load.mark('storm');
const stormStart = performance.now();
if (storms) await setImages(observer.listRollouts('group'), IMAGE(2));
const stormEnd = storms
  ? await observer.until('group storm done', () => observer.listGroups().every(groupHealthy) && allPromoted('group', IMAGE(2))(), 3_600_000)
  : stormStart;
const m3 = await c2.metrics();
const argo2 = await argoScrape();
if (storms) say(`group storm (${N} groups): ${secs(stormEnd - stormStart)} s`);
const mem2 = endSample2();
load.stop();
const loadAvg = load.summary();

// ---- handoffs: the event that satisfies the next member's precondition → the controller's promote of it.
// The precondition of promoting y after x (Lockstep, planner/release-step.ts): x promoted by Argo, and
// the data plane following it (dataPlaneBehind): x's active Service's slices list x's new pods alone
// for dataPlaneSettleSeconds, and so do the previews of y's dependencies. `ready` is the latest of
// those moments (as this watch saw them); `total` (from x promoted) is what earlier passes reported.
// Tandem's part, ready → promote, splits at the status write recording y's pin (persist-then-act).
interface Handoff {
  total: number;
  toPersist: number | undefined;
  persistToPromote: number | undefined;
  /** x promoted → the precondition satisfied (Argo's Service switch, the slices, the settle delay). */
  dataPlane: number | undefined;
  /** The precondition satisfied → the promote: Tandem's reaction. */
  tandem: number | undefined;
  /** Of it: the precondition → y's pin recorded, and the pin recorded → the promote (when y was pinned after it). */
  toPin: number | undefined;
  pinToPromote: number | undefined;
}
const handoffs: Handoff[] = [];
const chain = [...MEMBERS].reverse(); // c, b, a: each depends on the next
for (const g of groups) {
  const key = (m: string) => `${g.namespace}/${memberName(g.name, m)}`;
  const promotedOnRev = (m: string) => {
    const byRev = observer.promotedAt.get(key(m));
    return [...(byRev?.entries() ?? [])].filter(([, at]) => at > stormStart).sort((a, b) => a[1] - b[1])[0];
  };
  const promoted = (m: string) => promotedOnRev(m)?.[1];
  const persisted = (m: string) =>
    [...(observer.persistedAt.get(`${g.namespace}/${g.name}`)?.entries() ?? [])].filter(([k, at]) => k.endsWith(`/${memberName(g.name, m)}`) && at > stormStart).map(([, at]) => at)[0];
  const pinned = (m: string, rev: string) =>
    [...(observer.pinnedAt.get(`${g.namespace}/${g.name}`)?.entries() ?? [])].filter(([k, at]) => k.endsWith(`/${memberName(g.name, m)}@${rev}`) && at > stormStart).map(([, at]) => at)[0];
  /** When `role` Service of m first listed m's new pods alone, plus the settle delay. */
  const settled = (m: string, role: 'active' | 'preview') => {
    const rev = promotedOnRev(m)?.[0];
    const at = rev === undefined ? undefined : observer.servesOnlyAt.get(`${g.namespace}/${memberName(g.name, m)}-${role}`)?.get(`${memberName(g.name, m)}-${rev}`);
    return at === undefined || at < stormStart ? undefined : at + SETTLE_MS;
  };
  for (const y of MEMBERS) {
    const promoteAt = (observer.promoteWrites.get(key(y)) ?? []).find((at) => at > stormStart);
    if (promoteAt === undefined) continue;
    const before = MEMBERS.filter((x) => x !== y).flatMap((x) => {
      const at = promoted(x);
      return at !== undefined && at < promoteAt ? [{ x, at }] : [];
    });
    const last = before.sort((a, b) => b.at - a.at)[0];
    if (!last) continue; // the first member of the cutover
    const p = persisted(last.x);
    const deps = chain.slice(chain.indexOf(y) + 1, chain.indexOf(y) + 2);
    const conditions = [last.at, settled(last.x, 'active'), ...deps.map((d) => settled(d, 'preview'))];
    const ready = conditions.some((c) => c === undefined) ? undefined : Math.max(...(conditions as number[]));
    const yRev = promotedOnRev(y)?.[0];
    const pin = yRev === undefined ? undefined : pinned(y, yRev);
    const pinAfter = pin !== undefined && ready !== undefined && pin >= ready ? pin : undefined;
    handoffs.push({
      total: promoteAt - last.at,
      toPersist: p === undefined ? undefined : p - last.at,
      persistToPromote: p === undefined ? undefined : promoteAt - p,
      dataPlane: ready === undefined ? undefined : ready - last.at,
      tandem: ready === undefined ? undefined : promoteAt - ready,
      toPin: pinAfter === undefined ? undefined : pinAfter - ready!,
      pinToPromote: pinAfter === undefined ? undefined : promoteAt - pinAfter,
    });
  }
}

// ---- where the storm's time goes, per group: Argo bringing the previews up and Tandem's gate (→ the
// first promote), the cutover (→ the last member promoted: three promotes and the handoffs between),
// the tail (→ Healthy: the pins wait for the dependencies' previous pods, Argo's scaleDownDelaySeconds,
// then the unpin). Argo alone: each plain Rollout's change → promoted. Also each promote → Argo
// reading it as promoted (Argo's part of a cutover). ----
const ms = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);
const firstAfter = (ts: Iterable<number> | undefined, from: number) => [...(ts ?? [])].filter((at) => at > from).sort((a, b) => a - b)[0];
const phases: { gate: number; cutover: number; tail: number; gateReaction: number | undefined }[] = [];
const argoPromote: number[] = [];
for (const g of groups) {
  const key = (m: string) => `${g.namespace}/${memberName(g.name, m)}`;
  const promotes = MEMBERS.map((m) => firstAfter(observer.promoteWrites.get(key(m)), stormStart));
  const promoted = MEMBERS.map((m) => firstAfter(observer.promotedAt.get(key(m))?.values(), stormStart));
  promotes.forEach((p, i) => {
    const done = promoted[i];
    if (p !== undefined && done !== undefined && done >= p) argoPromote.push(done - p);
  });
  const healthy = firstAfter(observer.healthyAt.get(`${g.namespace}/${g.name}`), stormStart);
  if (promotes.some((p) => p === undefined) || promoted.some((p) => p === undefined) || healthy === undefined) continue;
  const first = Math.min(...(promotes as number[]));
  const last = Math.max(...(promoted as number[]));
  // Tandem's part of the gate: every member paused at its gate with its preview up (Argo) → the first promote.
  const gated = MEMBERS.map((m) => firstAfter(observer.gatedAt.get(key(m))?.values(), stormStart));
  const allGated = gated.some((at) => at === undefined) ? undefined : Math.max(...(gated as number[]));
  phases.push({ gate: first - stormStart, cutover: last - first, tail: healthy - last, gateReaction: allGated === undefined || allGated > first ? undefined : first - allGated });
}
const baselinePromoted = observer.listRollouts('baseline').flatMap((r) => {
  const at = firstAfter(observer.promotedAt.get(`${r.metadata.namespace}/${r.metadata.name}`)?.values(), baseStart);
  return at === undefined || at > baseEnd ? [] : [at - baseStart];
});
const pq = (xs: number[]) => ({ p50: ms(quantile(xs, 0.5)), p99: ms(quantile(xs, 0.99)), max: ms(quantile(xs, 1)) });

// ---- report ----
/** The plan alone, without the API writes (tandem_plan_seconds; absent from builds before it). */
const pt = (text: string, q: number, before?: string) => {
  const h = histogram(text, 'tandem_plan_seconds');
  return histogramQuantile(before ? histogramDelta(h, histogram(before, 'tandem_plan_seconds')) : h, q);
};
const rq = (text: string, q: number, before?: string) => {
  const h = histogram(text, 'controller_runtime_reconcile_time_seconds');
  return histogramQuantile(before ? histogramDelta(h, histogram(before, 'controller_runtime_reconcile_time_seconds')) : h, q);
};
const countBy = (ws: Write[]) => Object.fromEntries(['Rollout', 'RolloutGroup', 'Event'].map((k) => [k, ws.filter((w) => w.kind === k).length]));
const result = {
  label: args.label,
  at: new Date().toISOString(),
  /** A kept world (--reuse): its Rollouts were wired by an earlier run, only the groups are new. */
  world: { run, reused: kept !== undefined, imageAtStart: IMAGE(1) },
  /** The build and flags the controller ran with (MALLOC_ARENA_MAX: the image sets 2, the controller inherits the benchmark's). */
  controller: { cli: args.cli, nodeArgs: args['node-arg'], controllerArgs: args['controller-arg'], mallocArenaMax: process.env['MALLOC_ARENA_MAX'] ?? null },
  groups: N,
  namespaces: K,
  rollouts: { members: 3 * N, baseline: BASELINE ? 3 * N : 0 },
  /** 1-minute load average of the machine (2 cores, shared), per phase. */
  loadAvg,
  createObjects: created,
  createS,
  idleSeconds: IDLE_MS / 1000,
  startToReadyS: secs(ready1 - c1.startedAt),
  startToAllHealthyS: secs(healthy1 - c1.startedAt),
  startToSteadyS: secs(steady1 - c1.startedAt),
  startupWrites: countBy(startupWrites),
  /** Per group, ms: start → last wiring write, → Argo observed every member, → Healthy (see above). */
  startPhasesMs: { groups: startPhases.length, wired: pq(startPhases.map((p) => p.wired)), argo: pq(startPhases.map((p) => p.argo)), status: pq(startPhases.map((p) => p.status)) },
  rssSteadyMiB: Math.round(rssSteady.rssMiB),
  rssIdleMiB: Math.round(rssIdle.rssMiB),
  peakStartMiB: Math.round(mem1.peakMiB),
  peakStormMiB: Math.round(mem2.peakMiB),
  rssAfterStormMiB: Math.round(mem2.rssMiB),
  idleWrites: idleWrites.length,
  idleWriteSamples: idleWrites.slice(0, 10).map((w) => `${w.kind} ${w.what}`),
  restartToReadyS: secs(ready2 - c2.startedAt),
  restartWrites: restartWrites.length,
  restartWriteSamples: restartWrites.slice(0, 10).map((w) => `${w.kind} ${w.what}`),
  reconcileStartup: { p50LeS: rq(m1, 0.5).le, p99LeS: rq(m1, 0.99).le, count: rq(m1, 0.5).count },
  reconcileStorm: { p50LeS: rq(m3, 0.5, m2).le, p99LeS: rq(m3, 0.99, m2).le, count: rq(m3, 0.5, m2).count },
  baselineStormS: secs(baseEnd - baseStart),
  groupStormS: secs(stormEnd - stormStart),
  stormRatio: Math.round(((stormEnd - stormStart) / (baseEnd - baseStart)) * 100) / 100,
  stormWrites: countBy(observer.writesBetween(stormStart, stormEnd)),
  /** What the storm's group writes changed (see changedPaths), most frequent first. */
  stormGroupWriteChanges: Object.fromEntries(
    [...observer.writesBetween(stormStart, stormEnd).filter((w) => w.kind === 'RolloutGroup').reduce((m, w) => m.set(w.what.split(' ')[1] ?? '', (m.get(w.what.split(' ')[1] ?? '') ?? 0) + 1), new Map<string, number>())]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20),
  ),
  /** Per group, ms: storm start → first promote, → last member promoted, → Healthy (see above). */
  stormPhasesMs: {
    groups: phases.length,
    gate: pq(phases.map((p) => p.gate)),
    cutover: pq(phases.map((p) => p.cutover)),
    tail: pq(phases.map((p) => p.tail)),
    /** Of the gate: every member paused at its gate, preview up → the first promote (Tandem: the gate, the first pin). */
    gateReaction: { ...pq(phases.flatMap((p) => (p.gateReaction === undefined ? [] : [p.gateReaction]))), count: phases.filter((p) => p.gateReaction !== undefined).length },
  },
  /** Argo Rollouts' rollout work queue during each storm (its own metrics). */
  argoQueue: { baseline: argoDelta(argo0, argo1), groups: argoDelta(argo1, argo2) },
  /** Per plain Rollout, ms: baseline storm start → promoted on the new image. */
  baselinePromotedMs: pq(baselinePromoted),
  /** Per member promote, ms: Tandem's promote seen → Argo's status reading promoted. */
  argoPromoteMs: pq(argoPromote),
  reconcilePlan: { p50LeS: pt(m3, 0.5, m2).le, p99LeS: pt(m3, 0.99, m2).le, count: pt(m3, 0.5, m2).count },
  reconcilePlanStartup: { p50LeS: pt(m1, 0.5).le, p99LeS: pt(m1, 0.99).le, count: pt(m1, 0.5).count },
  handoffMs: {
    count: handoffs.length,
    p50: ms(quantile(handoffs.map((h) => h.total), 0.5)),
    p99: ms(quantile(handoffs.map((h) => h.total), 0.99)),
    promotedToPersistedP50: ms(quantile(handoffs.flatMap((h) => (h.toPersist === undefined ? [] : [h.toPersist])), 0.5)),
    promotedToPersistedP99: ms(quantile(handoffs.flatMap((h) => (h.toPersist === undefined ? [] : [h.toPersist])), 0.99)),
    persistedToPromoteP50: ms(quantile(handoffs.flatMap((h) => (h.persistToPromote === undefined ? [] : [h.persistToPromote])), 0.5)),
    persistedToPromoteP99: ms(quantile(handoffs.flatMap((h) => (h.persistToPromote === undefined ? [] : [h.persistToPromote])), 0.99)),
    /** The settle delay the groups ran with (ms), and the split at the precondition (see Handoff). */
    settleMs: SETTLE_MS,
    dataPlane: pq(handoffs.flatMap((h) => (h.dataPlane === undefined ? [] : [h.dataPlane]))),
    tandem: { ...pq(handoffs.flatMap((h) => (h.tandem === undefined ? [] : [h.tandem]))), count: handoffs.filter((h) => h.tandem !== undefined).length },
    toPin: { ...pq(handoffs.flatMap((h) => (h.toPin === undefined ? [] : [h.toPin]))), count: handoffs.filter((h) => h.toPin !== undefined).length },
    pinToPromote: pq(handoffs.flatMap((h) => (h.pinToPromote === undefined ? [] : [h.pinToPromote]))),
  },
};
const rows: [string, unknown][] = [
  ['groups × members (namespaces)', `${N} × 3 (${K}), + ${BASELINE ? 3 * N : 0} baseline Rollouts`],
  ['load average (1 min) mean / max: start, storm, all', ['start', 'storm', 'all'].map((p) => `${loadAvg[p]?.mean ?? '-'} / ${loadAvg[p]?.max ?? '-'}`).join(', ')],
  ['objects created', `${created} in ${createS} s (${Math.round(created / createS)}/s)${kept ? `; the kept world of run ${run} (its Rollouts wired already)` : ''}`],
  ['start → /readyz', `${result.startToReadyS} s`],
  ['start → every group Healthy', `${result.startToAllHealthyS} s (steady: ${result.startToSteadyS} s)`],
  ['start-up per group p50 / max: wired, Argo observed, Healthy', (['wired', 'argo', 'status'] as const).map((k) => `${result.startPhasesMs[k].p50} / ${result.startPhasesMs[k].max}`).join(', ') + ' ms'],
  ['RSS steady / after idle / peak at start', `${result.rssSteadyMiB} / ${result.rssIdleMiB} / ${result.peakStartMiB} MiB`],
  ['RSS after storm / peak (restarted process)', `${result.rssAfterStormMiB} / ${result.peakStormMiB} MiB`],
  ['writes while idle', `${result.idleWrites} in ${IDLE_MS / 1000} s`],
  ['restart → /readyz; writes after restart', `${result.restartToReadyS} s; ${result.restartWrites} in ${IDLE_MS / 1000} s`],
  ['reconcile p50 / p99 (start-up)', `≤ ${result.reconcileStartup.p50LeS} / ≤ ${result.reconcileStartup.p99LeS} s (${result.reconcileStartup.count})`],
  ['reconcile p50 / p99 (storm)', `≤ ${result.reconcileStorm.p50LeS} / ≤ ${result.reconcileStorm.p99LeS} s (${result.reconcileStorm.count})`],
  ['storm: groups / Argo alone', `${result.groupStormS} s / ${result.baselineStormS} s = ${result.stormRatio}×`],
  ['plan alone p50 / p99 (start-up; storm)', `≤ ${result.reconcilePlanStartup.p50LeS} / ≤ ${result.reconcilePlanStartup.p99LeS} s; ≤ ${result.reconcilePlan.p50LeS} / ≤ ${result.reconcilePlan.p99LeS} s`],
  ['storm per group p50 / max: to first promote, cutover, tail', (['gate', 'cutover', 'tail'] as const).map((k) => `${result.stormPhasesMs[k].p50} / ${result.stormPhasesMs[k].max}`).join(', ') + ' ms'],
  ['  of the gate: every preview up and paused → first promote, p50 / p99', `${result.stormPhasesMs.gateReaction.p50} / ${result.stormPhasesMs.gateReaction.p99} ms (${result.stormPhasesMs.gateReaction.count})`],
  ['Argo alone per Rollout p50 / max; a promote acted on p50 / p99', `${result.baselinePromotedMs.p50} / ${result.baselinePromotedMs.max} ms; ${result.argoPromoteMs.p50} / ${result.argoPromoteMs.p99} ms`],
  ['Argo reconciles (retries), mean wait / work: baseline; groups', (['baseline', 'groups'] as const).map((k) => { const q = result.argoQueue[k]; return `${q.reconciles} (${q.retries}), ${q.meanQueueWaitMs} / ${q.meanWorkMs} ms`; }).join('; ')],
  ['handoff p50 / p99', `${result.handoffMs.p50} / ${result.handoffMs.p99} ms (${result.handoffMs.count})`],
  ['  promoted → persisted, p50 / p99', `${result.handoffMs.promotedToPersistedP50} / ${result.handoffMs.promotedToPersistedP99} ms`],
  ['  persisted → promote, p50 / p99', `${result.handoffMs.persistedToPromoteP50} / ${result.handoffMs.persistedToPromoteP99} ms`],
  [`  promoted → precondition (data plane + ${SETTLE_MS / 1000} s settle), p50 / p99`, `${result.handoffMs.dataPlane.p50} / ${result.handoffMs.dataPlane.p99} ms`],
  ['  precondition → promote (Tandem), p50 / p99 / max', `${result.handoffMs.tandem.p50} / ${result.handoffMs.tandem.p99} / ${result.handoffMs.tandem.max} ms (${result.handoffMs.tandem.count})`],
  ['    of which → pin recorded; pin → promote, p50 / p99', `${result.handoffMs.toPin.p50} / ${result.handoffMs.toPin.p99} ms (${result.handoffMs.toPin.count}); ${result.handoffMs.pinToPromote.p50} / ${result.handoffMs.pinToPromote.p99} ms`],
];
if (!storms) {
  // Not run: no figures rather than zeros.
  for (const k of ['reconcileStorm', 'baselineStormS', 'groupStormS', 'stormRatio', 'stormWrites', 'stormGroupWriteChanges', 'handoffMs', 'stormPhasesMs', 'baselinePromotedMs', 'argoPromoteMs', 'reconcilePlan', 'argoQueue'] as const) (result as Record<string, unknown>)[k] = null;
  rows.splice(rows.findIndex(([k]) => k.startsWith('reconcile p50 / p99 (storm)')));
  rows.push(['storms', 'not run (--no-storm)']);
}
const width = Math.max(...rows.map(([k]) => k.length));
console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${String(v)}`).join('\n'));
mkdirSync(RESULTS, { recursive: true });
const file = join(RESULTS, `scale-${N}x${K}${args.label ? `-${args.label}` : ''}-${result.at.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
// The controller's own scrapes, for anything the summary leaves out.
writeFileSync(file.replace(/\.json$/, '.metrics.txt'), `# after start-up and idle\n${m1}\n# before the storm\n${m2}\n# after the storm\n${m3}`);
say(`wrote ${file}`);

// ---- clean up, while the controller still runs to release its finalizers ----
if (!args.keep && !args.reuse) {
  for (const ns of [...groupNamespaces, baseNs]) await core.deleteNamespace({ name: ns }).catch(() => undefined);
  await observer.until('groups deleted', () => observer.listGroups().length === 0, 600_000).catch((err: unknown) => say(String(err)));
}
await c2.stop();
await observer.stop();
// The namespaces' deletion goes on; the next run waits for it before it measures anything.
