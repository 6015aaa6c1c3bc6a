/**
 * Argo Rollouts 1.9 writes the Rollout it has just patched back into its own informer cache
 * (`writeBackToInformer`). When another write (Tandem's metadata or promote) lands during that
 * reconcile, the write-back replaces the newer object in Argo's cache, and Argo does not look at the
 * Rollout again until its next event or its 15-minute resync. Seen on the local stack: a promote
 * not acted on for minutes, a spec change never observed. A metadata-only write makes a fresh watch
 * event that puts the current object back into Argo's cache.
 */
export class ArgoNudge {
  private readonly waiting = new Map<string, { readonly state: string; readonly since: number; lastNudge?: number; readonly nudges: number }>();
  private readonly afterMs: number;

  constructor(afterMs = 15_000) {
    this.afterMs = afterMs;
  }

  /**
   * How long a Rollout must wait before its next nudge: the period, doubled for every nudge it has
   * had while waiting (up to 16 periods). Under a storm Argo is slow rather than stuck: it takes
   * minutes to reach each of hundreds of changed Rollouts, and a nudge every period then made up
   * half of the controller's API time (each a write to a loaded API server) and gave Argo's queue
   * more events, while the race a nudge mends needs one fresh event.
   */
  private periodFor(nudges: number): number {
    return this.afterMs * 2 ** Math.min(nudges, 4);
  }

  /**
   * `state` says what Argo has yet to act on (generation and resourceVersion), or undefined when
   * nothing is waiting. True when it has waited too long and was not nudged within the same period.
   * Whether to nudge is the planner's call; `nudged` records that it was done.
   */
  due(key: string, state: string | undefined, now: number): boolean {
    if (state === undefined) {
      this.waiting.delete(key);
      return false;
    }
    const w = this.waiting.get(key);
    if (!w || w.state !== state) {
      // A new state while still waiting (the nudge's own write, or Argo moving part way) keeps the count.
      this.waiting.set(key, { state, since: now, nudges: w?.nudges ?? 0 });
      return false;
    }
    const period = this.periodFor(w.nudges);
    return now - w.since >= period && (w.lastNudge === undefined || now - w.lastNudge >= period);
  }

  nudged(key: string, now: number): void {
    const w = this.waiting.get(key);
    if (w) this.waiting.set(key, { ...w, lastNudge: now, nudges: w.nudges + 1 });
  }
}
