import { Gauge, type Registry } from 'prom-client';
import { RolloutGroup } from '../api/rolloutgroup.ts';
import { parseGroup } from './group-index.ts';

type Group = RolloutGroup;

/**
 * When a group entered its current phase, from the times its status persists, so a new leader
 * reports the same instant as the old one: the gate's wait from the stage's readiness, a cutover
 * from the gate opening, an abort from the abort, a stage from its start, Healthy (and the rest)
 * from the Ready condition's last transition. Undefined when the status holds no such time.
 */
export function phaseSinceHint(group: Group): string | undefined {
  const status = group.status;
  const release = status?.release;
  const ready = status?.conditions.find((c) => c.type === 'Ready');
  switch (status?.phase) {
    case 'Paused':
      return group.spec.paused ? ready?.lastTransitionTime : (release?.readyAt ?? release?.stageStartedAt ?? ready?.lastTransitionTime);
    case 'Promoting':
      return release?.promotedAt ?? ready?.lastTransitionTime;
    case 'Degraded':
      return release?.abortedAt ?? ready?.lastTransitionTime;
    case 'Progressing':
      return release?.stageStartedAt ?? release?.startedAt ?? ready?.lastTransitionTime;
    default:
      return ready?.lastTransitionTime;
  }
}

/**
 * Per-group figures in the style of kube-state-metrics and Argo Rollouts' `rollout_info`, read from
 * the informer cache at scrape time: `tandem_group_info{namespace,name,strategy,phase}` (always 1)
 * and `tandem_group_phase_since_seconds{namespace,name,phase}` (Unix time the phase began), so an
 * alert can say "Paused for an hour". Only the acting process reports them: standbys would double
 * every series. Cardinality is one series per group for each.
 */
export class GroupMetrics {
  /** The phase each group was last seen in, and since when (ms), for phases the status gives no time for. */
  private readonly seen = new Map<string, { phase: string; sinceMs: number }>();

  constructor(registry: Registry, groups: () => readonly unknown[], acting: () => boolean, nowMs: () => number = Date.now) {
    const registers = [registry];
    // Each collect reads the cache itself (a parse per group per scrape: cheap), so neither depends
    // on the other having run first.
    const current = () => (acting() ? this.read(groups(), nowMs()) : []);
    new Gauge({
      name: 'tandem_group_info',
      help: 'Information about a RolloutGroup: its strategy and phase (always 1)',
      labelNames: ['namespace', 'name', 'strategy', 'phase'],
      registers,
      collect() {
        this.reset();
        for (const { group, phase } of current()) this.set({ namespace: group.metadata.namespace, name: group.metadata.name, strategy: group.spec.strategy, phase }, 1);
      },
    });
    new Gauge({
      name: 'tandem_group_phase_since_seconds',
      help: 'Unix time at which the RolloutGroup entered its current phase',
      labelNames: ['namespace', 'name', 'phase'],
      registers,
      collect() {
        this.reset();
        for (const { group, phase, sinceMs } of current()) this.set({ namespace: group.metadata.namespace, name: group.metadata.name, phase }, sinceMs / 1000);
      },
    });
  }

  private read(raw: readonly unknown[], now: number) {
    const out: { group: Group; phase: string; sinceMs: number }[] = [];
    const present = new Set<string>();
    for (const r of raw) {
      const parsed = typeof r === 'object' && r !== null ? parseGroup(r) : RolloutGroup.safeParse(r);
      if (!parsed.success) continue;
      const group = parsed.data;
      const key = `${group.metadata.namespace}/${group.metadata.name}`;
      present.add(key);
      // Before the controller's first status: Unknown, since the group was created.
      const phase = group.status?.phase ?? 'Unknown';
      const prev = this.seen.get(key);
      const hint = phase === 'Unknown' ? group.metadata.creationTimestamp : phaseSinceHint(group);
      const hinted = hint ? Date.parse(hint) : NaN;
      const sinceMs = prev?.phase === phase && Number.isNaN(hinted) ? prev.sinceMs : Number.isNaN(hinted) ? now : hinted;
      this.seen.set(key, { phase, sinceMs });
      out.push({ group, phase, sinceMs });
    }
    for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);
    return out;
  }
}
