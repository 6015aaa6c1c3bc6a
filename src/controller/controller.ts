import type { Logger } from 'pino';
import { isConflict } from '../kube/errors.ts';
import type { KubeGateway } from '../kube/gateway.ts';
import { ExponentialBackoff } from '../runtime/backoff.ts';
import type { ControllerMetrics, ReconcileOutcome } from '../runtime/metrics.ts';
import { WorkQueue } from '../runtime/work-queue.ts';
import { runWorkers } from '../runtime/workers.ts';
import { EventRouter } from './event-router.ts';
import { Reconciler } from './reconciler.ts';
import { GroupMetrics } from './group-metrics.ts';
import { ReleaseMetrics } from './release-metrics.ts';
import type { AuthorityPolicy } from '../planner/authority.ts';
import type { Notifier } from '../notifications/notifier.ts';
import { groupKey } from './group-key.ts';

/** The controller's name in metrics (controller-runtime's `controller` and `name` labels). */
export const CONTROLLER_NAME = 'rolloutgroup';

export interface ControllerOptions {
  readonly gateway: KubeGateway;
  readonly clusterDomain: string;
  readonly authority?: AuthorityPolicy | undefined;
  readonly concurrency: number;
  readonly log: Logger;
  /** Every group is reconciled at least this often, events or not. */
  readonly resyncMs?: number;
  readonly failpoint?: string | undefined;
  readonly metrics?: ControllerMetrics | undefined;
  /** Called once every cache holds a full list. */
  readonly onSynced?: () => void;
  /** Resolves true once this process may act (leader election), false if it never will. */
  readonly waitForLeadership?: (signal: AbortSignal) => Promise<boolean>;
  /** Sends release notifications (docs/notifications.md) while this process acts. */
  readonly notifier?: Notifier | undefined;
}

/** Maps watch events to group keys and runs reconciles until the signal aborts. */
export async function runController(options: ControllerOptions, signal: AbortSignal): Promise<void> {
  const { gateway, log } = options;
  const { metrics } = options;
  const queue = new WorkQueue(new ExponentialBackoff(), Date.now, metrics?.queue);
  const router = new EventRouter(gateway);
  const releaseMetrics = metrics ? new ReleaseMetrics(metrics.registry) : undefined;
  const reconciler = new Reconciler({
    gateway,
    clusterDomain: options.clusterDomain,
    authority: options.authority,
    log,
    failpoint: options.failpoint,
    metrics: releaseMetrics,
    peers: (namespace, name) => router.peersOf(namespace, name),
    ...(options.notifier ? { extraAnnotations: options.notifier.recordFor.bind(options.notifier) } : {}),
  });
  // Per-group series come from the acting process only (synced, and leading when electing).
  let acting = false;
  if (metrics) new GroupMetrics(metrics.registry, () => gateway.listGroups(), () => acting);

  const { notifier } = options;
  notifier?.onRecordStaged((key) => queue.add(key));
  gateway.onChange((c) => {
    for (const key of router.keysFor(c)) queue.add(key);
    if (acting && c.kind === 'RolloutGroup') notifier?.enqueue(groupKey(c.namespace, c.name));
  });
  // A full list (at start, after a relist) comes without events: index anew and reconcile every group.
  const resyncAll = () => {
    for (const key of router.resync()) {
      queue.add(key);
      if (acting) notifier?.enqueue(key);
    }
  };
  gateway.onRelist((kind) => {
    log.info({ kind }, 'cache relisted; reconciling every group');
    resyncAll();
  });
  await gateway.start();
  if (signal.aborted) return gateway.stop(); // SIGTERM while the caches were filling
  log.info({ groups: gateway.listGroups().length }, 'caches synced');
  options.onSynced?.();
  // A standby keeps its caches warm and acts on nothing until it leads.
  if (options.waitForLeadership && !(await options.waitForLeadership(signal))) return gateway.stop();
  acting = true;
  resyncAll();

  const resync = setInterval(resyncAll, options.resyncMs ?? 300_000);
  signal.addEventListener('abort', () => {
    clearInterval(resync);
    queue.shutDown();
  });
  const reconcile = (key: string) => reconciler.reconcile(key);
  const notifying = notifier?.run(signal);
  await runWorkers(queue, metrics ? metrics.instrument(reconcile) : reconcile, {
    concurrency: options.concurrency,
    log,
    isReplan: isConflict,
    ...(metrics ? { onResult: (_key: string, outcome: ReconcileOutcome, seconds: number) => metrics.reconciled(outcome, seconds) } : {}),
  });
  await notifying;
  await gateway.stop();
}
