/**
 * The benchmark's own eyes: list-watches of the bench's Rollouts, every RolloutGroup and Tandem's
 * Events. It counts the controller's writes (changes of its managedFields entry on a Rollout, any
 * change of a group, every Event it creates) and stamps, on arrival, the moments a handoff is made of.
 */
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, ListWatch, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { BENCH_LABEL } from './manifests.ts';

export const FIELD_MANAGER = 'tandem-controller';
const CHECK_MS = 50;

interface ManagedEntry {
  manager?: string;
  subresource?: string;
  time?: string;
  fieldsV1?: unknown;
}

export interface RolloutObj {
  metadata: { name: string; namespace: string; generation: number; resourceVersion: string; labels?: Record<string, string>; managedFields?: ManagedEntry[] };
  spec: { template: { spec: { containers: { image: string }[] } } };
  status?: {
    observedGeneration?: string;
    phase?: string;
    currentPodHash?: string;
    stableRS?: string;
    pauseConditions?: unknown[] | null;
    blueGreen?: { activeSelector?: string; previewSelector?: string };
  };
}

export interface GroupObj {
  metadata: { name: string; namespace: string; generation: number; resourceVersion: string };
  spec: { members: { rollout: string }[] };
  status?: { phase?: string; observedGeneration?: number; release?: { id: string; promotedMembers?: string[]; pinned?: string[] } };
}

interface SliceObj {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  endpoints?: { targetRef?: { name?: string }; conditions?: { ready?: boolean } }[] | null;
}

/** The ReplicaSet a pod belongs to: its name without the random suffix. */
const replicaSetOfPod = (pod: string) => pod.slice(0, pod.lastIndexOf('-'));

/** One write by the controller, seen by the watch. */
export interface Write {
  readonly at: number;
  readonly kind: 'Rollout' | 'RolloutGroup' | 'Event';
  readonly what: string;
}

/** Argo has observed the latest spec and the Rollout is live on its newest revision. */
export const promotedOn = (r: RolloutObj): string | undefined => {
  const s = r.status;
  if (!s || s.observedGeneration !== String(r.metadata.generation) || s.phase !== 'Healthy') return undefined;
  return s.currentPodHash && s.stableRS === s.currentPodHash && s.blueGreen?.activeSelector === s.currentPodHash ? s.currentPodHash : undefined;
};

/** Argo has brought the newest revision up as the preview and paused before promoting it (the group's gate waits for this). */
export const gatedOn = (r: RolloutObj): string | undefined => {
  const s = r.status;
  if (!s || s.observedGeneration !== String(r.metadata.generation) || (s.pauseConditions ?? []).length === 0) return undefined;
  return s.currentPodHash && s.stableRS !== s.currentPodHash && s.blueGreen?.previewSelector === s.currentPodHash ? s.currentPodHash : undefined;
};

export const groupHealthy = (g: GroupObj): boolean => g.status?.phase === 'Healthy' && g.status.observedGeneration === g.metadata.generation && !g.status.release;

/**
 * What a group write changed, as paths two levels into status (members by index, then field), and
 * metadata; for telling which of the status's parts make the writes.
 */
export function changedPaths(before: GroupObj, after: GroupObj): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string, depth: number) => {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    const isObj = (v: unknown) => typeof v === 'object' && v !== null;
    if (depth === 0 || !isObj(a) || !isObj(b)) return void out.push(path);
    const ka = a as Record<string, unknown>;
    const kb = b as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(ka), ...Object.keys(kb)])].sort()) {
      // conditions and members: the field that changed, whichever entry it was in
      const sub = Array.isArray(a) && Array.isArray(b) ? '*' : k;
      walk(ka[k], kb[k], `${path}.${sub}`, depth - 1);
    }
  };
  const { resourceVersion: _a, managedFields: _am, ...ma } = before.metadata as GroupObj['metadata'] & { managedFields?: unknown };
  const { resourceVersion: _b, managedFields: _bm, ...mb } = after.metadata as GroupObj['metadata'] & { managedFields?: unknown };
  walk(ma, mb, 'metadata', 1);
  walk(before.status, after.status, 'status', 3);
  return [...new Set(out)];
}

/** A signature of the controller's ownership of one part of an object; it changes with each write. */
const ownership = (o: { metadata: { managedFields?: ManagedEntry[] } }, subresource: string | undefined): string =>
  JSON.stringify((o.metadata.managedFields ?? []).filter((e) => e.manager === FIELD_MANAGER && e.subresource === subresource));

export class Observer {
  readonly writes: Write[] = [];
  /** Per Rollout key: when it was first seen promoted on each revision. */
  readonly promotedAt = new Map<string, Map<string, number>>();
  /** Per Rollout key: when it was first seen paused at its gate with the preview on each new revision. */
  readonly gatedAt = new Map<string, Map<string, number>>();
  /** Per Rollout key: when the controller's status writes (promotes) were seen. */
  readonly promoteWrites = new Map<string, number[]>();
  /** Per Rollout key: every time Argo was seen observing a new generation (observedGeneration catching up). */
  readonly observedAt = new Map<string, number[]>();
  /** Per group key: every time its status was seen turning Healthy with no release in flight. */
  readonly healthyAt = new Map<string, number[]>();
  /** Per group key and member: when the group's status first recorded the member as promoted. */
  readonly persistedAt = new Map<string, Map<string, number>>();
  /** Per group key and pin entry (`rollout@revision`): when the group's status first recorded it. */
  readonly pinnedAt = new Map<string, Map<string, number>>();
  /**
   * Per Service key and ReplicaSet: when the Service's EndpointSlices first listed that ReplicaSet's
   * pods alone, one of them ready (the data plane's part of a handoff, planner/data-plane.ts).
   */
  readonly servesOnlyAt = new Map<string, Map<string, number>>();
  private readonly listeners = new Set<() => void>();
  private readonly watches: ListWatch<KubernetesObject>[] = [];
  private rollouts: ListWatch<KubernetesObject> | undefined;
  private groups: ListWatch<KubernetesObject> | undefined;
  private readonly kc: KubeConfig;

  /** This run's namespaces: an earlier run's, still being deleted, are not looked at. */
  private readonly namespaces: ReadonlySet<string>;

  constructor(kc: KubeConfig, namespaces: ReadonlySet<string>) {
    this.kc = kc;
    this.namespaces = namespaces;
  }

  async start(): Promise<void> {
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const core = this.kc.makeApiClient(CoreV1Api);
    const watch = new Watch(this.kc);
    const rollouts = new ListWatch<KubernetesObject>(
      '/apis/argoproj.io/v1alpha1/rollouts',
      watch,
      () => custom.listCustomObjectForAllNamespaces({ group: 'argoproj.io', version: 'v1alpha1', resourcePlural: 'rollouts', labelSelector: BENCH_LABEL }) as never,
      false,
      BENCH_LABEL,
    );
    const groups = new ListWatch<KubernetesObject>(
      '/apis/tandem.dev/v1alpha1/rolloutgroups',
      watch,
      () => custom.listCustomObjectForAllNamespaces({ group: 'tandem.dev', version: 'v1alpha1', resourcePlural: 'rolloutgroups' }) as never,
      false,
    );
    const discovery = this.kc.makeApiClient(DiscoveryV1Api);
    const SERVICE_LABEL = 'kubernetes.io/service-name';
    const slices = new ListWatch<KubernetesObject>(
      '/apis/discovery.k8s.io/v1/endpointslices',
      watch,
      () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: SERVICE_LABEL }) as never,
      false,
      SERVICE_LABEL,
    );
    const byService = new Map<string, Map<string, SliceObj>>();
    const onSlice = (e: SliceObj, deleted: boolean) => {
      const svc = e.metadata.labels?.[SERVICE_LABEL];
      if (!svc || !this.namespaces.has(e.metadata.namespace)) return;
      const key = `${e.metadata.namespace}/${svc}`;
      const own = byService.get(key) ?? byService.set(key, new Map()).get(key)!;
      if (deleted) own.delete(e.metadata.name);
      else own.set(e.metadata.name, e);
      const eps = [...own.values()].flatMap((s) => s.endpoints ?? []);
      const rss = new Set(eps.map((p) => replicaSetOfPod(p.targetRef?.name ?? '')));
      if (rss.size !== 1 || !eps.some((p) => p.conditions?.ready === true)) return;
      const rs = [...rss][0]!;
      const at = this.servesOnlyAt.get(key) ?? this.servesOnlyAt.set(key, new Map()).get(key)!;
      if (!at.has(rs)) at.set(rs, performance.now());
    };
    slices.on('add', (o) => onSlice(o as unknown as SliceObj, false));
    slices.on('update', (o) => onSlice(o as unknown as SliceObj, false));
    slices.on('delete', (o) => onSlice(o as unknown as SliceObj, true));
    const events = new ListWatch<KubernetesObject>('/api/v1/events', watch, () => core.listEventForAllNamespaces({ fieldSelector: `source=${FIELD_MANAGER}` }) as never, false, undefined, `source=${FIELD_MANAGER}`);
    let eventsListed = false;
    const last = new Map<string, { status: string; rest: string; rv: string; paused: boolean }>();
    const prevObserved = new Map<string, boolean>();
    const onRollout = (r: RolloutObj) => {
      if (!this.namespaces.has(r.metadata.namespace)) return;
      const key = `${r.metadata.namespace}/${r.metadata.name}`;
      const now = performance.now();
      const prev = last.get(key);
      const paused = (r.status?.pauseConditions ?? []).length > 0;
      const cur = { status: ownership(r, 'status'), rest: ownership(r, undefined), rv: r.metadata.resourceVersion, paused };
      if (prev && prev.rv !== cur.rv) {
        // A promote only removes fields, which may leave no managedFields entry to change: for members
        // (autoPromotionEnabled: false) only the controller clears the pause conditions.
        const promote = prev.paused && !paused && r.metadata.labels?.[BENCH_LABEL] === 'group';
        if (promote) (this.promoteWrites.get(key) ?? this.promoteWrites.set(key, []).get(key)!).push(now);
        if (promote || prev.status !== cur.status) this.writes.push({ at: now, kind: 'Rollout', what: `${key} status` });
        if (prev.rest !== cur.rest) this.writes.push({ at: now, kind: 'Rollout', what: `${key} spec/metadata` });
      }
      last.set(key, cur);
      const observed = r.status?.observedGeneration === String(r.metadata.generation);
      if (observed && prevObserved.get(key) === false) (this.observedAt.get(key) ?? this.observedAt.set(key, []).get(key)!).push(now);
      prevObserved.set(key, observed);
      const gated = gatedOn(r);
      if (gated) {
        const byRev = this.gatedAt.get(key) ?? this.gatedAt.set(key, new Map()).get(key)!;
        if (!byRev.has(gated)) byRev.set(gated, now);
      }
      const rev = promotedOn(r);
      if (rev) {
        const byRev = this.promotedAt.get(key) ?? this.promotedAt.set(key, new Map()).get(key)!;
        if (!byRev.has(rev)) byRev.set(rev, now);
      }
      this.changed();
    };
    const groupRv = new Map<string, { rv: string; obj: GroupObj }>();
    const onGroup = (g: GroupObj) => {
      if (!this.namespaces.has(g.metadata.namespace)) return;
      const key = `${g.metadata.namespace}/${g.metadata.name}`;
      const now = performance.now();
      const prev = groupRv.get(key);
      // Nothing but the controller writes a group after the benchmark created it.
      if (prev && prev.rv !== g.metadata.resourceVersion) this.writes.push({ at: now, kind: 'RolloutGroup', what: `${key} ${changedPaths(prev.obj, g).join(',')}` });
      if (groupHealthy(g) && !(prev && groupHealthy(prev.obj))) (this.healthyAt.get(key) ?? this.healthyAt.set(key, []).get(key)!).push(now);
      groupRv.set(key, { rv: g.metadata.resourceVersion, obj: g });
      const release = g.status?.release;
      if (release) {
        const persisted = this.persistedAt.get(key) ?? this.persistedAt.set(key, new Map()).get(key)!;
        for (const m of release.promotedMembers ?? []) if (!persisted.has(`${release.id}/${m}`)) persisted.set(`${release.id}/${m}`, now);
        const pinned = this.pinnedAt.get(key) ?? this.pinnedAt.set(key, new Map()).get(key)!;
        for (const e of release.pinned ?? []) if (!pinned.has(`${release.id}/${e}`)) pinned.set(`${release.id}/${e}`, now);
      }
      this.changed();
    };
    rollouts.on('add', (o) => onRollout(o as unknown as RolloutObj));
    rollouts.on('update', (o) => onRollout(o as unknown as RolloutObj));
    groups.on('add', (o) => onGroup(o as unknown as GroupObj));
    groups.on('update', (o) => onGroup(o as unknown as GroupObj));
    groups.on('delete', (g) => {
      groupRv.delete(`${g.metadata?.namespace}/${g.metadata?.name}`);
      // "every group deleted" waits on this (it hung for its 10 minutes when the last event was a delete).
      this.changed();
    });
    events.on('add', (e) => {
      if (eventsListed && this.namespaces.has(e.metadata?.namespace ?? '')) this.writes.push({ at: performance.now(), kind: 'Event', what: `${e.metadata?.namespace}/${e.metadata?.name}` });
    });
    for (const w of [rollouts, groups, slices, events]) {
      w.on('error', (err) => console.error(`[bench] observer watch failed: ${String(err)}`));
      await w.start();
      this.watches.push(w);
    }
    eventsListed = true;
    this.rollouts = rollouts;
    this.groups = groups;
  }

  async stop(): Promise<void> {
    await Promise.all(this.watches.map((w) => w.stop()));
  }

  listRollouts(set: 'group' | 'baseline'): readonly RolloutObj[] {
    return (this.rollouts?.list() ?? []).filter((r) => r.metadata?.labels?.[BENCH_LABEL] === set && this.namespaces.has(r.metadata.namespace ?? '')) as unknown as RolloutObj[];
  }

  listGroups(): readonly GroupObj[] {
    // Only the benchmark's own: groups left in other namespaces are not its business.
    return (this.groups?.list() ?? []).filter((g) => g.metadata?.labels?.[BENCH_LABEL] === 'group' && this.namespaces.has(g.metadata.namespace ?? '')) as unknown as GroupObj[];
  }

  writesBetween(from: number, to: number): Write[] {
    return this.writes.filter((w) => w.at >= from && w.at < to);
  }

  /** Resolves with the time (performance.now) at which the predicate first held, checked after every event. */
  until(what: string, pred: () => boolean, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(performance.now());
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /**
   * The predicates walk every Rollout: checked on every event they made the benchmark the busiest
   * process of a storm at N = 1,000 (events × Rollouts). Checked CHECK_MS after the first event
   * since the last check instead: a time read off `until` is late by at most that much.
   */
  private checkPending = false;
  private changed(): void {
    if (this.checkPending) return;
    this.checkPending = true;
    setTimeout(() => {
      this.checkPending = false;
      for (const l of [...this.listeners]) l();
    }, CHECK_MS);
  }
}
