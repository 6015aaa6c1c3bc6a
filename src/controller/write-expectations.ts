/**
 * Objects this controller has just written, until the informer cache shows the last write. Planning
 * from a copy from before it would judge a member by a state it has already left (a retried member
 * still aborted, a restored template still on the new revision) or write the group against a version
 * it has already replaced (a 409 after a second write of the same reconcile); resourceVersion guards
 * catch duplicate writes but not such a misjudged status.
 */
export class WriteExpectations {
  private readonly pending = new Map<string, { readonly superseded: ReadonlySet<string>; readonly after: string; readonly until: number }>();
  private readonly timeoutMs: number;

  constructor(timeoutMs = 30_000) {
    this.timeoutMs = timeoutMs;
  }

  /**
   * A write moved the object from `before` to `after`; a no-op write (same version) expects nothing.
   * Every version an earlier write of ours left behind stays stale too: a cache may deliver the
   * intermediate version of two writes in a row before the last.
   */
  wrote(key: string, before: string, after: string, now: number): void {
    if (after === '' || after === before) return;
    const earlier = this.pending.get(key);
    const superseded = new Set(earlier && now < earlier.until ? [...earlier.superseded, earlier.after] : []);
    superseded.add(before);
    superseded.delete(after);
    this.pending.set(key, { superseded, after, until: now + this.timeoutMs });
  }

  /** True while the cache still holds a version our last write replaced (bounded by the timeout). */
  stale(key: string, cached: string, now: number): boolean {
    const p = this.pending.get(key);
    if (!p) return false;
    if (p.superseded.has(cached) && now < p.until) return true;
    this.pending.delete(key);
    return false;
  }
}
