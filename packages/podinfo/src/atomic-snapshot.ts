// Reads the annotations and labels of one consistent volume state.
//
// The kubelet's AtomicWriter publishes a new state by writing a fresh `..<timestamp>` directory and
// renaming a `..data_tmp` symlink over `..data`; the visible files are symlinks into `..data`. Reading
// `<dir>/annotations` and then `<dir>/labels` could straddle a swap and pair values from two states,
// so `..data` is resolved once and both files are read from that directory. A published directory is
// never modified, only removed; if it vanishes mid-read, the read starts again from the new `..data`.
import { lstat, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDownwardApi } from './downward-api-format.ts';

export const DATA_DIR = '..data';

/** File names inside the volume; `null` means the item is not mounted and reads as empty. */
export interface SnapshotFiles {
  readonly annotations: string | null;
  readonly labels: string | null;
}

export interface PodInfoSnapshot {
  readonly annotations: ReadonlyMap<string, string>;
  readonly labels: ReadonlyMap<string, string>;
}

export type SnapshotResult =
  | {
      readonly ok: true;
      readonly snapshot: PodInfoSnapshot;
      /** The directory the files were read from: the resolved `..data` target, or `dir` itself. */
      readonly source: string;
    }
  | { readonly ok: false; readonly error: Error };

// Each retry needs the kubelet to publish and delete a whole state during one read; a handful is
// far beyond what a real volume does (it updates about once a minute at most).
const MAX_ATTEMPTS = 10;

const isErrno = (error: unknown, code: string): boolean =>
  error instanceof Error && (error as NodeJS.ErrnoException).code === code;

const EMPTY: ReadonlyMap<string, string> = new Map();

type Source = { kind: 'atomic' | 'plain'; path: string } | { kind: 'retry' };

async function resolveSource(dir: string): Promise<Source> {
  const link = join(dir, DATA_DIR);
  try {
    return { kind: 'atomic', path: await realpath(link) };
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  // ENOENT from realpath means either no `..data` (a plain directory, e.g. local development)
  // or a `..data` whose target was just removed; only the first is final.
  try {
    await lstat(link);
    return { kind: 'retry' };
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { kind: 'plain', path: dir };
    throw error;
  }
}

async function readMap(path: string): Promise<Map<string, string>> {
  const parsed = parseDownwardApi(await readFile(path, 'utf8'));
  if (!parsed.ok) throw new Error(`${path}: ${parsed.error.message}`, { cause: parsed.error });
  return parsed.values;
}

/** Reads one consistent snapshot of `dir`. Never throws: failures are returned as `{ ok: false }`. */
export async function readSnapshot(dir: string, files: SnapshotFiles): Promise<SnapshotResult> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let source: Source | undefined;
    try {
      source = await resolveSource(dir);
      if (source.kind === 'retry') continue;
      const from = source.path;
      const read = (name: string | null) => (name === null ? EMPTY : readMap(join(from, name)));
      const [annotations, labels] = await Promise.all([read(files.annotations), read(files.labels)]);
      return { ok: true, snapshot: { annotations, labels }, source: from };
    } catch (error) {
      // A file missing from an atomic volume usually means its directory was swapped out and
      // removed during the read; it is missing for real only if `..data` still points there.
      if (source?.kind === 'atomic' && isErrno(error, 'ENOENT') && (await movedOn(dir, source.path))) continue;
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }
  return { ok: false, error: new Error(`${dir}: the volume changed during each of ${MAX_ATTEMPTS} reads`) };
}

async function movedOn(dir: string, resolved: string): Promise<boolean> {
  try {
    return (await realpath(join(dir, DATA_DIR))) !== resolved;
  } catch {
    return true;
  }
}
