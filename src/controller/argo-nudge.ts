/**
 * Argo Rollouts 1.9 writes the Rollout it has just patched back into its own informer cache
 * (`writeBackToInformer`). When another write (Tandem's metadata or promote) lands during that
 * reconcile, the write-back replaces the newer object in Argo's cache, and Argo does not look at the
 * Rollout again until its next event or its 15-minute resync. Seen on the local stack: a promote
 * not acted on for minutes, a spec change never observed. A metadata-only write makes a fresh watch
 * event that puts the current object back into Argo's cache.
 */
export class ArgoNudge {
  private readonly waiting = new Map<string, { readonly state: string; readonly since: number; lastNudge?: number }>();
  private readonly afterMs: number;

  constructor(afterMs = 15_000) {
    this.afterMs = afterMs;
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
      this.waiting.set(key, { state, since: now });
      return false;
    }
    return now - w.since >= this.afterMs && (w.lastNudge === undefined || now - w.lastNudge >= this.afterMs);
  }

  nudged(key: string, now: number): void {
    const w = this.waiting.get(key);
    if (w) w.lastNudge = now;
  }
}
