/** The part of a cached object the index reads. */
interface Owned {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly { readonly kind: string; readonly name: string }[];
  };
}

/** A cached object's owner: by default the Rollout in its owner references. */
const rolloutOwner = (o: Owned): string | undefined => o.metadata?.ownerReferences?.find((r) => r.kind === 'Rollout')?.name;

/**
 * ReplicaSets by the Rollout that owns them (or EndpointSlices by their Service, with that `ownerOf`),
 * so a reconcile reads its members' objects without scanning the namespace.
 */
export class OwnerIndex {
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly ownerOf = new Map<string, string>();
  private readonly owner: (o: Owned) => string | undefined;

  constructor(owner: (o: Owned) => string | undefined = rolloutOwner) {
    this.owner = owner;
  }

  add(o: Owned): void {
    this.remove(o);
    const owner = this.owner(o);
    if (!owner) return;
    const ownerKey = `${o.metadata?.namespace}/${owner}`;
    let names = this.byOwner.get(ownerKey);
    if (!names) this.byOwner.set(ownerKey, (names = new Set()));
    names.add(o.metadata?.name ?? '');
    this.ownerOf.set(`${o.metadata?.namespace}/${o.metadata?.name}`, ownerKey);
  }

  remove(o: Owned): void {
    const key = `${o.metadata?.namespace}/${o.metadata?.name}`;
    const ownerKey = this.ownerOf.get(key);
    if (ownerKey === undefined) return;
    this.ownerOf.delete(key);
    const names = this.byOwner.get(ownerKey);
    names?.delete(o.metadata?.name ?? '');
    if (names?.size === 0) this.byOwner.delete(ownerKey);
  }

  /** Names of the ReplicaSets a Rollout owns. */
  owned(namespace: string, rollout: string): string[] {
    return [...(this.byOwner.get(`${namespace}/${rollout}`) ?? [])];
  }
}
