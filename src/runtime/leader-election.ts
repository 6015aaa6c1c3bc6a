import type { Logger } from 'pino';

/** The fields of a coordination.k8s.io/v1 Lease spec that leader election uses. */
export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string;
  readonly renewTime: string;
  readonly leaseTransitions: number;
}

/** Where the lease lives. update() must fail when resourceVersion is stale (optimistic concurrency). */
export interface LeaseStore {
  get(): Promise<{ record: LeaseRecord; resourceVersion: string } | undefined>;
  create(record: LeaseRecord): Promise<void>;
  update(record: LeaseRecord, resourceVersion: string): Promise<void>;
}

export interface LeaderElectionTimings {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/** client-go's and controller-runtime's defaults. */
export const DEFAULT_TIMINGS: LeaderElectionTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** client-go's JitterFactor for the acquire loop. */
const JITTER = 1.2;

/** What is wrong with these timings (client-go's checks), if anything. */
export function timingsProblem(t: LeaderElectionTimings): string | undefined {
  return t.leaseDurationMs > t.renewDeadlineMs && t.renewDeadlineMs > JITTER * t.retryPeriodMs
    ? undefined
    : 'leader election needs lease duration > renew deadline > 1.2 × retry period';
}

export interface LeaderElectorOptions {
  readonly store: LeaseStore;
  readonly identity: string;
  readonly timings: LeaderElectionTimings;
  readonly log: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
}

/**
 * client-go's LeaseLock algorithm: acquire when the lease is free, ours, or not renewed for a lease
 * duration as seen on this process's clock; renew every retry period; leadership is lost when no
 * renewal succeeded within the renew deadline. Every write is guarded by resourceVersion.
 */
export class LeaderElector {
  private readonly o: LeaderElectorOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  /** The last record seen, compared by value, and when (our clock) it was first seen. */
  private observed: { raw: string; record: LeaseRecord; at: number } | undefined;
  private leading = false;

  constructor(options: LeaderElectorOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    const problem = timingsProblem(options.timings);
    if (problem) throw new RangeError(problem);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Resolves true once this process holds the lease, or false if the signal aborted first. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    const { retryPeriodMs } = this.o.timings;
    let waitingLogged = false;
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) {
        this.leading = true;
        this.o.log.info({ identity: this.o.identity }, 'became leader');
        return true;
      }
      if (!waitingLogged) {
        this.o.log.info({ identity: this.o.identity, holder: this.observed?.record.holderIdentity }, 'waiting for leadership');
        waitingLogged = true;
      }
      await sleep(retryPeriodMs * (1 + this.random() * (JITTER - 1)), signal);
    }
    return false;
  }

  /**
   * Renews every retry period until the signal aborts ('stopped') or no renewal succeeded within the
   * renew deadline ('lost'). The caller must stop acting at once on 'lost'.
   */
  async keepLeading(signal: AbortSignal): Promise<'stopped' | 'lost'> {
    const { renewDeadlineMs, retryPeriodMs } = this.o.timings;
    while (!signal.aborted) {
      await sleep(retryPeriodMs, signal);
      if (signal.aborted) break;
      const deadline = this.now() + renewDeadlineMs;
      let renewed = false;
      for (;;) {
        renewed = await withDeadline(this.tryAcquireOrRenew(), deadline - this.now());
        if (renewed || signal.aborted || this.now() + retryPeriodMs >= deadline) break;
        await sleep(retryPeriodMs, signal);
      }
      if (!renewed && signal.aborted) break;
      if (!renewed) {
        this.leading = false;
        this.o.log.error({ identity: this.o.identity, renewDeadlineMs }, 'leadership lost');
        return 'lost';
      }
    }
    return 'stopped';
  }

  /** Gives the lease up (client-go's ReleaseOnCancel): holder empty, duration 1 s. Best effort. */
  async release(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    const current = await this.o.store.get().catch(() => undefined);
    if (!current || current.record.holderIdentity !== this.o.identity) return;
    const nowIso = new Date(this.now()).toISOString();
    try {
      await this.o.store.update({ ...current.record, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: nowIso, renewTime: nowIso }, current.resourceVersion);
      this.o.log.info({ identity: this.o.identity }, 'lease released');
    } catch (err) {
      this.o.log.warn({ err }, 'lease not released');
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { identity, store, timings, log } = this.o;
    const nowMs = this.now();
    const nowIso = new Date(nowMs).toISOString();
    const mine = (acquireTime: string, leaseTransitions: number): LeaseRecord => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(timings.leaseDurationMs / 1000),
      acquireTime,
      renewTime: nowIso,
      leaseTransitions,
    });
    try {
      const current = await store.get();
      if (!current) {
        const record = mine(nowIso, 0);
        await store.create(record);
        this.observe(record, nowMs);
        return true;
      }
      this.observe(current.record, nowMs);
      const old = current.record;
      const held = old.holderIdentity !== '' && old.holderIdentity !== identity;
      // Another holder's lease counts as valid for its duration from when *we* saw it change.
      if (held && this.observed!.at + old.leaseDurationSeconds * 1000 > nowMs) return false;
      const record = old.holderIdentity === identity ? mine(old.acquireTime, old.leaseTransitions) : mine(nowIso, old.leaseTransitions + 1);
      await store.update(record, current.resourceVersion);
      this.observe(record, nowMs);
      return true;
    } catch (err) {
      log.debug({ err }, 'lease not acquired or renewed');
      return false;
    }
  }

  private observe(record: LeaseRecord, at: number): void {
    const raw = JSON.stringify(record);
    if (this.observed?.raw !== raw) this.observed = { raw, record, at };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** An attempt that has not answered by the deadline counts as failed (a hung API server). */
function withDeadline(attempt: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  return Promise.race([attempt, timeout]).finally(() => clearTimeout(timer));
}
