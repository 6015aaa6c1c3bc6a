// The entry of the single executable `kubectl-rolloutgroup` (scripts/build-plugin-binary.ts bundles
// it as CommonJS: Node 24 runs no ES module as a SEA's main script, so there is no top-level await).
// It carries its own Node 24, so no version check.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getAssetKeys, getRawAsset, isSea } from 'node:sea';
import { Command } from 'commander';
import { addPluginCommands, runProgram } from './commands.ts';
import { DASHBOARD_UI_ENV } from '../dashboard/command.ts';

/** The dashboard's files ride in the executable as assets (`dashboard-ui/…`); served from a temporary copy. */
function unpackDashboard(): void {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-rolloutgroup-ui-'));
  for (const key of getAssetKeys()) {
    if (!key.startsWith('dashboard-ui/')) continue;
    const path = join(dir, key.slice('dashboard-ui/'.length));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, new Uint8Array(getRawAsset(key) as ArrayBuffer));
  }
  process.env[DASHBOARD_UI_ENV] = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}

if (isSea() && process.argv[2] === 'dashboard') unpackDashboard();
const program = new Command('kubectl rolloutgroup').description('Inspect and drive Tandem RolloutGroups');
runProgram(addPluginCommands(program), process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
