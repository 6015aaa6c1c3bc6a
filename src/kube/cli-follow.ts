import { CoreV1Api, CustomObjectsApi, type KubeConfig, ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/rolloutgroup.ts';

const ARGO = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;
const RETRY_MS = 1_000;

/** Typed lists deserialize into model classes with Dates; callers validate plain JSON. */
const plain = (o: unknown): unknown => JSON.parse(JSON.stringify(o));

/**
 * A group and (optionally) the Rollouts and Services of its namespace, kept current by list-watches:
 * what `get -w` redraws from and `status` waits on, instead of GETting every object every tick.
 * A watch that fails after its first list starts again after a second.
 */
export class Follower {
  private readonly watches: ListWatch<KubernetesObject>[] = [];
  private readonly listeners: (() => void)[] = [];
  private stopped = false;
  private listed = false;
  private readonly group: ListWatch<KubernetesObject>;
  private readonly rollouts: ListWatch<KubernetesObject> | undefined;
  private readonly services: ListWatch<KubernetesObject> | undefined;
  private readonly namespace: string;

  constructor(kc: KubeConfig, namespace: string, name: string, withMembers: boolean) {
    this.namespace = namespace;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const core = kc.makeApiClient(CoreV1Api);
    const watch = new Watch(kc);
    const byName = `metadata.name=${name}`;
    const list = (fn: () => Promise<unknown>) => async () => plain(await fn()) as KubernetesListObject<KubernetesObject>;
    this.group = new ListWatch(
      `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
      watch,
      list(() => custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, fieldSelector: byName })),
      false,
      undefined,
      byName,
    );
    this.watches.push(this.group);
    if (withMembers) {
      this.rollouts = new ListWatch(`/apis/${ARGO.group}/${ARGO.version}/namespaces/${namespace}/${ARGO.plural}`, watch, list(() => custom.listNamespacedCustomObject({ ...ARGO, namespace })), false);
      this.services = new ListWatch(`/api/v1/namespaces/${namespace}/services`, watch, list(() => core.listNamespacedService({ namespace })), false);
      this.watches.push(this.rollouts, this.services);
    }
  }

  /**
   * Called after every change, and once as soon as the first lists are in (at once when they are
   * already): a caller reads the group before it follows, and a change between that read and this
   * call would otherwise be lost (`status --until Paused` waited out its timeout on a group already Paused).
   */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
    if (this.listed) queueMicrotask(listener);
  }

  /** Resolves once every watch listed; rejects with the first list's error (403, no CRD, …). */
  async start(): Promise<void> {
    await Promise.all(
      this.watches.map(async (w) => {
        let first: unknown;
        let listed = false;
        const changed = () => {
          for (const l of this.listeners) l();
        };
        w.on('change', changed);
        w.on('error', (err) => {
          if (!listed) first ??= err;
          else if (!this.stopped) setTimeout(() => void w.start(), RETRY_MS).unref();
        });
        await w.start();
        if (first !== undefined) throw first;
        listed = true;
      }),
    );
    this.listed = true;
    for (const l of this.listeners) l();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.watches.map((w) => w.stop()));
  }

  getGroup(): unknown {
    return this.group.list()[0];
  }

  getRollout(name: string): unknown {
    return this.rollouts?.get(name, this.namespace);
  }

  getService(name: string): unknown {
    return this.services?.get(name, this.namespace);
  }
}
