import type { Logger } from 'pino';
import { RolloutGroup } from '../api/rolloutgroup.ts';
import { isConflict } from '../kube/errors.ts';
import { ExponentialBackoff } from '../runtime/backoff.ts';
import { WorkQueue } from '../runtime/work-queue.ts';
import { runWorkers } from '../runtime/workers.ts';
import { parseGroupKey } from '../controller/group-key.ts';
import { destinationKey, destinationsFor, type ConfigResult } from './config.ts';
import { milestones, NOTIFIED_ANNOTATION, TRIGGERS, readRecord, type NotifiedRecord } from './milestones.ts';
import { deliveriesFor, type Delivery } from './render.ts';
import type { Send } from './send.ts';

/** The part of the gateway the notifier uses: it reads the cache and writes nothing itself. */
export interface NotifierPort {
  getGroup(namespace: string, name: string): unknown;
}

export interface NotifierOptions {
  readonly port: NotifierPort;
  readonly config: () => ConfigResult;
  readonly send: Send;
  readonly log: Logger;
  /** First retry of a failed delivery, doubling up to maxRetryMs. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  readonly now?: () => number;
}

interface Pending {
  readonly releaseKey: string;
  /** `<milestone key>@<destination>`, as recorded. */
  readonly entry: string;
  readonly trigger: string;
  readonly destination: string;
  readonly requests: readonly Delivery[];
}

/**
 * Sends a group's release milestones to its subscribers, beside the reconciler and never in its way:
 * its own queue and worker, requests bounded in time. Level-triggered: each pass derives the
 * milestones from the cached status, sends those the group's record (an annotation, written after
 * delivery, by the reconciler) lacks, oldest first, and retries failures with backoff. Delivery is at least once: a
 * crash between a send and its record sends that one again; a restart sends nothing recorded.
 * Rendered messages wait in memory until delivered, so a release that moved on still gets them.
 */
export class Notifier {
  private readonly o: NotifierOptions;
  private readonly queue = new WorkQueue(new ExponentialBackoff(100, 5_000));
  private readonly backoff: ExponentialBackoff;
  /** Per group: rendered and not yet delivered, in order. */
  private readonly outbox = new Map<string, Pending[]>();
  /** Per group: delivered but maybe not yet in the cached record (the record write or the cache behind). */
  private readonly delivered = new Map<string, Set<string>>();
  /** Per group: no delivery before this time (ms) after a failure, whatever wakes the group meanwhile. */
  private readonly retryAt = new Map<string, number>();
  /** Per group: the record annotation to write (JSON), until the cache shows it. */
  private readonly staged = new Map<string, string>();
  private readonly now: () => number;
  private lastProblems = '';
  /** A record is staged for this group: the controller reconciles it, and the reconciler writes it (recordFor). */
  private recordStaged: (key: string) => void = () => {};

  constructor(options: NotifierOptions) {
    this.o = options;
    this.backoff = new ExponentialBackoff(options.retryMs ?? 1_000, options.maxRetryMs ?? 300_000);
    this.now = options.now ?? Date.now;
  }

  onRecordStaged(listener: (key: string) => void): void {
    this.recordStaged = listener;
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Runs until the signal aborts; the requests in flight finish (each is bounded in time). */
  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (signal.aborted) this.queue.shutDown();
    await runWorkers(this.queue, (key) => this.process(key), { concurrency: 1, log: this.o.log, isReplan: isConflict });
  }

  /** One pass over a group; returns when to look again (a retry), if ever. */
  async process(key: string): Promise<{ requeueAfterMs?: number }> {
    const { log } = this.o;
    const cfg = this.o.config();
    if (cfg.problems) {
      const text = cfg.problems.join('; ');
      if (text !== this.lastProblems) log.error({ problems: cfg.problems }, 'notifications config refused; sending nothing until it is fixed');
      this.lastProblems = text;
      return {};
    }
    this.lastProblems = '';
    const config = cfg.config;
    const { namespace, name } = parseGroupKey(key);
    const raw = this.o.port.getGroup(namespace, name) as { metadata?: { resourceVersion?: string } } | undefined;
    const parsed = raw ? RolloutGroup.safeParse(raw) : undefined;
    if (!raw || !parsed?.success) {
      this.outbox.delete(key);
      this.delivered.delete(key);
      this.retryAt.delete(key);
      this.staged.delete(key);
      return {};
    }
    const group = parsed.data;
    const annotations = group.metadata.annotations;
    const record = readRecord(annotations);
    const found = milestones(group, record);
    // A group nobody subscribed to is never written to (not even its record).
    const subscribed = TRIGGERS.some((t) => destinationsFor(config, annotations, t).length > 0);
    if (!subscribed && !this.outbox.get(key)?.length) return {};

    const outbox = this.outbox.get(key) ?? [];
    const delivered = this.delivered.get(key) ?? new Set<string>();
    const recorded = (releaseKey: string, entry: string) => (record?.release === releaseKey && record.sent.includes(entry)) || delivered.has(`${releaseKey} ${entry}`);
    for (const m of found) {
      for (const d of destinationsFor(config, annotations, m.trigger)) {
        const entry = `${m.key}@${destinationKey(d)}`;
        if (recorded(m.releaseKey, entry) || outbox.some((p) => p.releaseKey === m.releaseKey && p.entry === entry)) continue;
        try {
          outbox.push({ releaseKey: m.releaseKey, entry, trigger: m.trigger, destination: destinationKey(d), requests: deliveriesFor(config, raw, m, d) });
        } catch (err) {
          // A template that renders to something unusable never will: said once, not retried.
          log.error({ group: key, trigger: m.trigger, destination: destinationKey(d), err }, 'notification not rendered');
          delivered.add(`${m.releaseKey} ${entry}`);
        }
      }
    }
    this.outbox.set(key, outbox);
    this.delivered.set(key, delivered);

    // A receiver that refused is left alone until its backoff passes, however often the group changes.
    const wait = (this.retryAt.get(key) ?? 0) - this.now();
    if (wait > 0 && outbox.length > 0) return { requeueAfterMs: wait };
    // Oldest first; the first failure stops the pass so subscribers never hear of a later milestone first.
    let failed: unknown;
    while (outbox.length > 0) {
      const p = outbox[0]!;
      try {
        for (const r of p.requests) await this.o.send(r);
      } catch (err) {
        failed = err;
        log.warn({ group: key, release: p.releaseKey, trigger: p.trigger, destination: p.destination, err, retries: this.backoff.retries(key) }, 'notification not delivered; retrying');
        break;
      }
      outbox.shift();
      delivered.add(`${p.releaseKey} ${p.entry}`);
      log.info({ group: key, release: p.releaseKey, trigger: p.trigger, destination: p.destination }, 'notification sent');
    }

    this.stageRecord(key, record, group.status?.release ? found[0]?.releaseKey : record?.release, delivered);
    if (failed !== undefined) {
      const delay = this.backoff.next(key);
      this.retryAt.set(key, this.now() + delay);
      return { requeueAfterMs: delay };
    }
    this.backoff.forget(key);
    this.retryAt.delete(key);
    return {};
  }

  /**
   * The record names the release in flight (so its completion, which leaves the status without an
   * id, is named later) and what of it was delivered. It is not written here: the reconciler writes
   * it in the group's own turn (recordFor), so it never races a reconcile's guarded writes.
   */
  private stageRecord(key: string, record: NotifiedRecord | undefined, release: string | undefined, delivered: Set<string>): void {
    if (!release) return;
    const sent = new Set(record?.release === release ? record.sent : []);
    for (const d of delivered) {
      const [r, entry] = d.split(' ') as [string, string];
      if (r === release) sent.add(entry);
    }
    const next = JSON.stringify({ release, sent: [...sent].sort() } satisfies NotifiedRecord);
    if (record && next === JSON.stringify({ release: record.release, sent: [...record.sent].sort() })) return;
    if (this.staged.get(key) === next) return;
    this.staged.set(key, next);
    this.recordStaged(key);
  }

  /** The record annotation the reconciler should write for this group now, if any (none once the cache shows it). */
  recordFor(key: string, annotations: Readonly<Record<string, string>>): Record<string, string> | undefined {
    const next = this.staged.get(key);
    if (next === undefined) return undefined;
    if (annotations[NOTIFIED_ANNOTATION] === next) {
      this.staged.delete(key);
      return undefined;
    }
    return { [NOTIFIED_ANNOTATION]: next };
  }
}
