import { CoreV1Api, CustomObjectsApi, type KubeConfig, ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION } from '../api/rolloutgroup.ts';
import { describe } from './call.ts';

const ARGO = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;
/** A failed watch starts again after this long (an API server blip, a 403), doubling up to the most. */
const RETRY_MS = 2_000;
const MAX_RETRY_MS = 30_000;

const plain = (o: unknown): unknown => JSON.parse(JSON.stringify(o));

export type WatchedKind = 'rolloutgroups' | 'rollouts' | 'services' | 'events';

/** Plain JSON of everything watched, as of now. */
export interface ClusterSnapshot {
  readonly groups: readonly unknown[];
  readonly rollouts: readonly unknown[];
  readonly services: readonly unknown[];
  /** Events whose involved object is a RolloutGroup. */
  readonly events: readonly unknown[];
  /** Watches that are failing now, with why (forbidden, connection refused): the page shows them. */
  readonly problems: readonly string[];
}

/**
 * RolloutGroups, Rollouts, Services and the groups' Events in one namespace (or all), kept current by
 * list-watches, for the dashboard. Unlike Follower it never gives up: a watch that fails (the API
 * server restarting, a permission missing) is retried and reported, so a long-lived page recovers.
 */
export class ClusterWatch {
  private readonly watches = new Map<WatchedKind, ListWatch<KubernetesObject>>();
  private readonly failing = new Map<WatchedKind, string>();
  private readonly listeners: (() => void)[] = [];
  private stopped = false;

  /** namespace undefined: every namespace. */
  constructor(kc: KubeConfig, namespace: string | undefined) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const core = kc.makeApiClient(CoreV1Api);
    const watch = new Watch(kc);
    const list = (fn: () => Promise<unknown>) => async () => plain(await fn()) as KubernetesListObject<KubernetesObject>;
    const scope = namespace === undefined ? '' : `/namespaces/${namespace}`;
    const onlyGroups = `involvedObject.kind=${KIND}`;
    this.watches.set(
      'rolloutgroups',
      new ListWatch(`/apis/${GROUP}/${VERSION}${scope}/${PLURAL}`, watch, list(() =>
        namespace === undefined
          ? custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: PLURAL })
          : custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace }),
      ), false),
    );
    this.watches.set(
      'rollouts',
      new ListWatch(`/apis/${ARGO.group}/${ARGO.version}${scope}/${ARGO.plural}`, watch, list(() =>
        namespace === undefined
          ? custom.listCustomObjectForAllNamespaces({ group: ARGO.group, version: ARGO.version, resourcePlural: ARGO.plural })
          : custom.listNamespacedCustomObject({ ...ARGO, namespace }),
      ), false),
    );
    this.watches.set(
      'services',
      new ListWatch(`/api/v1${scope}/services`, watch, list(() =>
        namespace === undefined ? core.listServiceForAllNamespaces() : core.listNamespacedService({ namespace }),
      ), false),
    );
    this.watches.set(
      'events',
      new ListWatch(`/api/v1${scope}/events`, watch, list(() =>
        namespace === undefined ? core.listEventForAllNamespaces({ fieldSelector: onlyGroups }) : core.listNamespacedEvent({ namespace, fieldSelector: onlyGroups }),
      ), false, undefined, onlyGroups),
    );
  }

  /** Called after every change, including a watch failing or recovering. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Starts every watch. Resolves once each has listed or failed its first list; a failure is kept
   * as a problem and retried, except that of the groups' watch, which rejects: without it there is no page.
   */
  async start(): Promise<void> {
    const changed = () => {
      for (const l of this.listeners) l();
    };
    const firstErrors = await Promise.all(
      [...this.watches].map(async ([kind, w]) => {
        // ListWatch reports a failed list or watch only through its error callback, and then stops.
        let errors = 0;
        let first: unknown;
        let delay = RETRY_MS;
        const run = async () => {
          const before = errors;
          await w.start();
          if (errors !== before) return;
          delay = RETRY_MS;
          if (this.failing.delete(kind)) changed();
        };
        w.on('change', changed);
        w.on('error', (err) => {
          errors++;
          first ??= err;
          this.failing.set(kind, `${kind}: ${describe(err)}`);
          changed();
          if (!this.stopped) setTimeout(() => void (this.stopped || run()), delay).unref();
          delay = Math.min(delay * 2, MAX_RETRY_MS);
        });
        await run();
        return errors > 0 ? first : undefined;
      }),
    );
    const groupsFailed = firstErrors[[...this.watches.keys()].indexOf('rolloutgroups')];
    if (groupsFailed !== undefined) {
      await this.stop();
      throw groupsFailed;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.watches.values()].map((w) => w.stop()));
  }

  snapshot(): ClusterSnapshot {
    const items = (kind: WatchedKind) => this.watches.get(kind)!.list();
    return {
      groups: items('rolloutgroups'),
      rollouts: items('rollouts'),
      services: items('services'),
      events: items('events'),
      problems: [...this.failing.values()].sort(),
    };
  }
}
