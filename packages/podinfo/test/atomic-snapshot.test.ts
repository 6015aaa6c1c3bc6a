import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readSnapshot, type SnapshotFiles, type SnapshotResult } from '../src/atomic-snapshot.ts';
import { DownwardApiParseError, formatDownwardApi } from '../src/downward-api-format.ts';
import { KubeletAtomicWriter, type WriteStep } from './support/kubelet-atomic-writer.ts';

// Lets a test run a kubelet write at the worst moment inside readSnapshot.
const hooks = vi.hoisted(() => ({
  afterRealpath: undefined as (() => Promise<void>) | undefined,
  beforeReadFile: undefined as ((path: string) => Promise<void>) | undefined,
  realpathCalls: 0,
}));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    realpath: async (path: string) => {
      hooks.realpathCalls++;
      const resolved = await actual.realpath(path);
      const hook = hooks.afterRealpath;
      hooks.afterRealpath = undefined;
      await hook?.();
      return resolved;
    },
    readFile: async (...args: Parameters<typeof actual.readFile>) => {
      await hooks.beforeReadFile?.(String(args[0]));
      return actual.readFile(...args);
    },
  };
});

const FILES: SnapshotFiles = { annotations: 'annotations', labels: 'labels' };
const state = (gen: number) => ({
  annotations: new Map([['gen', String(gen)], ['tandem.dev/url', `http://svc-${gen}`]]),
  labels: new Map([['gen', String(gen)]]),
});
const payload = (gen: number) => ({
  annotations: formatDownwardApi(state(gen).annotations),
  labels: formatDownwardApi(state(gen).labels),
});
const snapshotOf = (result: SnapshotResult) => {
  if (!result.ok) throw result.error;
  return result.snapshot;
};

let dir: string;
let writer: KubeletAtomicWriter;
beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'podinfo-snapshot-'));
  writer = new KubeletAtomicWriter(dir);
  hooks.afterRealpath = undefined;
  hooks.beforeReadFile = undefined;
  hooks.realpathCalls = 0;
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

describe('readSnapshot', () => {
  it('reads both files from the directory ..data points to', async () => {
    await writer.write(payload(1));
    const result = await readSnapshot(dir, FILES);
    expect(result).toEqual({ ok: true, snapshot: state(1), source: await fs.realpath(join(dir, '..data')) });
  });

  it('reads a plain directory without ..data', async () => {
    await fs.writeFile(join(dir, 'annotations'), 'a="1"\n');
    await fs.writeFile(join(dir, 'labels'), '');
    expect(await readSnapshot(dir, FILES)).toEqual({
      ok: true,
      snapshot: { annotations: new Map([['a', '1']]), labels: new Map() },
      source: dir,
    });
  });

  it('reads an item that is not mounted as empty', async () => {
    await writer.write({ annotations: payload(1).annotations });
    expect(snapshotOf(await readSnapshot(dir, { annotations: 'annotations', labels: null }))).toEqual({
      annotations: state(1).annotations,
      labels: new Map(),
    });
  });

  it('returns an error for a file that is really missing, without retrying forever', async () => {
    await writer.write({ annotations: payload(1).annotations });
    const result = await readSnapshot(dir, FILES);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'ENOENT' });
    expect(hooks.realpathCalls).toBe(2); // one read, one check that ..data had not moved
  });

  it('returns an error naming the file for malformed content', async () => {
    await writer.write({ annotations: 'a="1"\nb=oops', labels: '' });
    const result = await readSnapshot(dir, FILES);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toMatch(/annotations: line 2, column 3: expected a double-quoted string$/);
    expect(result.error.cause).toBeInstanceOf(DownwardApiParseError);
  });

  it('returns an error for a missing directory', async () => {
    const result = await readSnapshot(join(dir, 'nope'), FILES);
    expect(result).toMatchObject({ ok: false, error: { code: 'ENOENT' } });
  });

  it('sees the old state before the rename and the new one from the rename on, at every step of a write', async () => {
    await writer.write(payload(1));
    const seen: [WriteStep, string | undefined, string | undefined][] = [];
    await writer.write(payload(2), {
      afterStep: async (step) => {
        const { annotations, labels } = snapshotOf(await readSnapshot(dir, FILES));
        seen.push([step, annotations.get('gen'), labels.get('gen')]);
      },
    });
    expect(seen).toEqual([
      ['payload-written', '1', '1'],
      ['data-tmp-linked', '1', '1'],
      ['data-swapped', '2', '2'],
      ['visible-linked', '2', '2'],
      ['old-removed', '2', '2'],
    ]);
  });

  it('starts again when the resolved directory is swapped out and removed before the files are read', async () => {
    await writer.write(payload(1));
    hooks.afterRealpath = async () => {
      await writer.write(payload(2)); // removes the directory just resolved
    };
    expect(snapshotOf(await readSnapshot(dir, FILES))).toEqual(state(2));
    expect(hooks.realpathCalls).toBeGreaterThanOrEqual(3); // resolve, check, resolve again
  });

  it('never pairs annotations of one write with labels of the next', async () => {
    await writer.write(payload(1));
    // Swap between the two file reads: labels of state 1 are gone by the time they are read.
    hooks.beforeReadFile = async (path) => {
      if (!path.endsWith('labels')) return;
      hooks.beforeReadFile = undefined;
      await writer.write(payload(2));
    };
    expect(snapshotOf(await readSnapshot(dir, FILES))).toEqual(state(2));
  });
});
