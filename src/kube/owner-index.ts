/** The part of a cached object the index reads. */
interface Owned {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly ownerReferences?: readonly { readonly kind: string; readonly name: string }[] };
}

/** ReplicaSets by the Rollout that owns them, so a reconcile reads its members' ReplicaSets without scanning the namespace. */
export class OwnerIndex {
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly ownerOf = new Map<string, string>();

  add(o: Owned): void {
    this.remove(o);
    const owner = o.metadata?.ownerReferences?.find((r) => r.kind === 'Rollout')?.name;
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
