import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type ConfigResult } from './config.ts';

/**
 * A ConfigMap or Secret mounted as a volume: one file per key. Kubelet's own entries (`..data`,
 * `..<timestamp>`) are skipped. Read anew whenever a file changes, so an edited ConfigMap applies
 * once kubelet refreshes the volume, without a restart.
 */
function readKeys(dir: string | undefined): Record<string, string> {
  if (!dir) return {};
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    if (name.startsWith('..')) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    out[name] = readFileSync(path, 'utf8');
  }
  return out;
}

function fingerprint(dir: string | undefined): string {
  if (!dir) return '';
  try {
    return readdirSync(dir)
      .filter((n) => !n.startsWith('..'))
      .map((n) => {
        const s = statSync(join(dir, n));
        return `${n}:${s.mtimeMs}:${s.size}`;
      })
      .sort()
      .join('|');
  } catch (err) {
    return `error:${(err as Error).message}`;
  }
}

export class ConfigDir {
  private readonly configDir: string;
  private readonly secretDir: string | undefined;
  private cached: { key: string; result: ConfigResult } | undefined;

  constructor(configDir: string, secretDir?: string) {
    this.configDir = configDir;
    this.secretDir = secretDir;
  }

  /** The parsed config, or its problems (a directory that cannot be read is one). */
  load(): ConfigResult {
    const key = `${fingerprint(this.configDir)}#${fingerprint(this.secretDir)}`;
    if (this.cached?.key === key) return this.cached.result;
    let result: ConfigResult;
    try {
      result = parseConfig(readKeys(this.configDir), readKeys(this.secretDir));
    } catch (err) {
      result = { problems: [`cannot read the notifications config: ${(err as Error).message}`] };
    }
    this.cached = { key, result };
    return result;
  }
}
