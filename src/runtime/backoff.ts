/** Per-key exponential backoff: base · 2^failures, capped. */
export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(baseMs = 100, maxMs = 300_000) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  /** The delay before the next retry of key, counting this failure. */
  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}
