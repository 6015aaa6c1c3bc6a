// Keeps the pod's annotations and labels from a Downward API volume current, and says when they change.
import { watch, type FSWatcher } from 'node:fs';
import { readSnapshot, type PodInfoSnapshot, type SnapshotFiles, type SnapshotResult } from './atomic-snapshot.ts';

export interface WatchPodInfoOptions {
  /** File names in the volume; `null` for an item that is not mounted (it reads as empty). Default `annotations` and `labels`. */
  readonly files?: { readonly annotations?: string | null; readonly labels?: string | null };
  /** Poll interval whenever polling is in use: forced by `usePolling`, or because fs.watch failed. Default 1000. */
  readonly pollIntervalMs?: number;
  /** Poll instead of using fs.watch. Default false. */
  readonly usePolling?: boolean;
  /** A slow poll kept even while fs.watch works, in case an event is ever lost. Default 10000; 0 turns it off. */
  readonly safetyPollIntervalMs?: number;
  /** How long to gather file system events before reading, so that one swap costs one read. Default 20. */
  readonly debounceMs?: number;
  /** Whether the watcher keeps the process alive, as with fs.watch. Default true. */
  readonly persistent?: boolean;
  /** Closes the watcher when aborted. */
  readonly signal?: AbortSignal;
}

export interface PodInfoChange extends PodInfoSnapshot {
  /** The state before this change. */
  readonly previous: PodInfoSnapshot;
  /** Keys added, removed or given a new value, sorted. */
  readonly changed: { readonly annotations: readonly string[]; readonly labels: readonly string[] };
}

export interface PodInfoEvents {
  change: (change: PodInfoChange) => void;
  error: (error: Error) => void;
}

/** How changes are noticed: fs.watch (plus a slow safety poll), polling, or not at all any more. */
export type WatchMode = 'watch' | 'poll' | 'closed';

export interface PodInfo {
  /** Resolves once the first read is done; rejects (and closes) if that read fails. */
  readonly ready: Promise<PodInfo>;
  readonly mode: WatchMode;
  /** Current annotations; empty before `ready`. Unchanged maps keep their identity across changes. */
  annotations(): ReadonlyMap<string, string>;
  labels(): ReadonlyMap<string, string>;
  annotation(key: string): string | undefined;
  /**
   * A dependency's address: Tandem's pin for this pod's revision (`pin.<key>`, set while a release
   * cuts over) first, else the annotation itself.
   */
  address(key: string): string | undefined;
  label(key: string): string | undefined;
  /** Annotations and labels from the same volume state. */
  snapshot(): PodInfoSnapshot;
  /** Subscribes; returns a function that unsubscribes. `change` fires only when a value actually changed. */
  on<E extends keyof PodInfoEvents>(event: E, listener: PodInfoEvents[E]): () => void;
  off<E extends keyof PodInfoEvents>(event: E, listener: PodInfoEvents[E]): void;
  /** Stops watching, timers and events. Idempotent. */
  close(): void;
  [Symbol.dispose](): void;
}

const EMPTY_SNAPSHOT: PodInfoSnapshot = { annotations: new Map(), labels: new Map() };

function changedKeys(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => before.get(key) !== after.get(key) || before.has(key) !== after.has(key)).sort();
}

function milliseconds(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) throw new RangeError(`podinfo: ${name} must be a number >= ${min}, got ${value}`);
  return value;
}

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

class PodInfoWatcher implements PodInfo {
  readonly ready: Promise<PodInfo>;
  readonly #dir: string;
  readonly #files: SnapshotFiles;
  readonly #pollIntervalMs: number;
  readonly #safetyPollIntervalMs: number;
  readonly #debounceMs: number;
  readonly #persistent: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #listeners = { change: new Set<PodInfoEvents['change']>(), error: new Set<PodInfoEvents['error']>() };
  #snapshot = EMPTY_SNAPSHOT;
  #mode: WatchMode = 'poll';
  #settleReady: ((error?: Error) => void) | undefined;
  #watcher: FSWatcher | undefined;
  #interval: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #reading = false;
  #dirty = false;
  #lastWarning: string | undefined;

  constructor(dir: string, options: WatchPodInfoOptions) {
    this.#dir = dir;
    const { annotations = 'annotations', labels = 'labels' } = options.files ?? {};
    this.#files = { annotations, labels };
    this.#pollIntervalMs = milliseconds('pollIntervalMs', options.pollIntervalMs ?? 1000, 1);
    this.#safetyPollIntervalMs = milliseconds('safetyPollIntervalMs', options.safetyPollIntervalMs ?? 10_000, 0);
    this.#debounceMs = milliseconds('debounceMs', options.debounceMs ?? 20, 0);
    this.#persistent = options.persistent ?? true;
    this.#signal = options.signal;

    this.ready = new Promise<PodInfo>((resolve, reject) => {
      this.#settleReady = (error) => (error === undefined ? resolve(this) : reject(error));
    });
    // Callers who never await `ready` must not get an unhandled rejection from it.
    this.ready.catch(() => {});

    if (this.#signal?.aborted) {
      this.close();
      return;
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    // Watch before the first read, so that nothing written during that read goes unnoticed.
    if (options.usePolling) this.#startPolling();
    else this.#startWatching();
    void this.#reload();
  }

  get mode(): WatchMode {
    return this.#mode;
  }

  annotations(): ReadonlyMap<string, string> {
    return this.#snapshot.annotations;
  }

  labels(): ReadonlyMap<string, string> {
    return this.#snapshot.labels;
  }

  annotation(key: string): string | undefined {
    return this.#snapshot.annotations.get(key);
  }

  address(key: string): string | undefined {
    return this.#snapshot.annotations.get(pinnedKey(key)) ?? this.#snapshot.annotations.get(key);
  }

  label(key: string): string | undefined {
    return this.#snapshot.labels.get(key);
  }

  snapshot(): PodInfoSnapshot {
    return this.#snapshot;
  }

  on<E extends keyof PodInfoEvents>(event: E, listener: PodInfoEvents[E]): () => void {
    (this.#listeners[event] as Set<PodInfoEvents[E]>).add(listener);
    return () => this.off(event, listener);
  }

  off<E extends keyof PodInfoEvents>(event: E, listener: PodInfoEvents[E]): void {
    (this.#listeners[event] as Set<PodInfoEvents[E]>).delete(listener);
  }

  close(): void {
    if (this.#mode === 'closed') return;
    this.#mode = 'closed';
    clearTimeout(this.#debounce);
    clearInterval(this.#interval);
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#settleReady?.(new Error(`podinfo: closed before the first read of ${this.#dir}`));
    this.#settleReady = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  readonly #onAbort = (): void => this.close();

  #timer<T extends NodeJS.Timeout>(timer: T): T {
    if (!this.#persistent) timer.unref();
    return timer;
  }

  #startWatching(): void {
    try {
      // The directory, never the files: a swap replaces `..data`, and the files only point through it.
      this.#watcher = watch(this.#dir, { persistent: this.#persistent }, () => this.#schedule());
      this.#watcher.on('error', (error) => this.#fallBackToPolling(error));
      this.#mode = 'watch';
      if (this.#safetyPollIntervalMs > 0) {
        this.#interval = this.#timer(setInterval(() => this.#schedule(), this.#safetyPollIntervalMs));
      }
    } catch (error) {
      this.#fallBackToPolling(error);
    }
  }

  #startPolling(): void {
    this.#mode = 'poll';
    this.#interval = this.#timer(setInterval(() => this.#schedule(), this.#pollIntervalMs));
  }

  #fallBackToPolling(cause: unknown): void {
    if (this.#mode === 'closed') return;
    this.#watcher?.close();
    this.#watcher = undefined;
    clearInterval(this.#interval);
    this.#startPolling();
    this.#schedule();
    // Reported once ready: listeners attached right after watchPodInfo() returns still hear of it,
    // and a directory that cannot be read at all is reported by `ready` alone.
    const error = new Error(`podinfo: cannot watch ${this.#dir}; polling every ${this.#pollIntervalMs} ms`, { cause });
    this.ready.then(
      () => this.#report(error),
      () => {},
    );
  }

  // Events within one window share a read; the window does not restart on each event, so a
  // stream of swaps cannot postpone reading forever.
  #schedule(): void {
    if (this.#mode === 'closed') return;
    if (this.#reading) {
      this.#dirty = true;
      return;
    }
    if (this.#debounce !== undefined) return;
    this.#debounce = this.#timer(
      setTimeout(() => {
        this.#debounce = undefined;
        void this.#reload();
      }, this.#debounceMs),
    );
  }

  // One read at a time, each starting after the previous one ended: since `..data` only moves
  // forward, the states exposed follow the order in which they were written.
  async #reload(): Promise<void> {
    this.#reading = true;
    this.#dirty = false;
    const result: SnapshotResult = await readSnapshot(this.#dir, this.#files).catch((error: unknown) => ({
      ok: false as const,
      error: toError(error),
    }));
    this.#reading = false;
    if (this.#mode === 'closed') return;
    if (result.ok) this.#apply(result.snapshot);
    else if (this.#settleReady !== undefined) {
      const settle = this.#settleReady;
      this.#settleReady = undefined;
      settle(result.error);
      this.close();
      return;
    } else this.#report(result.error);
    if (this.#dirty) this.#schedule();
  }

  #apply(next: PodInfoSnapshot): void {
    if (this.#settleReady !== undefined) {
      this.#snapshot = next;
      this.#settleReady();
      this.#settleReady = undefined;
      return;
    }
    const previous = this.#snapshot;
    const changed = {
      annotations: changedKeys(previous.annotations, next.annotations),
      labels: changedKeys(previous.labels, next.labels),
    };
    if (changed.annotations.length === 0 && changed.labels.length === 0) return;
    this.#snapshot = {
      annotations: changed.annotations.length > 0 ? next.annotations : previous.annotations,
      labels: changed.labels.length > 0 ? next.labels : previous.labels,
    };
    this.#lastWarning = undefined;
    this.#emit('change', { ...this.#snapshot, previous, changed });
  }

  #report(error: Error): void {
    if (this.#mode === 'closed') return;
    if (this.#listeners.error.size > 0) {
      this.#emit('error', error);
    } else if (error.message !== this.#lastWarning) {
      // Nobody listens: say it once on stderr rather than fail silently or crash.
      this.#lastWarning = error.message;
      process.emitWarning(error);
    }
  }

  #emit<E extends keyof PodInfoEvents>(event: E, ...args: Parameters<PodInfoEvents[E]>): void {
    for (const listener of [...this.#listeners[event]]) {
      if (this.#mode === 'closed') return;
      try {
        (listener as (...a: Parameters<PodInfoEvents[E]>) => void)(...args);
      } catch (error) {
        // Like an EventEmitter listener that throws, but without skipping the other listeners.
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }
}

/**
 * Watches a Downward API volume (default files `annotations` and `labels`) and keeps the values
 * current. Also accepts a plain directory with the files written directly, for local development.
 *
 * @example
 * const pod = await watchPodInfo('/etc/podinfo').ready;
 * pod.on('change', ({ changed }) => { if (changed.annotations.includes('tandem.dev/interest-url')) reconnect(); });
 */
export function watchPodInfo(dir: string, options: WatchPodInfoOptions = {}): PodInfo {
  return new PodInfoWatcher(dir, options);
}

/**
 * The annotation Tandem pins a dependency's address to for one revision during a cutover: `pin.`
 * before the key (`tandem.dev/interest-url` → `pin.tandem.dev/interest-url`). Argo Rollouts never
 * writes it, so the pods of a revision keep it while their role changes.
 */
export const pinnedKey = (key: string): string => `pin.${key}`;
