import { RolloutGroup } from '../api/rolloutgroup.ts';
import type { PeerGroup } from '../planner/observed.ts';
import { MembershipIndex } from './membership-index.ts';
import { parseOnce } from '../kube/parse-once.ts';

/** A cached group parsed once per change of it: here on its event, then by its reconciles and the metrics. */
export const parseGroup = parseOnce(RolloutGroup);

interface Entry {
  /** What other groups see of this one: undefined when it is unreadable or being deleted (it claims nothing). */
  readonly peer: PeerGroup | undefined;
  /** Spec members and former members (status.members): the Rollouts whose events wake this group. */
  readonly names: readonly string[];
}

/**
 * Every group, parsed once per change of it: which groups list which Rollouts, and what each group
 * claims. A reconcile reads its peers here instead of parsing every group of its namespace, and a
 * change wakes other groups only when it changes what they see (a status write changes nothing).
 */
export class GroupIndex {
  private readonly membership = new MembershipIndex();
  private readonly entries = new Map<string, Entry>();

  /** Records a group as the cache now holds it; returns the other groups its change may matter to. */
  upsert(namespace: string, key: string, raw: unknown): string[] {
    const before = this.entries.get(key);
    const parsed = typeof raw === 'object' && raw !== null ? parseGroup(raw) : RolloutGroup.safeParse(raw);
    let entry: Entry;
    if (parsed.success) {
      const { metadata, spec, status } = parsed.data;
      const members = spec.members.map((m) => m.rollout);
      const names = [...new Set([...members, ...(status?.members ?? []).map((m) => m.rollout)])];
      entry = { peer: metadata.deletionTimestamp ? undefined : { name: metadata.name, creationTimestamp: metadata.creationTimestamp ?? '', members }, names };
      this.membership.set(namespace, key, names);
    } else {
      // Unreadable (the CRD normally prevents it): it claims nothing, and keeps waking on what it listed.
      entry = { peer: undefined, names: before?.names ?? [] };
    }
    this.entries.set(key, entry);
    if (sameClaim(before?.peer, entry.peer)) return [];
    return this.sharing(namespace, key, [...(before?.peer?.members ?? []), ...(entry.peer?.members ?? [])]);
  }

  /** Forgets a deleted group; returns the other groups that saw its claims. */
  remove(namespace: string, key: string): string[] {
    const before = this.entries.get(key);
    this.entries.delete(key);
    this.membership.remove(key);
    return this.sharing(namespace, key, before?.peer?.members ?? []);
  }

  /** Groups listing the Rollout (as member or former member). */
  groupsOf(namespace: string, rollout: string): readonly string[] {
    return this.membership.groupsOf(namespace, rollout);
  }

  /** The live, readable groups that list any Rollout the group lists: all the planner's claim checks look at. */
  peersOf(namespace: string, key: string): PeerGroup[] {
    const peers = new Map<string, PeerGroup>();
    for (const r of this.entries.get(key)?.names ?? []) {
      for (const other of this.membership.groupsOf(namespace, r)) {
        const peer = other === key ? undefined : this.entries.get(other)?.peer;
        if (peer) peers.set(other, peer);
      }
    }
    return [...peers.values()];
  }

  /** Other groups listing any of these Rollouts. */
  private sharing(namespace: string, key: string, rollouts: readonly string[]): string[] {
    const keys = new Set<string>();
    for (const r of rollouts) for (const k of this.membership.groupsOf(namespace, r)) if (k !== key) keys.add(k);
    return [...keys];
  }
}

const sameClaim = (a: PeerGroup | undefined, b: PeerGroup | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.name === b.name && a.creationTimestamp === b.creationTimestamp && a.members.join('\n') === b.members.join('\n'));
