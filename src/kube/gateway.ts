import {
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  ListWatch,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION, FIELD_MANAGER, GROUP, KIND, PLURAL, VERSION } from '../api/rolloutgroup.ts';
import { POD_TEMPLATE_HASH, ReplicaSet, Rollout, Service, serviceNamesOf, type MetadataField, type RolloutView } from '../api/rollout.ts';
import { call, describe } from './call.ts';
import { ObjectShapeError, isAlreadyExists, isNotFound } from './errors.ts';
import { KubeLeaseStore } from './lease-store.ts';
import { ownedKeysOf, seenAtOf, SERVICE_NAME_LABEL, transformAnalysisRun, transformAnalysisTemplate, transformEndpointSlice, transformGroup, transformReplicaSet, transformRollout, transformService } from './cache-transforms.ts';
import type { ServiceEndpoints } from '../planner/data-plane.ts';
import { ANALYSIS_LABEL, AnalysisRun, AnalysisTemplate, TERMINATED_ANNOTATION } from '../api/analysis.ts';
import { OwnerIndex } from './owner-index.ts';
import { PooledKubeConfig } from './pooled-kubeconfig.ts';
import { mergePatch } from './merge-patch.ts';
import { parseOnce } from './parse-once.ts';
import { pagedList, type Page, type Transform } from './paged-list.ts';
import type { Caller } from '../runtime/secure-metrics.ts';

/** The field manager of rollback writes to a Rollout's template (see replaceRolloutTemplate). */
export const ROLLBACK_FIELD_MANAGER = 'tandem-rollback';
const ARGO = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;
const TANDEM = { group: GROUP, version: VERSION, plural: PLURAL } as const;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
/** Where Tandem writes the time it nudged Argo Rollouts to look at a Rollout again (see ArgoNudge). */
const NUDGE_ANNOTATION = 'tandem.dev/nudged-at';
/** Each cached object parsed once per change of it (parse-once.ts), not on every reconcile. */
const parseRollout = parseOnce(Rollout);
const parseReplicaSet = parseOnce(ReplicaSet);
const parseService = parseOnce(Service);

export type WatchedKind = 'RolloutGroup' | 'Rollout' | 'ReplicaSet' | 'Service' | 'EndpointSlice' | 'AnalysisRun' | 'AnalysisTemplate' | 'ClusterAnalysisTemplate';

export interface ObjectChange {
  readonly kind: WatchedKind;
  readonly namespace: string;
  /** For an EndpointSlice, the name of its Service (what the router and the planner look up). */
  readonly name: string;
  /** The Rollout that owns a ReplicaSet, when there is one. */
  readonly ownerRollout?: string;
  /** The RolloutGroup that owns an AnalysisRun, when there is one. */
  readonly ownerGroup?: string;
}

export interface GroupRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface GroupEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface GatewayOptions {
  readonly kubeconfig?: string | undefined;
  /** Watch one namespace only; all namespaces when undefined. */
  readonly namespace?: string | undefined;
  readonly log: Logger;
  /** Name reported as the events' reporting instance. */
  readonly identity: string;
  /** Items per page of the caches' lists; 0 lists each kind in one request (see pagedList). */
  readonly listPageSize?: number | undefined;
}

/** Items per page of a cache's list, as client-go's reflectors page their lists. */
export const LIST_PAGE_SIZE = 500;

/**
 * Everything Tandem reads from and writes to the API server. Reads come from informer caches that
 * restart and relist on any error; writes are the few patches DESIGN §3–§6 allow.
 */
export class KubeGateway {
  private readonly kc: KubeConfig;
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly discovery: DiscoveryV1Api;
  private readonly informers = new Map<WatchedKind, ListWatch<KubernetesObject>>();
  /** ReplicaSets by owning Rollout, for the ReplicaSet informer now serving. */
  private replicaSetOwners = new OwnerIndex();
  /** EndpointSlices by their Service, for the EndpointSlice informer now serving. */
  private sliceOwners = new OwnerIndex(sliceService);
  private readonly listeners: ((c: ObjectChange) => void)[] = [];
  private readonly relistListeners: ((kind: WatchedKind) => void)[] = [];
  private readonly options: GatewayOptions;
  private stopped = false;

  constructor(options: GatewayOptions) {
    this.options = options;
    this.kc = new PooledKubeConfig();
    if (options.kubeconfig) this.kc.loadFromFile(options.kubeconfig);
    else this.kc.loadFromDefault();
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.apps = this.kc.makeApiClient(AppsV1Api);
    this.discovery = this.kc.makeApiClient(DiscoveryV1Api);
  }

  /** The namespace a kubeconfig context names, used when no namespace is given. */
  get contextNamespace(): string | undefined {
    return this.kc.getContextObject(this.kc.getCurrentContext())?.namespace;
  }

  /** The Lease used for leader election. */
  leaseStore(namespace: string, name: string): KubeLeaseStore {
    return new KubeLeaseStore(this.kc, namespace, name);
  }

  onChange(listener: (c: ObjectChange) => void): void {
    this.listeners.push(listener);
  }

  /** Lists and watches everything Tandem reads; resolves once every cache holds a full list. */
  async start(): Promise<void> {
    const ns = this.options.namespace;
    const scoped = (base: string, plural: string) => (ns ? `${base}/namespaces/${ns}/${plural}` : `${base}/${plural}`);
    const specs: InformerSpec[] = [
      {
        kind: 'RolloutGroup',
        path: scoped(`/apis/${GROUP}/${VERSION}`, PLURAL),
        transform: transformGroup,
        list: (page) =>
          ns
            ? this.custom.listNamespacedCustomObject({ ...TANDEM, namespace: ns, ...page })
            : this.custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: PLURAL, ...page }),
      },
      {
        kind: 'Rollout',
        path: scoped(`/apis/${ARGO.group}/${ARGO.version}`, ARGO.plural),
        transform: transformRollout,
        list: (page) =>
          ns
            ? this.custom.listNamespacedCustomObject({ ...ARGO, namespace: ns, ...page })
            : this.custom.listCustomObjectForAllNamespaces({ group: ARGO.group, version: ARGO.version, resourcePlural: ARGO.plural, ...page }),
      },
      {
        kind: 'ReplicaSet',
        path: scoped('/apis/apps/v1', 'replicasets'),
        transform: transformReplicaSet,
        labelSelector: POD_TEMPLATE_HASH,
        list: (page) =>
          ns
            ? this.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: POD_TEMPLATE_HASH, ...page })
            : this.apps.listReplicaSetForAllNamespaces({ labelSelector: POD_TEMPLATE_HASH, ...page }),
      },
      {
        kind: 'Service',
        path: scoped('/api/v1', 'services'),
        transform: transformService,
        list: (page) => (ns ? this.core.listNamespacedService({ namespace: ns, ...page }) : this.core.listServiceForAllNamespaces(page)),
      },
      // The data plane of those Services (planner/data-plane.ts): which pods their slices list.
      {
        kind: 'EndpointSlice',
        path: scoped('/apis/discovery.k8s.io/v1', 'endpointslices'),
        transform: (raw) => transformEndpointSlice(raw),
        labelSelector: SERVICE_NAME_LABEL,
        list: (page) =>
          ns
            ? this.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: SERVICE_NAME_LABEL, ...page })
            : this.discovery.listEndpointSliceForAllNamespaces({ labelSelector: SERVICE_NAME_LABEL, ...page }),
      },
      // Group analysis (docs/analysis.md): only the runs Tandem created, and the templates they come from.
      {
        kind: 'AnalysisRun',
        path: scoped(`/apis/${ARGO.group}/${ARGO.version}`, 'analysisruns'),
        transform: transformAnalysisRun,
        labelSelector: ANALYSIS_LABEL.group,
        list: (page) =>
          ns
            ? this.custom.listNamespacedCustomObject({ ...ARGO, plural: 'analysisruns', namespace: ns, labelSelector: ANALYSIS_LABEL.group, ...page })
            : this.custom.listCustomObjectForAllNamespaces({ group: ARGO.group, version: ARGO.version, resourcePlural: 'analysisruns', labelSelector: ANALYSIS_LABEL.group, ...page }),
      },
      {
        kind: 'AnalysisTemplate',
        path: scoped(`/apis/${ARGO.group}/${ARGO.version}`, 'analysistemplates'),
        transform: transformAnalysisTemplate,
        list: (page) =>
          ns
            ? this.custom.listNamespacedCustomObject({ ...ARGO, plural: 'analysistemplates', namespace: ns, ...page })
            : this.custom.listCustomObjectForAllNamespaces({ group: ARGO.group, version: ARGO.version, resourcePlural: 'analysistemplates', ...page }),
      },
      {
        kind: 'ClusterAnalysisTemplate',
        path: `/apis/${ARGO.group}/${ARGO.version}/clusteranalysistemplates`,
        transform: transformAnalysisTemplate,
        list: (page) => this.custom.listClusterCustomObject({ group: ARGO.group, version: ARGO.version, plural: 'clusteranalysistemplates', ...page }),
      },
    ];
    // A namespaced controller has a Role, which cannot grant cluster-scoped templates (docs/analysis.md).
    await Promise.all(specs.filter((s) => !(ns && s.kind === 'ClusterAnalysisTemplate')).map((s) => this.startInformer(s)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.informers.values()].map((w) => w.stop()));
  }

  /** Called after a cache was replaced by a fresh list: events may have been missed meanwhile. */
  onRelist(listener: (kind: WatchedKind) => void): void {
    this.relistListeners.push(listener);
  }

  /**
   * Lists and watches one kind. After any error a fresh ListWatch lists everything again; it serves
   * reads only once its list succeeded, so a relist never shows an empty cache. Resolves on the
   * first successful list.
   */
  private async startInformer(spec: InformerSpec): Promise<void> {
    const { log } = this.options;
    for (let attempt = 0; !this.stopped; attempt++) {
      const watch = new ListWatch<KubernetesObject>(spec.path, transformingWatch(new Watch(this.kc), spec.transform), pagedList(spec.list, spec.transform, this.options.listPageSize ?? LIST_PAGE_SIZE), false, spec.labelSelector);
      let serving = false;
      const owners = new OwnerIndex(spec.kind === 'EndpointSlice' ? sliceService : undefined);
      if (spec.kind === 'ReplicaSet' || spec.kind === 'EndpointSlice') {
        watch.on('add', (o) => owners.add(o));
        watch.on('update', (o) => owners.add(o));
        watch.on('delete', (o) => owners.remove(o));
      }
      // Events of the first list are not passed on: start() and onRelist listeners cover them.
      const notify = (obj: KubernetesObject) => {
        if (serving) this.notify(spec.kind, obj);
      };
      watch.on('add', notify);
      watch.on('update', notify);
      watch.on('delete', notify);
      let failed = false;
      watch.on('error', (err: unknown) => {
        failed = true;
        if (!serving || this.stopped) return; // a failed first list is retried by the loop below
        log.warn({ kind: spec.kind, err: describe(err) }, 'informer failed; relisting');
        void this.startInformer(spec).then(() => {
          for (const l of this.relistListeners) l(spec.kind);
        });
      });
      await watch.start();
      if (!failed) {
        const replaced = this.informers.get(spec.kind);
        this.informers.set(spec.kind, watch);
        if (spec.kind === 'ReplicaSet') this.replicaSetOwners = owners;
        if (spec.kind === 'EndpointSlice') this.sliceOwners = owners;
        serving = true;
        if (replaced) await replaced.stop();
        return;
      }
      await watch.stop();
      const delayMs = Math.min(30_000, 500 * 2 ** attempt);
      log.warn({ kind: spec.kind, attempt, delayMs }, 'informer list failed; retrying');
      await new Promise((r) => setTimeout(r, delayMs).unref());
    }
  }

  private notify(kind: WatchedKind, obj: KubernetesObject) {
    const namespace = obj.metadata?.namespace ?? '';
    const name = (kind === 'EndpointSlice' ? sliceService(obj) : obj.metadata?.name) ?? '';
    const owner = obj.metadata?.ownerReferences?.find((o) => o.kind === 'Rollout')?.name;
    const group = obj.metadata?.ownerReferences?.find((o) => o.kind === KIND && o.apiVersion === API_VERSION)?.name;
    const change: ObjectChange = { kind, namespace, name, ...(owner ? { ownerRollout: owner } : {}), ...(group ? { ownerGroup: group } : {}) };
    for (const l of this.listeners) l(change);
  }

  private cache(kind: WatchedKind): ListWatch<KubernetesObject> {
    const informer = this.informers.get(kind);
    if (!informer) throw new Error(`informer ${kind} not started`);
    return informer;
  }

  // ---- reads (from caches) ----

  /** Raw RolloutGroups: the controller validates them, so that a bad one is reported, not dropped. */
  listGroups(namespace?: string): readonly unknown[] {
    return this.cache('RolloutGroup').list(namespace);
  }

  getGroup(namespace: string, name: string): unknown {
    return this.cache('RolloutGroup').get(name, namespace);
  }

  getRollout(namespace: string, name: string): RolloutView | undefined {
    const raw = this.cache('Rollout').get(name, namespace);
    if (!raw) return undefined;
    const parsed = parseRollout(raw);
    if (!parsed.success) throw new ObjectShapeError(`rollout ${namespace}/${name}: ${parsed.error.message}`);
    return { rollout: parsed.data, owned: ownedKeysOf(raw) };
  }

  /** The Services a cached Rollout's strategy names; undefined when the cache has no such Rollout. */
  rolloutServices(namespace: string, name: string): readonly string[] | undefined {
    const raw = this.cache('Rollout').get(name, namespace) as { spec?: { strategy?: Rollout['spec']['strategy'] } } | undefined;
    return raw ? serviceNamesOf(raw.spec?.strategy) : undefined;
  }

  /** Every cached Rollout with the Services it names (to rebuild indexes after a list). */
  listRolloutServices(): { namespace: string; name: string; services: readonly string[] }[] {
    return this.cache('Rollout')
      .list()
      .map((r) => ({ namespace: r.metadata?.namespace ?? '', name: r.metadata?.name ?? '', services: serviceNamesOf((r as { spec?: { strategy?: Rollout['spec']['strategy'] } }).spec?.strategy) }));
  }

  listReplicaSets(namespace: string, ownerRollouts: ReadonlySet<string>): ReplicaSet[] {
    const cache = this.cache('ReplicaSet');
    return [...ownerRollouts].flatMap((owner) =>
      this.replicaSetOwners.owned(namespace, owner).flatMap((name) => {
        const rs = cache.get(name, namespace);
        if (!rs) return [];
        const parsed = parseReplicaSet(rs);
        if (!parsed.success) throw new ObjectShapeError(`replicaset ${namespace}/${name}: ${parsed.error.message}`);
        return [parsed.data];
      }),
    );
  }

  getService(namespace: string, name: string): Service | undefined {
    const raw = this.cache('Service').get(name, namespace);
    if (!raw) return undefined;
    const parsed = parseService(raw);
    if (!parsed.success) throw new ObjectShapeError(`service ${namespace}/${name}: ${parsed.error.message}`);
    return parsed.data;
  }

  /** What the EndpointSlices of a Service list (planner/data-plane.ts); undefined when the cache has none. */
  serviceEndpoints(namespace: string, service: string): ServiceEndpoints | undefined {
    const cache = this.cache('EndpointSlice');
    const slices = this.sliceOwners.owned(namespace, service).flatMap((name) => {
      const s = cache.get(name, namespace) as (KubernetesObject & { replicaSets?: string[]; ready?: boolean; terminating?: boolean }) | undefined;
      return s ? [s] : [];
    });
    if (slices.length === 0) return undefined;
    return {
      replicaSets: [...new Set(slices.flatMap((s) => s.replicaSets ?? []))].sort(),
      ready: slices.some((s) => s.ready === true),
      terminating: slices.some((s) => s.terminating === true),
      seenAt: Math.max(...slices.map(seenAtOf)),
    };
  }

  /** The AnalysisRuns a group owns, by name. */
  listAnalysisRuns(namespace: string, groupUid: string): Map<string, AnalysisRun> {
    const runs = new Map<string, AnalysisRun>();
    for (const raw of this.cache('AnalysisRun').list(namespace)) {
      if (!raw.metadata?.ownerReferences?.some((o) => o.kind === KIND && o.uid === groupUid)) continue;
      const parsed = AnalysisRun.safeParse(raw);
      if (!parsed.success) throw new ObjectShapeError(`analysisrun ${namespace}/${raw.metadata.name}: ${parsed.error.message}`);
      runs.set(parsed.data.metadata.name, parsed.data);
    }
    return runs;
  }

  /** False for a controller watching one namespace: it watches no ClusterAnalysisTemplates (a Role cannot grant them). */
  get readsClusterTemplates(): boolean {
    return !this.options.namespace;
  }

  /** An AnalysisTemplate of the namespace, or a ClusterAnalysisTemplate (clusterScope). */
  getAnalysisTemplate(namespace: string, name: string, clusterScope: boolean): AnalysisTemplate | undefined {
    if (clusterScope && this.options.namespace) return undefined;
    const raw = clusterScope ? this.cache('ClusterAnalysisTemplate').get(name) : this.cache('AnalysisTemplate').get(name, namespace);
    if (!raw) return undefined;
    const parsed = AnalysisTemplate.safeParse(raw);
    if (!parsed.success) throw new ObjectShapeError(`${clusterScope ? 'clusteranalysistemplate' : 'analysistemplate'} ${name}: ${parsed.error.message}`);
    return parsed.data;
  }

  /** The groups of a namespace (all namespaces: undefined) whose raw spec names a template. */
  groupsNamingTemplate(namespace: string | undefined, name: string, clusterScope: boolean): { namespace: string; name: string }[] {
    return this.cache('RolloutGroup')
      .list(namespace)
      .filter((g) => {
        const analysis = (g as { spec?: { analysis?: Record<string, { templates?: { templateName?: string; clusterScope?: boolean }[] }> } }).spec?.analysis ?? {};
        return Object.values(analysis).some((step) => (step?.templates ?? []).some((t) => t.templateName === name && (t.clusterScope ?? false) === clusterScope));
      })
      .map((g) => ({ namespace: g.metadata?.namespace ?? '', name: g.metadata?.name ?? '' }));
  }

  // ---- writes ----

  /**
   * Creates a group's AnalysisRun, owned by the group (deleted with it; never a Rollout's owner).
   * One of that name exists already: it was created before a crash or a cache catching up, and is left as it is.
   */
  async createAnalysisRun(group: GroupRef, name: string, labels: Readonly<Record<string, string>>, spec: Readonly<Record<string, unknown>>): Promise<void> {
    const body = {
      apiVersion: `${ARGO.group}/${ARGO.version}`,
      kind: 'AnalysisRun',
      metadata: {
        name,
        namespace: group.namespace,
        labels,
        ownerReferences: [{ apiVersion: API_VERSION, kind: KIND, name: group.name, uid: group.uid, controller: true, blockOwnerDeletion: false }],
      },
      spec,
    };
    try {
      await call(`create analysisrun ${group.namespace}/${name}`, () =>
        this.custom.createNamespacedCustomObject({ ...ARGO, plural: 'analysisruns', namespace: group.namespace, body, fieldManager: FIELD_MANAGER }),
      );
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  /**
   * Stops a group AnalysisRun as `kubectl argo rollouts terminate analysisrun` does (`spec.terminate`),
   * saying in an annotation that Tandem did and why. One gone already (the group deleted) is left.
   */
  async terminateAnalysisRun(namespace: string, name: string, reason: string): Promise<void> {
    const body = { metadata: { annotations: { [TERMINATED_ANNOTATION]: reason.slice(0, 1024) } }, spec: { terminate: true } };
    try {
      await call(`terminate analysisrun ${namespace}/${name}`, () =>
        this.custom.patchNamespacedCustomObject({ ...ARGO, plural: 'analysisruns', namespace, name, body, fieldManager: FIELD_MANAGER }, MERGE),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Server-side apply of Tandem's ephemeral-metadata annotations; keys left out are released. */
  async applyRolloutMetadata(
    namespace: string,
    name: string,
    strategy: 'blueGreen' | 'canary',
    metadata: Partial<Record<MetadataField, Record<string, string>>>,
  ): Promise<string> {
    const fields = Object.fromEntries(Object.entries(metadata).map(([f, annotations]) => [f, { annotations }]));
    const body = {
      apiVersion: `${ARGO.group}/${ARGO.version}`,
      kind: 'Rollout',
      metadata: { name, namespace },
      ...(Object.keys(fields).length > 0 ? { spec: { strategy: { [strategy]: fields } } } : {}),
    };
    const updated = await call(`apply metadata to rollout ${namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObject({ ...ARGO, namespace, name, body, fieldManager: FIELD_MANAGER, force: true }, APPLY),
    );
    return resourceVersionOf(updated);
  }

  /** A merge patch on the Rollout's status subresource, as `kubectl argo rollouts` sends it. */
  async patchRolloutStatus(namespace: string, name: string, resourceVersion: string, status: Record<string, unknown>): Promise<string> {
    const body = { metadata: { resourceVersion }, status };
    const updated = await call(`patch status of rollout ${namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObjectStatus({ ...ARGO, namespace, name, body, fieldManager: FIELD_MANAGER }, MERGE),
    );
    return resourceVersionOf(updated);
  }

  /** A metadata-only write (no new generation): a fresh watch event for the Rollout, nothing else. */
  async nudgeRollout(namespace: string, name: string, at: string): Promise<void> {
    await call(`nudge rollout ${namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObject({ ...ARGO, namespace, name, body: { metadata: { annotations: { [NUDGE_ANNOTATION]: at } } }, fieldManager: FIELD_MANAGER }, MERGE),
    );
  }

  /**
   * Pins annotations to one revision (null removes one): first on the ReplicaSet's pod template, so
   * every pod it creates from now on has them, then on the pods it has, listed after that write.
   * Idempotent, so a crash part-way is mended by doing it again. Argo Rollouts leaves these keys
   * alone: it only rewrites the keys its ephemeral-metadata bookkeeping says it injected.
   */
  async pinRevision(namespace: string, replicaSet: string, hash: string, annotations: Readonly<Record<string, string | null>>, podsOnly = false, templateOnly = false): Promise<void> {
    const body = { spec: { template: { metadata: { annotations } } } };
    if (!podsOnly) {
      await call(`pin annotations on replicaset ${namespace}/${replicaSet}`, () =>
        this.apps.patchNamespacedReplicaSet({ namespace, name: replicaSet, body, fieldManager: FIELD_MANAGER }, MERGE),
      );
    }
    if (templateOnly) return;
    const pods = await call(`list pods of replicaset ${namespace}/${replicaSet}`, () => this.core.listNamespacedPod({ namespace, labelSelector: `${POD_TEMPLATE_HASH}=${hash}` }));
    // The pods together: each patch stands alone, and a pin is only recorded once all have succeeded.
    const patches = pods.items.flatMap((pod) => {
      const name = pod.metadata?.name;
      if (!name || !pod.metadata?.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name === replicaSet)) return [];
      return [
        call(`pin annotations on pod ${namespace}/${name}`, () => this.core.patchNamespacedPod({ namespace, name, body: { metadata: { annotations } }, fieldManager: FIELD_MANAGER }, MERGE)).catch((err: unknown) => {
          if (!isNotFound(err)) throw err; // a pod gone meanwhile needs no pin
        }),
      ];
    });
    for (const r of await Promise.allSettled(patches)) if (r.status === 'rejected') throw r.reason;
  }

  /**
   * Replaces `spec.template` whole, as `kubectl argo rollouts undo` does (a JSON patch: a merge patch
   * would keep keys the old template lacks). Under its own field manager: Argo CD Applications ignore
   * what `tandem-controller` manages (docs/argocd.md), and the template fields this write takes over
   * would then be ignored too, hiding from Argo CD that the cluster no longer runs what Git declares.
   */
  async replaceRolloutTemplate(namespace: string, name: string, resourceVersion: string, template: Record<string, unknown>): Promise<string> {
    const body = [
      // A resourceVersion in the patched object is a precondition: 409 when the Rollout moved on.
      { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion },
      { op: 'replace', path: '/spec/template', value: template },
    ];
    const updated = await call(`replace template of rollout ${namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObject({ ...ARGO, namespace, name, body, fieldManager: ROLLBACK_FIELD_MANAGER }, JSON_PATCH),
    );
    return resourceVersionOf(updated);
  }

  /**
   * Replaces the group's status, guarded by the resourceVersion it was computed from; returns the
   * group as the API server stored it (its managedFields dropped, as in the cache).
   */
  async patchGroupStatus(namespace: string, name: string, resourceVersion: string, from: unknown, to: unknown): Promise<unknown> {
    const body = { metadata: { resourceVersion }, status: mergePatch(from ?? {}, to) };
    const updated = await call(`patch status of rolloutgroup ${namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObjectStatus({ ...TANDEM, namespace, name, body, fieldManager: FIELD_MANAGER }, MERGE),
    );
    return transformGroup(updated as never);
  }

  /** Merge patch on the group's metadata (finalizers, request annotations), guarded by resourceVersion. */
  async patchGroupMetadata(namespace: string, name: string, resourceVersion: string, metadata: Record<string, unknown>): Promise<string> {
    const body = { metadata: { ...metadata, resourceVersion } };
    const updated = await call(`patch rolloutgroup ${namespace}/${name}`, () =>
      this.custom.patchNamespacedCustomObject({ ...TANDEM, namespace, name, body, fieldManager: FIELD_MANAGER }, MERGE),
    );
    return resourceVersionOf(updated);
  }

  /** TokenReview (--metrics-secure): who a bearer token belongs to, or undefined if it is not valid. */
  async reviewToken(token: string): Promise<Caller | undefined> {
    const api = this.kc.makeApiClient(AuthenticationV1Api);
    const review = await call('create tokenreview', () => api.createTokenReview({ body: { spec: { token } } }));
    const u = review.status?.authenticated ? review.status.user : undefined;
    return u?.username ? { username: u.username, uid: u.uid, groups: u.groups ?? [], extra: u.extra ?? {} } : undefined;
  }

  /** SubjectAccessReview (--metrics-secure): may this caller `verb` the non-resource URL `path`? */
  async mayAccess(caller: Caller, verb: string, path: string): Promise<boolean> {
    const api = this.kc.makeApiClient(AuthorizationV1Api);
    const { username: user, uid, groups, extra } = caller;
    const review = await call('create subjectaccessreview', () =>
      api.createSubjectAccessReview({ body: { spec: { user, ...(uid ? { uid } : {}), groups: [...groups], extra: Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, [...v]])), nonResourceAttributes: { path, verb } } } }),
    );
    return review.status?.allowed === true;
  }

  async createEvent(group: GroupRef, event: GroupEvent): Promise<void> {
    const now = new Date();
    await call(`create event for rolloutgroup ${group.namespace}/${group.name}`, () =>
      this.core.createNamespacedEvent({
        namespace: group.namespace,
        body: {
          metadata: { generateName: `${group.name}.`, namespace: group.namespace },
          involvedObject: { apiVersion: API_VERSION, kind: KIND, name: group.name, namespace: group.namespace, uid: group.uid },
          type: event.type,
          reason: event.reason,
          message: event.message.slice(0, 1024),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          source: { component: FIELD_MANAGER },
          reportingComponent: `tandem.dev/controller`,
          reportingInstance: this.options.identity,
        },
      }),
    );
  }
}

interface InformerSpec {
  readonly kind: WatchedKind;
  readonly path: string;
  readonly labelSelector?: string;
  /** One page of the list (all of it when `limit` is absent). */
  readonly list: (page: Page) => Promise<unknown>;
  /** What the cache keeps of each object (see cache-transforms.ts). */
  readonly transform: Transform;
}

/** The Service an EndpointSlice belongs to (its label). */
const sliceService = (o: { readonly metadata?: { readonly labels?: Readonly<Record<string, string>> } }): string | undefined => o.metadata?.labels?.[SERVICE_NAME_LABEL];

/** A Watch whose object events are transformed before the list-watch caches them; bookmarks and errors pass as they are. */
function transformingWatch(watch: Watch, transform: Transform): Watch {
  const objectPhases = new Set(['ADDED', 'MODIFIED', 'DELETED']);
  return {
    watch: (path: string, query: Record<string, string | number | boolean | undefined>, callback: (phase: string, obj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void) =>
      watch.watch(path, query, (phase, obj, watchObj) => callback(phase, objectPhases.has(phase) ? transform(obj as never) : obj, watchObj), done),
  } as Watch;
}

const resourceVersionOf = (o: unknown): string =>
  (o as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion ?? '';
