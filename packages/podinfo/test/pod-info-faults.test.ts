// Faults that a real volume rarely shows on demand: fs.watch failing, and a read finishing late.
import type { FSWatcher } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchPodInfo, type PodInfo, type PodInfoChange, type WatchPodInfoOptions } from '../src/pod-info.ts';
import { KubeletAtomicWriter } from './support/kubelet-atomic-writer.ts';
import { eventually, payloadFor, stateFor, tempDir } from './support/volume-states.ts';

const faults = vi.hoisted(() => ({
  watchThrows: false,
  watchers: [] as FSWatcher[],
  /** The next read of a file matching this is held back after its content was read. */
  slowRead: undefined as { path: RegExp; ms: number } | undefined,
}));

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const watch = (...args: unknown[]): FSWatcher => {
    if (faults.watchThrows) {
      throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
    }
    const watcher = (actual.watch as (...a: unknown[]) => FSWatcher)(...args);
    faults.watchers.push(watcher);
    return watcher;
  };
  return { ...actual, watch };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = async (...args: Parameters<typeof actual.readFile>) => {
    const content = await actual.readFile(...args);
    const slow = faults.slowRead;
    if (slow?.path.test(String(args[0]))) {
      faults.slowRead = undefined;
      await delay(slow.ms);
    }
    return content;
  };
  return { ...actual, readFile };
});

let volume: { path: string; remove: () => Promise<void> };
let writer: KubeletAtomicWriter;
const opened: PodInfo[] = [];
const watch = (options?: WatchPodInfoOptions): PodInfo => {
  const info = watchPodInfo(volume.path, options);
  opened.push(info);
  return info;
};
const write = (gen: number) => writer.write(payloadFor(stateFor(gen)));

beforeEach(async () => {
  volume = await tempDir('podinfo-faults-');
  writer = new KubeletAtomicWriter(volume.path);
  faults.watchThrows = false;
  faults.watchers = [];
  faults.slowRead = undefined;
});
afterEach(async () => {
  for (const info of opened.splice(0)) info.close();
  vi.restoreAllMocks();
  await volume.remove();
});

describe('when fs.watch fails', () => {
  it('polls instead when fs.watch throws, and says so', async () => {
    faults.watchThrows = true;
    await write(1);
    const info = watch({ pollIntervalMs: 10 });
    const errors: Error[] = [];
    info.on('error', (error) => errors.push(error));
    await info.ready;
    expect(info.mode).toBe('poll');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/cannot watch .*; polling every 10 ms/);
    expect(errors[0]?.cause).toMatchObject({ code: 'ENOSPC' });
    for (let gen = 2; gen <= 10; gen++) await write(gen);
    await eventually(() => info.annotation('gen') === '10');
    expect(info.snapshot()).toEqual(stateFor(10));
  });

  it('closes a watcher that reports an error and polls from then on', async () => {
    await write(1);
    const info = await watch({ pollIntervalMs: 10 }).ready;
    const errors: Error[] = [];
    info.on('error', (error) => errors.push(error));
    expect(info.mode).toBe('watch');
    const [watcher] = faults.watchers;
    if (watcher === undefined) throw new Error('fs.watch was not called');
    const close = vi.spyOn(watcher, 'close');
    watcher.emit('error', Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' }));
    expect(info.mode).toBe('poll');
    expect(close).toHaveBeenCalled();
    await eventually(() => errors.length > 0);
    expect(errors[0]?.cause).toMatchObject({ code: 'EMFILE' });
    await write(2);
    await eventually(() => info.annotation('gen') === '2');
  });

  it('reports nothing but the failed first read when the directory does not exist', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const info = watchPodInfo(`${volume.path}/missing`);
    const errors: Error[] = [];
    info.on('error', (error) => errors.push(error));
    await expect(info.ready).rejects.toMatchObject({ code: 'ENOENT' });
    await delay(20);
    expect(info.mode).toBe('closed');
    expect(errors).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('warns once on stderr when nobody listens for errors', async () => {
    faults.watchThrows = true;
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    await write(1);
    await watch({ pollIntervalMs: 10 }).ready;
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/cannot watch/);
  });
});

describe('a read that finishes late', () => {
  it('is never overtaken by a later read, so states still arrive in write order', async () => {
    await write(1);
    const info = watch({ debounceMs: 1 });
    const gens: number[] = [];
    info.on('change', (change: PodInfoChange) => gens.push(Number(change.annotations.get('gen'))));
    await info.ready;
    // The writer compares annotations first, which differ, so only the watcher reads `labels`.
    faults.slowRead = { path: /labels$/, ms: 150 };
    await write(2);
    await delay(20);
    await write(3);
    await delay(20);
    await write(4);
    await eventually(() => info.annotation('gen') === '4');
    await delay(250);
    expect(gens.every((gen, i) => i === 0 || gens[i - 1]! < gen)).toBe(true);
    expect(gens.at(-1)).toBe(4);
    expect(info.annotation('gen')).toBe('4');
  });
});
