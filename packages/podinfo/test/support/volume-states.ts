// Numbered volume states for watcher tests. Both files carry the generation number, so a state that
// pairs annotations of one write with labels of another is caught at once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import fc from 'fast-check';
import { formatDownwardApi } from '../../src/downward-api-format.ts';

export interface VolumeState {
  readonly annotations: ReadonlyMap<string, string>;
  readonly labels: ReadonlyMap<string, string>;
}

// Awkward values (quotes, backslashes, newlines, control characters, any Unicode), fixed by the seed.
const NOTES = fc.sample(fc.string({ unit: 'binary', maxLength: 24 }), { numRuns: 1000, seed: 20261122 });

export function stateFor(gen: number): VolumeState {
  return {
    annotations: new Map([
      ['gen', String(gen)],
      ['tandem.dev/interest-url', `http://interest-${gen}.loans.svc:8080`],
      ['tandem.dev/note', NOTES[gen % NOTES.length] ?? ''],
    ]),
    labels: new Map([
      ['app', 'loan'],
      ['gen', String(gen)],
      ['rollouts-pod-template-hash', `hash-${gen % 7}`],
    ]),
  };
}

export function payloadFor(state: VolumeState): Record<string, string> {
  return { annotations: formatDownwardApi(state.annotations), labels: formatDownwardApi(state.labels) };
}

export const sameMap = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean =>
  a.size === b.size && [...a].every(([key, value]) => b.get(key) === value);

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Polls `check` until it returns true; fails after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(5);
  }
}

/** fs.watch handles that keep this process alive. */
export function fsWatchHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'FSEventWrap').length;
}
