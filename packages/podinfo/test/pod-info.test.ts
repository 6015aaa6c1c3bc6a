import { spawn } from 'node:child_process';
import { readlink, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setImmediate as yieldToLoop, setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatDownwardApi } from '../src/downward-api-format.ts';
import { pinnedKey, watchPodInfo, type PodInfo, type PodInfoChange, type WatchPodInfoOptions } from '../src/pod-info.ts';
import { KubeletAtomicWriter } from './support/kubelet-atomic-writer.ts';
import {
  eventually,
  fsWatchHandles,
  payloadFor,
  sameMap,
  stateFor,
  tempDir,
  type VolumeState,
} from './support/volume-states.ts';

let volume: { path: string; remove: () => Promise<void> };
let writer: KubeletAtomicWriter;
const opened: PodInfo[] = [];
const watch = (options?: WatchPodInfoOptions): PodInfo => {
  const info = watchPodInfo(volume.path, options);
  opened.push(info);
  return info;
};
const write = (gen: number, options?: { force?: boolean }) => writer.write(payloadFor(stateFor(gen)), options);

beforeEach(async () => {
  volume = await tempDir('podinfo-watch-');
  writer = new KubeletAtomicWriter(volume.path);
});
afterEach(async () => {
  for (const info of opened.splice(0)) info.close();
  await volume.remove();
});

describe.each([
  { mode: 'watch', pace: 'paced', options: { debounceMs: 2 } },
  { mode: 'watch', pace: 'back to back', options: { debounceMs: 2 } },
  { mode: 'poll', pace: 'paced', options: { usePolling: true, pollIntervalMs: 5, debounceMs: 0 } },
] as const)('under 300 rapid kubelet swaps ($mode, $pace)', ({ mode, pace, options }) => {
  const GENERATIONS = 300;

  it('exposes only states that were written, in write order, and ends at the last one', async () => {
    const written = new Map<number, VolumeState>();
    const record = (gen: number) => written.set(gen, stateFor(gen));
    record(0);
    await write(0);

    const violations: string[] = [];
    const timeline: number[] = []; // every state exposed, through any channel, in the order seen
    const check = (source: string, { annotations, labels }: VolumeState): number => {
      const gen = Number(annotations.get('gen'));
      timeline.push(gen);
      const expected = written.get(gen);
      if (labels.get('gen') !== annotations.get('gen')) {
        violations.push(`${source}: torn state, annotations gen ${annotations.get('gen')}, labels gen ${labels.get('gen')}`);
      } else if (!expected || !sameMap(expected.annotations, annotations) || !sameMap(expected.labels, labels)) {
        violations.push(`${source}: gen ${gen} is not a state that was written`);
      }
      return gen;
    };

    const info = watch(options);
    const errors: Error[] = [];
    info.on('error', (error) => errors.push(error));
    const events: PodInfoChange[] = [];
    info.on('change', (change) => {
      events.push(change);
      check('event', change);
    });
    await info.ready;
    expect(info.mode).toBe(mode);
    const readyState = info.snapshot();
    const gettersSeen: number[] = [check('ready', readyState)];

    // Reads the getters the way an app would, while the kubelet keeps swapping.
    let writing = true;
    const sampler = (async () => {
      while (writing) {
        gettersSeen.push(check('getters', { annotations: info.annotations(), labels: info.labels() }));
        gettersSeen.push(check('snapshot', info.snapshot()));
        if (info.annotation('gen') !== info.label('gen')) violations.push('typed getters disagree');
        await yieldToLoop();
      }
    })();

    for (let gen = 1; gen <= GENERATIONS; gen++) {
      record(gen); // before the write: the watcher may see it as soon as ..data moves
      expect(await write(gen)).toBe(true);
      if (pace === 'paced') await delay(gen % 3); // 0-2 ms between swaps
    }
    await eventually(() => info.annotation('gen') === String(GENERATIONS), 10_000, 'the last state');
    await delay(100); // room for a stray late event
    writing = false;
    await sampler;

    expect(violations).toEqual([]);
    expect(errors).toEqual([]);
    const eventGens = events.map((event) => Number(event.annotations.get('gen')));
    const increasing = (gens: number[], strictly: boolean) =>
      gens.every((gen, i) => i === 0 || (strictly ? gens[i - 1]! < gen : gens[i - 1]! <= gen));
    expect(increasing(timeline, false)).toBe(true);
    expect(increasing(gettersSeen, false)).toBe(true);
    expect(increasing(eventGens, true)).toBe(true); // every event is a real change
    expect(eventGens.at(-1)).toBe(GENERATIONS);
    expect(info.snapshot()).toEqual(stateFor(GENERATIONS));
    // Each event continues from the previous one, and names exactly the keys that differ.
    let previous: VolumeState = readyState;
    for (const event of events) {
      expect(event.previous.annotations).toBe(previous.annotations);
      expect(event.previous.labels).toBe(previous.labels);
      for (const kind of ['annotations', 'labels'] as const) {
        const keys = new Set([...event.previous[kind].keys(), ...event[kind].keys()]);
        const differing = [...keys].filter((key) => event.previous[kind].get(key) !== event[kind].get(key)).sort();
        expect(event.changed[kind]).toEqual(differing);
      }
      previous = { annotations: event.annotations, labels: event.labels };
    }
    // Not vacuous: the watcher saw the volume move many times along the way.
    expect(new Set(eventGens).size).toBeGreaterThan(10);
    expect(new Set(gettersSeen).size).toBeGreaterThan(10);
  });
});

describe('watchPodInfo', () => {
  it('is ready with the current values', async () => {
    await write(1);
    const info = await watch().ready;
    expect(info.mode).toBe('watch');
    expect(info.annotation('gen')).toBe('1');
    expect(info.label('app')).toBe('loan');
    expect(info.annotation('missing')).toBeUndefined();
    expect(info.snapshot()).toEqual(stateFor(1));
  });

  it('reads an address from its pin first (pin.<key>, set by Tandem during a cutover), else from the key', async () => {
    await write(1);
    const info = await watch().ready;
    expect(info.address('tandem.dev/interest-url')).toBe('http://interest-1.loans.svc:8080');
    const pinned = new Map([...stateFor(1).annotations, [pinnedKey('tandem.dev/interest-url'), 'http://interest-preview.loans.svc:8080']]);
    await writer.write(payloadFor({ annotations: pinned, labels: stateFor(1).labels }));
    await eventually(() => info.address('tandem.dev/interest-url') === 'http://interest-preview.loans.svc:8080', 10_000, 'the pin');
    expect(info.annotation('tandem.dev/interest-url')).toBe('http://interest-1.loans.svc:8080');
    await write(2); // the pin removed: back to the key
    await eventually(() => info.address('tandem.dev/interest-url') === 'http://interest-2.loans.svc:8080', 10_000, 'the key again');
  });

  it('fires no event for a swap that changes nothing it reads', async () => {
    await write(1);
    const info = watch({ debounceMs: 5 });
    const events: PodInfoChange[] = [];
    info.on('change', (change) => events.push(change));
    await info.ready;
    const before = info.snapshot();
    const link = await readlink(join(volume.path, '..data'));
    for (let i = 0; i < 5; i++) {
      await write(1, { force: true }); // same content, new directory
      await delay(20);
    }
    // A real kubelet swap where only an item this watcher does not read changed.
    await writer.write({ ...payloadFor(stateFor(1)), podname: 'loan-7f9c' });
    await delay(100);
    expect(await readlink(join(volume.path, '..data'))).not.toBe(link);
    expect(events).toEqual([]);
    expect(info.snapshot()).toBe(before);

    // Still watching: the next real change is the first event, and it starts from the same state.
    await write(2);
    await eventually(() => events.length > 0);
    await delay(50);
    expect(events).toHaveLength(1);
    expect(events[0]?.previous).toBe(before);
    expect(events[0]?.changed).toEqual({
      annotations: ['gen', 'tandem.dev/interest-url', 'tandem.dev/note'],
      labels: ['gen', 'rollouts-pod-template-hash'],
    });
  });

  it('keeps the identity of a map that did not change', async () => {
    await writer.write({ annotations: 'a="1"', labels: 'l="1"' });
    const info = await watch({ debounceMs: 1 }).ready;
    const annotations = info.annotations();
    await writer.write({ annotations: 'a="1"', labels: 'l="2"' });
    await eventually(() => info.label('l') === '2');
    expect(info.annotations()).toBe(annotations);
  });

  it('converges by polling, and stops events once closed', async () => {
    await write(1);
    const info = watch({ usePolling: true, pollIntervalMs: 20 });
    const events: PodInfoChange[] = [];
    info.on('change', (change) => events.push(change));
    await info.ready;
    expect(info.mode).toBe('poll');
    for (let gen = 2; gen <= 20; gen++) await write(gen);
    await eventually(() => info.annotation('gen') === '20');
    expect(events.at(-1)?.annotations.get('gen')).toBe('20');

    info.close();
    info.close(); // idempotent
    expect(info.mode).toBe('closed');
    const count = events.length;
    await write(21);
    await delay(150);
    expect(events).toHaveLength(count);
    expect(info.annotation('gen')).toBe('20'); // the last state stays readable
  });

  it('close() releases the directory watcher', async () => {
    await write(1);
    const before = fsWatchHandles();
    const info = await watch().ready;
    expect(info.mode).toBe('watch');
    expect(fsWatchHandles()).toBe(before + 1);
    info.close();
    await delay(1); // libuv releases a closed fs.watch handle in the close phase of the loop
    expect(fsWatchHandles()).toBe(before);
  });

  // The test runner keeps timers of its own, so whether a process can exit is checked in a process
  // of its own: the child watches, sees a change, closes (or not) and must then exit by itself.
  describe.each([
    { scenario: 'close-watch', exits: true },
    { scenario: 'close-poll', exits: true },
    { scenario: 'not-persistent', exits: true },
    { scenario: 'forget', exits: false }, // the control: an open watcher keeps the process alive
  ])('a process that watches ($scenario)', ({ scenario, exits }) => {
    it(exits ? 'exits by itself' : 'stays alive', async () => {
      await write(1);
      const child = fileURLToPath(new URL('./support/watch-in-child.ts', import.meta.url));
      const proc = spawn(process.execPath, [child, volume.path, scenario], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
      try {
        if (exits) {
          expect(await exited).toEqual({ code: 0, signal: null });
          expect(stdout).toBe('changed to 2\n');
          expect(stderr).toBe('');
          return;
        }
        // The control: after its change the child stays up, and a later change still reaches it,
        // so the open watcher is what holds the process (no timeout decides this).
        await eventually(() => stdout === 'changed to 2\n', 10_000);
        await write(3);
        await eventually(() => stdout.startsWith('changed to 2\n') && stdout.includes('still watching: 3\n'), 10_000);
        expect(proc.exitCode).toBeNull();
      } finally {
        proc.kill();
        await exited;
      }
    }, 20_000);
  });

  it('stops delivering to a listener once unsubscribed', async () => {
    await write(1);
    const info = await watch({ debounceMs: 1 }).ready;
    const seen: string[] = [];
    const off = info.on('change', (change) => seen.push(change.annotations.get('gen') ?? ''));
    await write(2);
    await eventually(() => seen.length === 1);
    off();
    await write(3);
    await eventually(() => info.annotation('gen') === '3');
    expect(seen).toEqual(['2']);
  });

  it('closes when its signal aborts', async () => {
    await write(1);
    const controller = new AbortController();
    const info = await watch({ signal: controller.signal }).ready;
    controller.abort();
    expect(info.mode).toBe('closed');
  });

  it('rejects ready and closes when the first read fails', async () => {
    const info = watch({ usePolling: true });
    await expect(info.ready).rejects.toMatchObject({ code: 'ENOENT' });
    expect(info.mode).toBe('closed');
  });

  it('refuses nonsensical intervals', () => {
    expect(() => watchPodInfo(volume.path, { pollIntervalMs: 0 })).toThrow(RangeError);
    expect(() => watchPodInfo(volume.path, { debounceMs: -1 })).toThrow(RangeError);
    expect(() => watchPodInfo(volume.path, { safetyPollIntervalMs: Number.NaN })).toThrow(RangeError);
  });

  it('rejects ready when closed before the first read', async () => {
    await write(1);
    const info = watch();
    info.close();
    await expect(info.ready).rejects.toThrow(/closed before the first read/);
  });

  it('keeps the last good state and reports an error when a file turns malformed', async () => {
    await write(1);
    const info = watch({ debounceMs: 1 });
    const errors: Error[] = [];
    info.on('error', (error) => errors.push(error));
    await info.ready;
    await writer.write({ annotations: 'gen=2', labels: 'gen="2"' });
    await eventually(() => errors.length > 0);
    expect(errors[0]?.message).toMatch(/annotations: line 1, column 5: expected a double-quoted string/);
    expect(info.snapshot()).toEqual(stateFor(1));
    await write(3);
    await eventually(() => info.annotation('gen') === '3');
  });

  it('reads a volume where only annotations are mounted', async () => {
    await writer.write({ annotations: payloadFor(stateFor(1)).annotations ?? '' });
    const info = await watch({ files: { labels: null } }).ready;
    expect(info.annotation('gen')).toBe('1');
    expect(info.labels().size).toBe(0);
  });

  it('watches a plain directory written directly, for local development', async () => {
    // Written as editors do: a temporary file renamed over the old one.
    const put = async (name: string, values: Record<string, string>) => {
      await writeFile(join(volume.path, `.${name}.tmp`), formatDownwardApi(values));
      await rename(join(volume.path, `.${name}.tmp`), join(volume.path, name));
    };
    await put('annotations', { 'tandem.dev/interest-url': 'http://localhost:8081' });
    await put('labels', { app: 'loan' });
    const info = watch({ debounceMs: 1 });
    const events: PodInfoChange[] = [];
    info.on('change', (change) => events.push(change));
    await info.ready;
    expect(info.annotation('tandem.dev/interest-url')).toBe('http://localhost:8081');
    await put('annotations', { 'tandem.dev/interest-url': 'http://localhost:9091' });
    await eventually(() => info.annotation('tandem.dev/interest-url') === 'http://localhost:9091');
    expect(events.at(-1)?.changed).toEqual({ annotations: ['tandem.dev/interest-url'], labels: [] });
  });
});
