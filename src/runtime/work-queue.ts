import { ExponentialBackoff } from './backoff.ts';
import type { WorkQueueMetrics } from './metrics.ts';

/**
 * A de-duplicating queue of keys with client-go's semantics: a key waits at most once, is never
 * handed to two workers at once, and a key added while it is processed is handed out again after.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly timers = new Map<string, { due: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly backoff: ExponentialBackoff;
  private readonly now: () => number;
  private readonly metrics: WorkQueueMetrics | undefined;
  /** When each waiting key was added and each processed key was handed out (performance.now()). */
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private shuttingDown = false;

  constructor(backoff = new ExponentialBackoff(), now: () => number = Date.now, metrics?: WorkQueueMetrics) {
    this.backoff = backoff;
    this.now = now;
    this.metrics = metrics;
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics?.added();
    this.dirty.add(key);
    this.addedAt.set(key, performance.now());
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  /** Hands a dirty key to a waiting worker, or queues it. */
  private enqueue(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.start(key);
      waiter(key);
    } else {
      this.queue.push(key);
      this.metrics?.depth(this.queue.length);
    }
  }

  private start(key: string): void {
    this.processing.add(key);
    const now = performance.now();
    this.metrics?.queued((now - (this.addedAt.get(key) ?? now)) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, now);
  }

  /** Adds key after ms; of several pending delays for one key the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const due = this.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.due <= due) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { due, timer });
  }

  /** Adds key after its next backoff delay; returns the delay. */
  addRateLimited(key: string): number {
    this.metrics?.retried();
    const ms = this.backoff.next(key);
    this.addAfter(key, ms);
    return ms;
  }

  forget(key: string): void {
    this.backoff.forget(key);
  }

  retries(key: string): number {
    return this.backoff.retries(key);
  }

  /** The next key to process, or undefined once shut down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.metrics?.depth(this.queue.length);
      this.dirty.delete(key);
      this.start(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    const started = this.startedAt.get(key);
    if (started !== undefined) this.metrics?.worked((performance.now() - started) / 1000);
    this.startedAt.delete(key);
    this.processing.delete(key);
    // Added again while it was processed: counted and timed when that add happened.
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
