import type { Logger } from 'pino';
import { RolloutGroup } from '../api/rolloutgroup.ts';
import { isConflict } from '../kube/errors.ts';
import type { KubeGateway, ObjectChange } from '../kube/gateway.ts';
import { ExponentialBackoff } from '../runtime/backoff.ts';
import type { ControllerMetrics, ReconcileOutcome } from '../runtime/metrics.ts';
import { WorkQueue } from '../runtime/work-queue.ts';
import { runWorkers } from '../runtime/workers.ts';
import { groupKey } from './group-key.ts';
import { MembershipIndex } from './membership-index.ts';
import { Reconciler } from './reconciler.ts';
import { GroupMetrics } from './group-metrics.ts';
import { ReleaseMetrics } from './release-metrics.ts';

/** The controller's name in metrics (controller-runtime's `controller` and `name` labels). */
export const CONTROLLER_NAME = 'rolloutgroup';

export interface ControllerOptions {
  readonly gateway: KubeGateway;
  readonly clusterDomain: string;
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
}

/** Maps watch events to group keys and runs reconciles until the signal aborts. */
export async function runController(options: ControllerOptions, signal: AbortSignal): Promise<void> {
  const { gateway, log } = options;
  const { metrics } = options;
  const queue = new WorkQueue(new ExponentialBackoff(), Date.now, metrics?.queue);
  const index = new MembershipIndex();
  const releaseMetrics = metrics ? new ReleaseMetrics(metrics.registry) : undefined;
  const reconciler = new Reconciler({ gateway, clusterDomain: options.clusterDomain, log, failpoint: options.failpoint, metrics: releaseMetrics });
  // Per-group series come from the acting process only (synced, and leading when electing).
  let acting = false;
  if (metrics) new GroupMetrics(metrics.registry, () => gateway.listGroups(), () => acting);

  gateway.onChange((c) => {
    for (const key of keysFor(c, gateway, index)) queue.add(key);
  });
  // A full list (at start, after a relist) comes without events: index and reconcile every group.
  const resyncAll = () => {
    for (const g of gateway.listGroups()) {
      indexGroup(g, index);
      const m = (g as { metadata?: { namespace?: string; name?: string } }).metadata;
      if (m?.namespace && m.name) queue.add(groupKey(m.namespace, m.name)); // unreadable ones too: they get their error
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
  await runWorkers(queue, metrics ? metrics.instrument(reconcile) : reconcile, {
    concurrency: options.concurrency,
    log,
    isReplan: isConflict,
    ...(metrics ? { onResult: (_key: string, outcome: ReconcileOutcome, seconds: number) => metrics.reconciled(outcome, seconds) } : {}),
  });
  await gateway.stop();
}

function keysFor(c: ObjectChange, gateway: KubeGateway, index: MembershipIndex): readonly string[] {
  switch (c.kind) {
    case 'RolloutGroup': {
      const key = groupKey(c.namespace, c.name);
      const raw = gateway.getGroup(c.namespace, c.name);
      if (raw) indexGroup(raw, index);
      else index.remove(key);
      // Claims are decided between groups of a namespace, so any group change may matter to the others.
      return [...new Set([key, ...index.groupsIn(c.namespace)])];
    }
    case 'Rollout':
      return index.groupsOf(c.namespace, c.name);
    case 'ReplicaSet':
      return c.ownerRollout ? index.groupsOf(c.namespace, c.ownerRollout) : [];
    case 'Service':
      return index.groupsIn(c.namespace);
  }
}

/** Records which Rollouts a group names (spec members and former members). */
function indexGroup(raw: unknown, index: MembershipIndex): void {
  const g = RolloutGroup.safeParse(raw);
  if (!g.success) return;
  const { namespace, name } = g.data.metadata;
  const former = (g.data.status?.members ?? []).map((m) => m.rollout);
  index.set(namespace, groupKey(namespace, name), [...g.data.spec.members.map((m) => m.rollout), ...former]);
}
