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
  /** When a Rollout seen waiting last stopped waiting: Argo acting (see NudgeBudget). */
  private actedAt: number | undefined;

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
      if (this.waiting.delete(key)) this.actedAt = now;
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

  /**
   * How long until a Rollout seen waiting (by `due`) could next be due for a nudge, or undefined
   * when it is not seen waiting. Until then only its watch events can change what is planned for it.
   */
  dueInMs(key: string, now: number): number | undefined {
    const w = this.waiting.get(key);
    if (!w) return undefined;
    const period = this.periodFor(w.nudges);
    return Math.max(0, w.since + period - now, w.lastNudge === undefined ? 0 : w.lastNudge + period - now);
  }

  nudged(key: string, now: number): void {
    const w = this.waiting.get(key);
    if (w) this.waiting.set(key, { ...w, lastNudge: now, nudges: w.nudges + 1 });
  }

  /** The last time a Rollout this controller saw waiting for Argo stopped waiting (Argo acted on it). */
  get lastActedAt(): number | undefined {
    return this.actedAt;
  }
}

export interface NudgeBudgetOptions {
  /** Least time between two nudges, controller-wide, while Argo is quiet. */
  readonly quietMs?: number;
  /** Least time between two nudges while Argo visibly acts on Rollouts. */
  readonly busyMs?: number;
  /** How recent Argo's last act must be for Argo to count as acting. */
  readonly actingWindowMs?: number;
}

/**
 * A budget for nudges across all Rollouts: at most one nudge per `quietMs` (2 a second), and one per
 * `busyMs` (every 5 s) while Argo visibly acts on other Rollouts, i.e. one Tandem saw waiting
 * stopped waiting within `actingWindowMs`. Under a storm Argo is slow, not stuck: each Rollout's
 * own backoff (ArgoNudge) still came due for hundreds of waiting Rollouts, 1,665 nudges in the
 * N = 100 storm, each one more write to a loaded API server and one more event in Argo's queue,
 * which was the bottleneck. A Rollout truly stuck behind the write-back race still gets its nudge,
 * in its turn; once Argo is quiet, turns come every `quietMs`.
 *
 * A turn is taken before planning and given back when the plan does not nudge (a paused group), so
 * a Rollout the planner will not nudge never holds the budget from one it would.
 */
export class NudgeBudget {
  private readonly quietMs: number;
  private readonly busyMs: number;
  private readonly actingWindowMs: number;
  /** The turn last taken (its Rollout and time), and the one before it, restored on giving it back. */
  private last: { readonly key: string; readonly at: number; readonly before: number | undefined } | undefined;

  constructor(options: NudgeBudgetOptions = {}) {
    this.quietMs = options.quietMs ?? 500;
    this.busyMs = options.busyMs ?? 5_000;
    this.actingWindowMs = options.actingWindowMs ?? 15_000;
  }

  /** Takes the controller-wide turn for a nudge of `key` if it is free; `actedAt` is ArgoNudge.lastActedAt. */
  take(key: string, now: number, actedAt: number | undefined): boolean {
    const acting = actedAt !== undefined && now - actedAt < this.actingWindowMs;
    const spacing = acting ? this.busyMs : this.quietMs;
    if (this.last !== undefined && now - this.last.at < spacing) return false;
    this.last = { key, at: now, before: this.last?.at };
    return true;
  }

  /** The plan did not nudge `key`: its turn is free again. */
  giveBack(key: string): void {
    if (this.last?.key !== key) return;
    this.last = this.last.before === undefined ? undefined : { key: '', at: this.last.before, before: undefined };
  }
}
