import type { Logger } from 'pino';
import type { ReconcileOutcome } from './metrics.ts';
import type { WorkQueue } from './work-queue.ts';

export interface ReconcileResult {
  readonly requeueAfterMs?: number | undefined;
}

export type Reconcile = (key: string) => Promise<ReconcileResult>;

export interface WorkerOptions {
  readonly concurrency: number;
  readonly log: Logger;
  /** Errors that mean "the world moved; plan again", not failures (HTTP 409). */
  readonly isReplan: (err: unknown) => boolean;
  readonly onResult?: (key: string, outcome: ReconcileOutcome, seconds: number) => void;
}

/**
 * Hands keys from the queue to reconcile, at most `concurrency` at a time, until the queue is shut
 * down; resolves when the reconciles in flight have finished. `concurrency` loops each take the
 * next key and reconcile it, as client-go's workers do. (A p-queue pool did this before: each wait
 * for a free slot made an AbortController and aborted it, a DOMException with a stack trace per
 * key, 10 % of the controller's busy time in a storm.)
 */
export async function runWorkers(queue: WorkQueue, reconcile: Reconcile, options: WorkerOptions): Promise<void> {
  const { log } = options;
  const work = async (key: string) => {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const result = await reconcile(key);
      queue.forget(key);
      if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      options.onResult?.(key, result.requeueAfterMs !== undefined ? 'requeue_after' : 'success', seconds());
    } catch (err) {
      if (options.isReplan(err)) {
        // Normal after our own writes (the cache lags): plan again soon, backing off if it persists.
        const delayMs = queue.addRateLimited(key);
        log.debug({ key, err, delayMs }, 'conflict; planning again');
        options.onResult?.(key, 'requeue', seconds());
      } else {
        const delayMs = queue.addRateLimited(key);
        log.error({ key, err: errorFields(err), retries: queue.retries(key), delayMs }, 'reconcile failed');
        options.onResult?.(key, 'error', seconds());
      }
    } finally {
      queue.done(key);
    }
  };
  const worker = async () => {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) await work(key);
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
}

function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  return { type: err.name, message: err.message, ...(err.cause instanceof Error ? { cause: err.cause.message } : {}) };
}
