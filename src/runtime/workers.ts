import PQueue from 'p-queue';
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
 * down; resolves when the reconciles in flight have finished.
 */
export async function runWorkers(queue: WorkQueue, reconcile: Reconcile, options: WorkerOptions): Promise<void> {
  const pool = new PQueue({ concurrency: options.concurrency });
  const { log } = options;
  for (;;) {
    await pool.onSizeLessThan(1);
    const key = await queue.get();
    if (key === undefined) break;
    void pool.add(async () => {
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
    });
  }
  await pool.onIdle();
}

function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  return { type: err.name, message: err.message, ...(err.cause instanceof Error ? { cause: err.cause.message } : {}) };
}
