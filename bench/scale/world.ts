/**
 * The benchmark's world: its namespaces, groups and Rollouts. A run creates a world of its own; with
 * --reuse it takes the one a --keep run left, when that has the same shape, so that several builds
 * or options are measured against the same Rollouts without creating them and waiting for Argo to
 * bring them up again (at N = 1,000 that is most of an hour on this machine).
 */
import type { CoreV1Api, CustomObjectsApi, KubernetesObject } from '@kubernetes/client-node';
import { ARGO, BENCH_LABEL, TANDEM } from './manifests.ts';

export interface Shape {
  readonly groups: number;
  readonly namespaces: number;
  readonly baseline: boolean;
}

export interface World {
  readonly run: string;
  readonly groupNamespaces: readonly string[];
  readonly baseNs: string;
}

/** `bench-<run>-g<i>` or `bench-<run>-base`. */
const NAME = /^bench-([0-9a-z]+)-(g(\d+)|base)$/;

export const worldOf = (run: string, namespaces: number): World => ({
  run,
  groupNamespaces: Array.from({ length: namespaces }, (_, i) => `bench-${run}-g${i}`),
  baseNs: `bench-${run}-base`,
});

/**
 * A kept world of this shape: one run's namespaces, all active (none being deleted), holding
 * exactly N groups over K group namespaces, and 3N baseline Rollouts or none. Undefined if none.
 */
export async function findWorld(core: CoreV1Api, custom: CustomObjectsApi, shape: Shape): Promise<World | undefined> {
  const runs = new Map<string, { groupNs: number; base: boolean; terminating: boolean }>();
  for (const ns of (await core.listNamespace({ labelSelector: BENCH_LABEL })).items) {
    const m = NAME.exec(ns.metadata?.name ?? '');
    if (!m) continue;
    const r = runs.get(m[1]!) ?? { groupNs: 0, base: false, terminating: false };
    if (m[2] === 'base') r.base = true;
    else r.groupNs++;
    if (ns.status?.phase !== 'Active' || ns.metadata?.deletionTimestamp) r.terminating = true;
    runs.set(m[1]!, r);
  }
  for (const [run, r] of runs) {
    if (r.terminating || !r.base || r.groupNs !== shape.namespaces) continue;
    const w = worldOf(run, shape.namespaces);
    const count = async (api: typeof ARGO | typeof TANDEM, namespace: string, set?: string) =>
      ((await custom.listNamespacedCustomObject({ ...api, namespace, ...(set ? { labelSelector: `${BENCH_LABEL}=${set}` } : {}) })) as { items: KubernetesObject[] }).items.length;
    let groups = 0;
    let members = 0;
    for (const ns of w.groupNamespaces) {
      groups += await count(TANDEM, ns);
      members += await count(ARGO, ns, 'group');
    }
    const baseline = await count(ARGO, w.baseNs, 'baseline');
    if (groups === shape.groups && members === 3 * shape.groups && baseline === (shape.baseline ? 3 * shape.groups : 0)) return w;
  }
  return undefined;
}

/** The image version the world's member Rollouts run now (a storm run moves them on by one). */
export async function imageVersion(custom: CustomObjectsApi, w: World): Promise<number> {
  const list = (await custom.listNamespacedCustomObject({ ...ARGO, namespace: w.groupNamespaces[0]!, labelSelector: `${BENCH_LABEL}=group`, limit: 1 })) as {
    items: { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }[];
  };
  const image = list.items[0]?.spec?.template?.spec?.containers?.[0]?.image ?? '';
  const v = /:(\d+)\.0$/.exec(image)?.[1];
  if (v === undefined) throw new Error(`cannot read the image version of the kept world from ${JSON.stringify(image)}`);
  return Number(v);
}
