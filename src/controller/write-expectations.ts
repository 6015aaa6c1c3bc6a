/**
 * Rollouts this controller has just written, until the informer cache shows the write. Planning from
 * the copy from before the write would judge a member by a state it has already left (a retried
 * member still aborted, a restored template still on the new revision); resourceVersion guards
 * catch duplicate writes but not such a misjudged status.
 */
export class WriteExpectations {
  private readonly pending = new Map<string, { readonly before: string; readonly until: number }>();
  private readonly timeoutMs: number;

  constructor(timeoutMs = 30_000) {
    this.timeoutMs = timeoutMs;
  }

  /** A write moved the object from `before` to `after`; a no-op write (same version) expects nothing. */
  wrote(key: string, before: string, after: string, now: number): void {
    if (after !== '' && after !== before) this.pending.set(key, { before, until: now + this.timeoutMs });
  }

  /** True while the cache still holds the version from before our last write (bounded by the timeout). */
  stale(key: string, cached: string, now: number): boolean {
    const p = this.pending.get(key);
    if (!p) return false;
    if (cached === p.before && now < p.until) return true;
    this.pending.delete(key);
    return false;
  }
}
