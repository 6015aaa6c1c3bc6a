// A faithful copy of the kubelet's AtomicWriter.Write (k8s.io/kubernetes pkg/volume/util/atomic_writer.go)
// for the flat payloads a Downward API volume has: `annotations`, `labels`, ... at the top level.
//
//   <dir>/annotations -> ..data/annotations          (created once, never replaced)
//   <dir>/..data      -> ..2026_11_22_10_00_00.123456789
//   <dir>/..2026_11_22_10_00_00.123456789/annotations
//
// An update writes a new timestamped directory, links `..data_tmp` to it, renames `..data_tmp` over
// `..data` (the atomic step), adds missing visible links, removes visible links of dropped files and
// finally deletes the previous timestamped directory.
import { randomInt } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type WriteStep =
  | 'payload-written' // new timestamped dir complete, not yet visible
  | 'data-tmp-linked' // ..data_tmp -> new dir
  | 'data-swapped' // ..data -> new dir: the new state is published
  | 'visible-linked' // top-level symlinks exist for every file
  | 'old-removed'; // previous timestamped dir deleted

export interface WriteOptions {
  /** Write even when nothing changed (the kubelet skips such writes). */
  readonly force?: boolean;
  /** Called after each step, so tests can act on the volume between steps. */
  readonly afterStep?: (step: WriteStep) => void | Promise<void>;
}

const DATA_DIR = '..data';
const NEW_DATA_DIR = '..data_tmp';

const isErrno = (error: unknown, code: string): boolean =>
  error instanceof Error && (error as NodeJS.ErrnoException).code === code;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

// time.Now().UTC().Format("..2006_01_02_15_04_05.")
function timestampPrefix(now: Date): string {
  return (
    `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_` +
    `${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}.`
  );
}

export class KubeletAtomicWriter {
  readonly targetDir: string;

  constructor(targetDir: string) {
    this.targetDir = targetDir;
  }

  /** Projects `payload` (file name to content). Returns false when the kubelet would skip the write. */
  async write(payload: Readonly<Record<string, string>>, options: WriteOptions = {}): Promise<boolean> {
    const step = async (name: WriteStep): Promise<void> => {
      await options.afterStep?.(name);
    };
    // (1) validatePayload, restricted to top-level names.
    for (const name of Object.keys(payload)) {
      if (name === '' || name.startsWith('..') || name.includes('/')) throw new Error(`invalid path ${name}`);
    }

    // (2) the current timestamped directory.
    const dataDirPath = join(this.targetDir, DATA_DIR);
    let oldTsDir = '';
    try {
      oldTsDir = await readlink(dataDirPath);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
    const oldTsPath = join(this.targetDir, oldTsDir);

    let pathsToRemove: string[] = [];
    if (oldTsDir !== '') {
      // (3) files of the old version no longer in the payload.
      pathsToRemove = (await readdir(oldTsPath)).filter((name) => !Object.hasOwn(payload, name));
      // (4) skip the write when every file already has this content.
      if (!options.force && pathsToRemove.length === 0 && !(await this.#differs(payload, oldTsPath))) return false;
    }

    // (5) a new timestamped directory: os.MkdirTemp appends a random decimal uint32.
    const tsDirName = await this.#mkdirTemp(timestampPrefix(new Date()));
    const tsDir = join(this.targetDir, tsDirName);
    await chmod(tsDir, 0o755);

    // (6) the payload, written into the still invisible directory.
    for (const [name, content] of Object.entries(payload)) {
      await writeFile(join(tsDir, name), content, { mode: 0o644 });
      await chmod(join(tsDir, name), 0o644);
    }
    await step('payload-written');

    // (8) ..data_tmp -> new directory, then (9) renamed over ..data: rename(2) is atomic.
    const newDataDirPath = join(this.targetDir, NEW_DATA_DIR);
    await symlink(tsDirName, newDataDirPath);
    await step('data-tmp-linked');
    await rename(newDataDirPath, dataDirPath);
    await step('data-swapped');

    // (10) visible links are created only when missing: existing ones already point through ..data.
    for (const name of Object.keys(payload)) {
      try {
        await readlink(join(this.targetDir, name));
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw error;
        await symlink(join(DATA_DIR, name), join(this.targetDir, name));
      }
    }
    await step('visible-linked');

    // (11) visible links of files that are gone.
    for (const name of pathsToRemove) await unlink(join(this.targetDir, name));

    // (12) the previous version.
    if (oldTsDir !== '') await rm(oldTsPath, { recursive: true, force: true });
    await step('old-removed');
    return true;
  }

  async #differs(payload: Readonly<Record<string, string>>, oldTsPath: string): Promise<boolean> {
    for (const [name, content] of Object.entries(payload)) {
      try {
        await lstat(join(oldTsPath, name));
      } catch (error) {
        if (isErrno(error, 'ENOENT')) return true;
        throw error;
      }
      if ((await readFile(join(oldTsPath, name), 'utf8')) !== content) return true;
    }
    return false;
  }

  async #mkdirTemp(prefix: string): Promise<string> {
    for (;;) {
      const name = `${prefix}${randomInt(0, 2 ** 32)}`;
      try {
        await mkdir(join(this.targetDir, name), { mode: 0o700 });
        return name;
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
      }
    }
  }
}
