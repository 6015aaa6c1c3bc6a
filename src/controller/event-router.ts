import type { ObjectChange } from '../kube/gateway.ts';
import type { PeerGroup } from '../planner/observed.ts';
import { groupKey } from './group-key.ts';
import { GroupIndex } from './group-index.ts';
import { MembershipIndex } from './membership-index.ts';

/** The cache reads the router needs (the gateway's, or a fake in unit tests). */
export interface RouterCaches {
  getGroup(namespace: string, name: string): unknown;
  listGroups(): readonly unknown[];
  rolloutServices(namespace: string, name: string): readonly string[] | undefined;
  listRolloutServices(): readonly { namespace: string; name: string; services: readonly string[] }[];
  /** Groups (of one namespace, or all) whose analysis names a template. */
  groupsNamingTemplate(namespace: string | undefined, name: string, clusterScope: boolean): readonly { namespace: string; name: string }[];
}

/**
 * Maps a watch event to the groups it may matter to, and no others: a Rollout or its ReplicaSets
 * wake the groups listing it, a Service the groups whose Rollouts name it, a group itself (and other
 * groups only when what it claims changed). Work per event stays the same however many groups share a namespace.
 */
export class EventRouter {
  private groups = new GroupIndex();
  /** Which Rollouts (`ns/name`) name which Services. */
  private services = new MembershipIndex();
  private readonly caches: RouterCaches;

  constructor(caches: RouterCaches) {
    this.caches = caches;
  }

  keysFor(c: ObjectChange): readonly string[] {
    switch (c.kind) {
      case 'RolloutGroup': {
        const key = groupKey(c.namespace, c.name);
        const raw = this.caches.getGroup(c.namespace, c.name);
        const others = raw ? this.groups.upsert(c.namespace, key, raw) : this.groups.remove(c.namespace, key);
        return [key, ...others];
      }
      case 'Rollout': {
        this.indexServices(c.namespace, c.name, this.caches.rolloutServices(c.namespace, c.name));
        return this.groups.groupsOf(c.namespace, c.name);
      }
      case 'ReplicaSet':
        return c.ownerRollout ? this.groups.groupsOf(c.namespace, c.ownerRollout) : [];
      case 'AnalysisRun':
        return c.ownerGroup ? [groupKey(c.namespace, c.ownerGroup)] : [];
      // Templates change seldom: looking through the groups then costs less than an index kept always.
      // Groups naming it as the other kind too: their validation reports it (AnalysisTemplateKind).
      case 'AnalysisTemplate':
      case 'ClusterAnalysisTemplate': {
        const ns = c.kind === 'AnalysisTemplate' ? c.namespace : undefined;
        const groups = [...this.caches.groupsNamingTemplate(ns, c.name, false), ...this.caches.groupsNamingTemplate(ns, c.name, true)];
        return [...new Set(groups.map((g) => groupKey(g.namespace, g.name)))];
      }
      // A slice is routed as its Service (the gateway names the change after it).
      case 'EndpointSlice':
      case 'Service': {
        const keys = new Set<string>();
        for (const r of this.services.groupsOf(c.namespace, c.name)) for (const k of this.groups.groupsOf(c.namespace, r.slice(c.namespace.length + 1))) keys.add(k);
        return [...keys];
      }
    }
  }

  /** After a full list (events may have been missed): rebuilds the indexes from the caches; returns every group's key. */
  resync(): string[] {
    this.groups = new GroupIndex();
    this.services = new MembershipIndex();
    for (const r of this.caches.listRolloutServices()) this.indexServices(r.namespace, r.name, r.services);
    const keys: string[] = [];
    for (const g of this.caches.listGroups()) {
      const m = (g as { metadata?: { namespace?: string; name?: string } }).metadata;
      if (!m?.namespace || !m.name) continue;
      const key = groupKey(m.namespace, m.name);
      this.groups.upsert(m.namespace, key, g);
      keys.push(key); // unreadable ones too: they get their error
    }
    return keys;
  }

  peersOf(namespace: string, name: string): PeerGroup[] {
    return this.groups.peersOf(namespace, groupKey(namespace, name));
  }

  private indexServices(namespace: string, rollout: string, services: readonly string[] | undefined): void {
    const key = `${namespace}/${rollout}`;
    if (services) this.services.set(namespace, key, services);
    else this.services.remove(key);
  }
}
