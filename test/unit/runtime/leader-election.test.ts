import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_TIMINGS, LeaderElector, type LeaseRecord, type LeaseStore } from '../../../src/runtime/leader-election.ts';

/** A Lease with the API server's optimistic concurrency: a stale resourceVersion is a conflict. */
class FakeLeaseStore implements LeaseStore {
  lease: { record: LeaseRecord; resourceVersion: string } | undefined;
  failing = false;
  private rv = 0;
  writes: LeaseRecord[] = [];

  async get() {
    if (this.failing) throw new Error('connection refused');
    return this.lease && { ...this.lease };
  }
  async create(record: LeaseRecord) {
    if (this.failing) throw new Error('connection refused');
    if (this.lease) throw new Error('409 AlreadyExists');
    this.put(record);
  }
  async update(record: LeaseRecord, resourceVersion: string) {
    if (this.failing) throw new Error('connection refused');
    if (this.lease?.resourceVersion !== resourceVersion) throw new Error('409 Conflict');
    this.put(record);
  }
  /** Another process writing the lease. */
  put(record: LeaseRecord) {
    this.lease = { record, resourceVersion: String(++this.rv) };
    this.writes.push(record);
  }
}

const log = pino({ level: 'silent' });
const elector = (store: LeaseStore, identity: string, timings = DEFAULT_TIMINGS) => new LeaderElector({ store, identity, timings, log, random: () => 0 });

describe('LeaderElector (client-go LeaseLock algorithm)', () => {
  beforeEach(() => vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('creates a missing lease and leads at once, with client-go defaults 15 s / 10 s / 2 s', async () => {
    expect(DEFAULT_TIMINGS).toEqual({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    expect(await a.acquire(new AbortController().signal)).toBe(true);
    expect(a.isLeader).toBe(true);
    expect(store.lease!.record).toEqual({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2026-01-01T00:00:00.000Z', renewTime: '2026-01-01T00:00:00.000Z', leaseTransitions: 0 });
  });

  it('renews every retry period, keeping acquireTime', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    await a.acquire(new AbortController().signal);
    const stop = new AbortController();
    const leading = a.keepLeading(stop.signal);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(store.writes).toHaveLength(4); // create + 3 renewals
    expect(store.lease!.record.renewTime).toBe('2026-01-01T00:00:06.000Z');
    expect(store.lease!.record.acquireTime).toBe('2026-01-01T00:00:00.000Z');
    stop.abort();
    expect(await leading).toBe('stopped');
  });

  it('a standby waits a full lease duration after it last saw the lease change, then takes over', async () => {
    const store = new FakeLeaseStore();
    store.put({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2026-01-01T00:00:00.000Z', renewTime: '2026-01-01T00:00:00.000Z', leaseTransitions: 3 });
    const b = elector(store, 'b');
    let won: boolean | undefined;
    void b.acquire(new AbortController().signal).then((v) => (won = v));
    await vi.advanceTimersByTimeAsync(8_000);
    // The holder renews once: the standby's wait starts over from when it saw that.
    store.put({ ...store.lease!.record, renewTime: '2026-01-01T00:00:08.000Z' });
    await vi.advanceTimersByTimeAsync(14_000); // t = 22 s: seen at t ≈ 8–10 s, still valid
    expect(won).toBeUndefined();
    expect(b.isLeader).toBe(false);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(won).toBe(true);
    expect(store.lease!.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4 });
  });

  it('of two candidates for a free lease exactly one wins (resourceVersion precondition)', async () => {
    const store = new FakeLeaseStore();
    store.put({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: '2026-01-01T00:00:00.000Z', renewTime: '2026-01-01T00:00:00.000Z', leaseTransitions: 1 });
    const a = elector(store, 'a');
    const b = elector(store, 'b');
    const results = await Promise.race([Promise.all([a.acquire(new AbortController().signal), b.acquire(new AbortController().signal)]), vi.advanceTimersByTimeAsync(1_000).then(() => 'pending')]);
    expect(results).toBe('pending'); // the loser keeps waiting
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
  });

  it('loses leadership when no renewal succeeds within the renew deadline', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    await a.acquire(new AbortController().signal);
    let result: string | undefined;
    void a.keepLeading(new AbortController().signal).then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(2_500);
    store.failing = true; // the API server is unreachable from t = 2.5 s
    await vi.advanceTimersByTimeAsync(9_000);
    expect(result).toBeUndefined(); // still retrying: deadline is 10 s after the renewal started (t = 4 s)
    await vi.advanceTimersByTimeAsync(2_000);
    expect(result).toBe('lost');
    expect(a.isLeader).toBe(false);
  });

  it('loses leadership when another process holds the lease', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    await a.acquire(new AbortController().signal);
    let result: string | undefined;
    void a.keepLeading(new AbortController().signal).then((r) => (result = r));
    store.put({ ...store.lease!.record, holderIdentity: 'intruder', renewTime: '2026-01-01T00:00:00.500Z' });
    await vi.advanceTimersByTimeAsync(13_000);
    expect(result).toBe('lost');
    expect(store.lease!.record.holderIdentity).toBe('intruder');
  });

  it('a renewal that hangs counts as failed at the deadline', async () => {
    const hung: LeaseStore = { get: () => new Promise(() => {}), create: async () => {}, update: async () => {} };
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    await a.acquire(new AbortController().signal);
    Object.assign(store, { get: hung.get });
    let result: string | undefined;
    void a.keepLeading(new AbortController().signal).then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(12_100);
    expect(result).toBe('lost');
  });

  it('release empties the holder with a 1 s duration, so a standby takes over at its next try', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    const b = elector(store, 'b');
    await a.acquire(new AbortController().signal);
    let bWon = false;
    void b.acquire(new AbortController().signal).then((v) => (bWon = v));
    await vi.advanceTimersByTimeAsync(100);
    await a.release();
    expect(store.lease!.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(bWon).toBe(true);
    expect(store.lease!.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('does not release a lease another process holds', async () => {
    const store = new FakeLeaseStore();
    const a = elector(store, 'a');
    await a.acquire(new AbortController().signal);
    store.put({ ...store.lease!.record, holderIdentity: 'b' });
    await a.release();
    expect(store.lease!.record.holderIdentity).toBe('b');
  });

  it('an aborted acquire gives up without writing', async () => {
    const store = new FakeLeaseStore();
    store.put({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2026-01-01T00:00:00.000Z', renewTime: '2026-01-01T00:00:00.000Z', leaseTransitions: 0 });
    const stop = new AbortController();
    const b = elector(store, 'b');
    const won = b.acquire(stop.signal);
    await vi.advanceTimersByTimeAsync(3_000);
    stop.abort();
    expect(await won).toBe(false);
    expect(store.writes).toHaveLength(1);
  });

  it('rejects timings client-go rejects', () => {
    expect(() => elector(new FakeLeaseStore(), 'a', { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).toThrow(RangeError);
    expect(() => elector(new FakeLeaseStore(), 'a', { leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(RangeError);
  });
});
