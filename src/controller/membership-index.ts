/** Which groups list which Rollouts, so that a Rollout event wakes exactly the groups that care. */
export class MembershipIndex {
  private readonly byRollout = new Map<string, Set<string>>();
  private readonly byGroup = new Map<string, readonly string[]>();

  /** Records the Rollouts a group names (spec members and former members in its status). */
  set(namespace: string, groupKey: string, rollouts: readonly string[]): void {
    this.remove(groupKey);
    const keys = rollouts.map((r) => `${namespace}/${r}`);
    this.byGroup.set(groupKey, keys);
    for (const k of keys) {
      let groups = this.byRollout.get(k);
      if (!groups) this.byRollout.set(k, (groups = new Set()));
      groups.add(groupKey);
    }
  }

  remove(groupKey: string): void {
    for (const k of this.byGroup.get(groupKey) ?? []) {
      const groups = this.byRollout.get(k);
      groups?.delete(groupKey);
      if (groups?.size === 0) this.byRollout.delete(k);
    }
    this.byGroup.delete(groupKey);
  }

  groupsOf(namespace: string, rollout: string): readonly string[] {
    return [...(this.byRollout.get(`${namespace}/${rollout}`) ?? [])];
  }
}
