import { Histogram, type Registry } from 'prom-client';
import type { RolloutGroupStatus } from '../api/rolloutgroup.ts';
import type { PlannedEvent } from '../planner/plan-types.ts';

type Release = NonNullable<RolloutGroupStatus['release']>;

/** Tandem's own figures (DESIGN §6), measured from the times a release records in its status. */
export class ReleaseMetrics {
  private readonly releaseDuration: Histogram<'outcome'>;
  private readonly cutover: Histogram;
  private readonly actionLatency: Histogram<'action'>;
  private readonly planTime: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.releaseDuration = new Histogram({
      name: 'tandem_release_duration_seconds',
      help: 'Time from the start of a release to its completion or abort',
      labelNames: ['outcome'],
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600],
      registers,
    });
    this.cutover = new Histogram({
      name: 'tandem_cutover_seconds',
      help: 'Time from the start of a release\'s promotion to its completion',
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.actionLatency = new Histogram({
      name: 'tandem_action_latency_seconds',
      help: 'Latency of each API write the reconciler performs, by action',
      labelNames: ['action'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    // A reconcile's own work, without its API writes, which controller_runtime_reconcile_time_seconds includes.
    this.planTime = new Histogram({
      name: 'tandem_plan_seconds',
      help: 'Time to read a group and its members from the caches and plan, without the API writes',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
  }

  /** Times one observe → plan (no I/O: everything is read from the caches). */
  planned<T>(fn: () => T): T {
    const started = performance.now();
    try {
      return fn();
    } finally {
      this.planTime.observe((performance.now() - started) / 1000);
    }
  }

  /** Times one write. */
  async action<T>(action: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.actionLatency.observe({ action }, (performance.now() - started) / 1000);
    }
  }

  /**
   * Called once a status recording these events is persisted. A completed release is gone from
   * the new status, so its times come from the previous one.
   */
  recorded(events: readonly PlannedEvent[], before: Release | undefined, after: Release | undefined, nowMs: number): void {
    const release = after ?? before;
    if (!release) return;
    const since = (iso: string) => Math.max(0, (nowMs - Date.parse(iso)) / 1000);
    for (const e of events) {
      if (e.reason === 'ReleaseCompleted') {
        this.releaseDuration.observe({ outcome: 'completed' }, since(release.startedAt));
        if (release.promotedAt) this.cutover.observe(since(release.promotedAt));
      } else if (e.reason === 'ReleaseAborted') {
        this.releaseDuration.observe({ outcome: 'aborted' }, since(release.startedAt));
      }
    }
  }
}
