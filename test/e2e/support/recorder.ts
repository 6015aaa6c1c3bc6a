/**
 * Records every Rollout, ReplicaSet, Pod, Service and RolloutGroup event of a namespace during a
 * test, so that invariants can be checked at every observed state, not only at the end.
 */
import { ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { ARGO, TANDEM, type TestKube } from './kube.ts';
import { waitFor } from './wait.ts';

export type Kind = 'Rollout' | 'ReplicaSet' | 'Pod' | 'Service' | 'RolloutGroup';
export interface Recorded {
  readonly seq: number;
  readonly at: number;
  readonly kind: Kind;
  readonly verb: 'add' | 'update' | 'delete';
  readonly object: any;
}
export type ClusterState = Record<Kind, Map<string, any>>;

export class Recorder {
  readonly events: Recorded[] = [];
  /** Events before this index replay the initial lists, kind by kind: not a state the cluster was in. */
  private baseline = 0;
  private readonly watches: ListWatch<KubernetesObject>[] = [];
  private readonly errors: unknown[] = [];
  private lists: Record<Kind, () => Promise<unknown>> | undefined;

  static async start(kube: TestKube, namespace: string): Promise<Recorder> {
    const r = new Recorder();
    const lists: Record<Kind, () => Promise<unknown>> = {
      Rollout: () => kube.custom.listNamespacedCustomObject({ ...ARGO, namespace }),
      RolloutGroup: () => kube.custom.listNamespacedCustomObject({ ...TANDEM, namespace }),
      ReplicaSet: () => kube.apps.listNamespacedReplicaSet({ namespace }),
      Pod: () => kube.core.listNamespacedPod({ namespace }),
      Service: () => kube.core.listNamespacedService({ namespace }),
    };
    const paths: Record<Kind, string> = {
      Rollout: `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/rollouts`,
      RolloutGroup: `/apis/tandem.dev/v1alpha1/namespaces/${namespace}/rolloutgroups`,
      ReplicaSet: `/apis/apps/v1/namespaces/${namespace}/replicasets`,
      Pod: `/api/v1/namespaces/${namespace}/pods`,
      Service: `/api/v1/namespaces/${namespace}/services`,
    };
    await Promise.all(
      (Object.keys(lists) as Kind[]).map(async (kind) => {
        const lw = new ListWatch<KubernetesObject>(
          paths[kind],
          new Watch(kube.kc),
          lists[kind] as () => Promise<KubernetesListObject<KubernetesObject>>,
          false,
        );
        for (const verb of ['add', 'update', 'delete'] as const) lw.on(verb, (o) => r.record(kind, verb, o));
        lw.on('error', (err) => {
          r.errors.push(err);
          setTimeout(() => void lw.start(), 500);
        });
        r.watches.push(lw);
        await lw.start();
      }),
    );
    r.baseline = r.events.length;
    r.lists = lists;
    return r;
  }

  /** Resolves once the last state recorded is the API server's current one for every kind: nothing is left in flight. */
  async caughtUp(): Promise<void> {
    await waitFor('recorder caught up with the API server', async () => {
      const last = [...this.states()].at(-1)?.state;
      if (!last) return false;
      for (const [kind, list] of Object.entries(this.lists!) as [Kind, () => Promise<unknown>][]) {
        const items = ((await list()) as { items: KubernetesObject[] }).items;
        if (items.length !== last[kind].size) return false;
        if (items.some((o) => last[kind].get(o.metadata!.name!)?.metadata.resourceVersion !== o.metadata!.resourceVersion)) return false;
      }
      return true;
    });
  }

  private record(kind: Kind, verb: Recorded['verb'], obj: KubernetesObject) {
    this.events.push({ seq: this.events.length, at: Date.now(), kind, verb, object: JSON.parse(JSON.stringify(obj)) });
  }

  async stop(): Promise<void> {
    await Promise.all(this.watches.map((w) => w.stop()));
  }

  /** Every state the recorder saw once its initial lists were complete, in order. The yielded state is mutated by the next step. */
  *states(): Generator<{ event: Recorded; state: ClusterState }> {
    const state: ClusterState = { Rollout: new Map(), ReplicaSet: new Map(), Pod: new Map(), Service: new Map(), RolloutGroup: new Map() };
    for (const event of this.events) {
      const name = event.object.metadata.name as string;
      if (event.verb === 'delete') state[event.kind].delete(name);
      else state[event.kind].set(name, event.object);
      if (event.seq >= this.baseline - 1) yield { event, state };
    }
  }
}
