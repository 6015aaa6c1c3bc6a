import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** controller-runtime's reconcile-time buckets (5 ms … 60 s). */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60];
/** client-go's work-queue buckets: 10^-8 … 10^1 seconds. */
const QUEUE_BUCKETS = Array.from({ length: 10 }, (_, i) => 10 ** (i - 8));

export type ReconcileOutcome = 'success' | 'error' | 'requeue' | 'requeue_after';

/** What a WorkQueue reports; times in seconds. */
export interface WorkQueueMetrics {
  added(): void;
  depth(n: number): void;
  queued(seconds: number): void;
  worked(seconds: number): void;
  retried(): void;
}

/**
 * The reconcile and work-queue figures under controller-runtime's names, so dashboards made for
 * Go controllers work unchanged. One registry per process; it knows nothing about releases.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly controller: string;
  private readonly reconcileTotal: Counter<'controller' | 'result'>;
  private readonly reconcileErrors: Counter<'controller'>;
  private readonly reconcileTime: Histogram<'controller'>;
  private readonly activeWorkers: Gauge<'controller'>;
  private readonly leaderStatus: Gauge<'name'>;
  private readonly inFlight = new Map<number, number>();
  private nextWork = 0;
  readonly queue: WorkQueueMetrics;

  constructor(controller: string, maxConcurrentReconciles: number) {
    this.controller = controller;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.reconcileTotal = new Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller', labelNames: ['controller', 'result'], registers });
    this.reconcileErrors = new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller', labelNames: ['controller'], registers });
    this.reconcileTime = new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Length of time per reconciliation per controller', labelNames: ['controller'], buckets: RECONCILE_BUCKETS, registers });
    new Gauge({ name: 'controller_runtime_max_concurrent_reconciles', help: 'Maximum number of concurrent reconciles per controller', labelNames: ['controller'], registers }).set({ controller }, maxConcurrentReconciles);
    this.activeWorkers = new Gauge({ name: 'controller_runtime_active_workers', help: 'Number of currently used workers per controller', labelNames: ['controller'], registers });
    this.activeWorkers.set({ controller }, 0);
    for (const result of ['success', 'error', 'requeue', 'requeue_after'] as const) this.reconcileTotal.inc({ controller, result }, 0);
    this.reconcileErrors.inc({ controller }, 0);

    // controller-runtime's leader-election gauge: 1 while this process holds the lease.
    this.leaderStatus = new Gauge({ name: 'leader_election_master_status', help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master', labelNames: ['name'], registers });

    const q = { name: controller, controller };
    const labelNames = ['name', 'controller'] as const;
    const depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames, registers });
    const adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames, registers });
    const queueDuration = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested', labelNames, buckets: QUEUE_BUCKETS, registers });
    const workDuration = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes', labelNames, buckets: QUEUE_BUCKETS, registers });
    const retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames, registers });
    const running = () => [...this.inFlight.values()].map((start) => (performance.now() - start) / 1000);
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: 'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration',
      labelNames,
      registers,
      collect() {
        this.set(q, running().reduce((a, b) => a + b, 0));
      },
    });
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running',
      labelNames,
      registers,
      collect() {
        this.set(q, Math.max(0, ...running()));
      },
    });
    depth.set(q, 0);
    adds.inc(q, 0);
    retries.inc(q, 0);
    this.queue = {
      added: () => adds.inc(q),
      depth: (n) => depth.set(q, n),
      queued: (s) => queueDuration.observe(q, s),
      worked: (s) => workDuration.observe(q, s),
      retried: () => retries.inc(q),
    };
  }

  /** Wraps a reconcile so the active-worker and unfinished-work figures see it. */
  instrument<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args) => {
      const id = this.nextWork++;
      this.inFlight.set(id, performance.now());
      this.activeWorkers.inc({ controller: this.controller });
      try {
        return await fn(...args);
      } finally {
        this.inFlight.delete(id);
        this.activeWorkers.dec({ controller: this.controller });
      }
    };
  }

  /** Records whether this process holds the lease `name`. */
  leader(name: string, isLeader: boolean): void {
    this.leaderStatus.set({ name }, isLeader ? 1 : 0);
  }

  reconciled(outcome: ReconcileOutcome, seconds: number): void {
    const controller = this.controller;
    this.reconcileTotal.inc({ controller, result: outcome });
    if (outcome === 'error') this.reconcileErrors.inc({ controller });
    this.reconcileTime.observe({ controller }, seconds);
  }
}
