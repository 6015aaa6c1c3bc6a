// The simulation must look like a real Downward API volume, or the watcher tests prove nothing.
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeletAtomicWriter, type WriteStep } from './support/kubelet-atomic-writer.ts';

const TIMESTAMPED = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/;

let dir: string;
let writer: KubeletAtomicWriter;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podinfo-writer-'));
  writer = new KubeletAtomicWriter(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const entries = async () => (await readdir(dir)).sort();
const timestamped = async () => (await entries()).filter((name) => TIMESTAMPED.test(name));

describe('KubeletAtomicWriter', () => {
  it('lays out a volume like the kubelet', async () => {
    expect(await writer.write({ annotations: 'a="1"', labels: 'l="1"' })).toBe(true);
    const [tsDir] = await timestamped();
    expect(tsDir).toBeDefined();
    expect(await entries()).toEqual(['..data', tsDir, 'annotations', 'labels'].sort());
    expect(await readlink(join(dir, '..data'))).toBe(tsDir);
    expect(await readlink(join(dir, 'annotations'))).toBe('..data/annotations');
    expect(await readlink(join(dir, 'labels'))).toBe('..data/labels');
    expect(await readFile(join(dir, 'annotations'), 'utf8')).toBe('a="1"');
    expect((await lstat(join(dir, tsDir ?? ''))).mode & 0o777).toBe(0o755);
    expect((await lstat(join(dir, tsDir ?? '', 'labels'))).mode & 0o777).toBe(0o644);
  });

  it('swaps ..data to a new directory, keeps the visible links and removes the old directory', async () => {
    await writer.write({ annotations: 'a="1"', labels: 'l="1"' });
    const [first] = await timestamped();
    const link = await lstat(join(dir, 'annotations'));
    await writer.write({ annotations: 'a="2"', labels: 'l="1"' });
    const [second] = await timestamped();
    expect(second).not.toBe(first);
    expect(await readlink(join(dir, '..data'))).toBe(second);
    expect(await entries()).toEqual(['..data', second, 'annotations', 'labels'].sort());
    expect((await lstat(join(dir, 'annotations'))).ino).toBe(link.ino); // created once, never replaced
    expect(await readFile(join(dir, 'annotations'), 'utf8')).toBe('a="2"');
  });

  it('goes through the kubelet steps in order, publishing only at the rename', async () => {
    await writer.write({ annotations: 'a="1"' });
    const [old] = await timestamped();
    const seen: { step: WriteStep; data: string; tmp: boolean; dirs: number }[] = [];
    await writer.write(
      { annotations: 'a="2"' },
      {
        afterStep: async (step) => {
          const names = await entries();
          seen.push({
            step,
            data: await readlink(join(dir, '..data')),
            tmp: names.includes('..data_tmp'),
            dirs: names.filter((name) => TIMESTAMPED.test(name)).length,
          });
        },
      },
    );
    const [current] = await timestamped();
    expect(seen).toEqual([
      { step: 'payload-written', data: old, tmp: false, dirs: 2 },
      { step: 'data-tmp-linked', data: old, tmp: true, dirs: 2 },
      { step: 'data-swapped', data: current, tmp: false, dirs: 2 },
      { step: 'visible-linked', data: current, tmp: false, dirs: 2 },
      { step: 'old-removed', data: current, tmp: false, dirs: 1 },
    ]);
  });

  it('skips a write that changes nothing, unless forced', async () => {
    await writer.write({ annotations: 'a="1"' });
    const [first] = await timestamped();
    expect(await writer.write({ annotations: 'a="1"' })).toBe(false);
    expect(await timestamped()).toEqual([first]);
    expect(await writer.write({ annotations: 'a="1"' }, { force: true })).toBe(true);
    expect(await timestamped()).not.toEqual([first]);
  });

  it('removes the visible link of a file that left the payload', async () => {
    await writer.write({ annotations: 'a="1"', labels: 'l="1"' });
    await writer.write({ annotations: 'a="1"' });
    expect((await entries()).filter((name) => !name.startsWith('..'))).toEqual(['annotations']);
  });
});
