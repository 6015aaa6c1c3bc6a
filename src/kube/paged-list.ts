import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';

/** What a cache keeps of each object (see cache-transforms.ts). */
export type Transform = (o: { metadata?: Record<string, unknown> } & Record<string, unknown>) => object;

/** Typed lists deserialize into model classes with Dates; the schemas want plain JSON. */
const plain = (o: unknown): unknown => JSON.parse(JSON.stringify(o));

/** The paging parameters of a list request (the generated clients name `continue` `_continue`). */
export interface Page {
  readonly limit?: number;
  readonly _continue?: string;
}

/**
 * A cache's list in pages of `pageSize` items (limit/continue), each page's items transformed
 * (cache-transforms.ts) before the next page is asked for. Unpaged, a list of thousands of Rollouts,
 * ReplicaSets or Services is one JSON body of tens of MB, parsed whole and deserialized into model
 * objects before the transform drops most of each: a peak of memory at start-up that the process
 * keeps afterwards (V8 and glibc give little back). The pages are one snapshot, at the first page's
 * resourceVersion, which the list returns: the watch resumes from there as after an unpaged list.
 * A continue token the API server no longer honours (410 after a compaction) fails the list, and
 * the informer lists again from the first page, as after any failed list. Written here because
 * client-node's ListWatch takes one function returning the whole list and pages nothing itself.
 */
export const pagedList =
  (list: (page: Page) => Promise<unknown>, transform: Transform, pageSize: number) =>
  async (): Promise<KubernetesListObject<KubernetesObject>> => {
    const items: KubernetesObject[] = [];
    let resourceVersion: string | undefined;
    let next: string | undefined;
    do {
      const page: Page = pageSize > 0 ? { limit: pageSize, ...(next ? { _continue: next } : {}) } : {};
      const l = (await list(page)) as { metadata?: { resourceVersion?: string; _continue?: string; continue?: string }; items?: unknown[] };
      for (const i of l.items ?? []) items.push(transform(plain(i) as never) as KubernetesObject);
      resourceVersion ??= l.metadata?.resourceVersion;
      // Typed lists deserialize `continue` as `_continue`; custom objects come as the JSON sent.
      next = pageSize > 0 ? l.metadata?._continue || l.metadata?.continue || undefined : undefined;
    } while (next);
    return { metadata: resourceVersion === undefined ? {} : { resourceVersion }, items };
  };

