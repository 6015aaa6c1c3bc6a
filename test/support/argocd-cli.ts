/**
 * Tandem's Argo CD Lua run by Argo CD itself: `argocd admin settings resource-overrides`, which loads
 * an argocd-cm file and evaluates the scripts in the same VM setup as the application controller
 * and the API server (util/lua, without the test-only open libraries). The binary is built by
 * test/cluster/build-argocd.sh.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

const REPO = new URL('../../', import.meta.url).pathname;

/** Where build-argocd.sh caches Argo CD (versions.sh's ARGOCD_DIR). */
export const ARGOCD_CACHE = execFileSync('bash', ['-c', '. test/cluster/versions.sh && echo "$ARGOCD_DIR"'], { cwd: REPO, encoding: 'utf8' }).trim();
export const ARGOCD = `${ARGOCD_CACHE}/bin/argocd`;

export class ArgocdCliError extends Error {}

function overrides(args: readonly string[], env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
  if (!existsSync(ARGOCD)) throw new ArgocdCliError(`${ARGOCD} is missing: run bash test/cluster/build-argocd.sh`);
  const r = spawnSync(ARGOCD, ['admin', 'settings', 'resource-overrides', ...args], {
    encoding: 'utf8',
    // ARGOCD_BINARY_NAME: the binary picks its command from its name (cmd/main.go); say it is the CLI.
    env: { ...process.env, ARGOCD_BINARY_NAME: 'argocd', ...env },
  });
  if (r.error) throw new ArgocdCliError(`argocd ${args.join(' ')}: ${r.error.message}`, { cause: r.error });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: readonly string[], env?: Record<string, string>): string {
  const r = overrides(args, env);
  if (r.status !== 0) throw new ArgocdCliError(`argocd ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `health`: Argo CD's health of the object in `objPath`, from the health script in the argocd-cm file. */
export function argocdHealth(cmPath: string, objPath: string): { status: string; message: string } {
  const out = ok(['health', objPath, '--argocd-cm-path', cmPath]);
  const m = /^STATUS: (.*)\nMESSAGE: (.*)\n$/.exec(out);
  if (!m) throw new ArgocdCliError(`unexpected health output:\n${out}`);
  return { status: m[1]!, message: m[2]! };
}

/** `list-actions`: the actions discovery offers, as {name: disabled}. */
export function argocdActions(cmPath: string, objPath: string): Record<string, boolean> {
  const lines = ok(['list-actions', objPath, '--argocd-cm-path', cmPath]).trim().split('\n');
  if (!/^NAME\s+DISABLED$/.test(lines[0] ?? '')) throw new ArgocdCliError(`unexpected list-actions output:\n${lines.join('\n')}`);
  return Object.fromEntries(lines.slice(1).map((l) => {
    const [name, disabled] = l.trim().split(/\s+/);
    return [name!, disabled === 'true'];
  }));
}

export type ActionOutcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string };

/**
 * `run-action`: the object as Argo CD would patch it, or the error Argo CD reports. The command
 * prints a diff of the object before and after through $KUBECTL_EXTERNAL_DIFF; a "diff" that
 * prints its second file (the result) gives the whole object.
 */
export function argocdRunAction(cmPath: string, objPath: string, action: string): ActionOutcome {
  // shlex-split by Argo CD, then called with the live file and the result file.
  const r = overrides(['run-action', objPath, action, '--argocd-cm-path', cmPath], { KUBECTL_EXTERNAL_DIFF: `sh -c 'cat "$2"' diff` });
  if (r.status !== 0) return { ok: false, error: r.stderr + r.stdout };
  const header = 'Following fields have been changed:\n\n';
  if (!r.stdout.startsWith(header)) throw new ArgocdCliError(`unexpected run-action output:\n${r.stdout}`);
  return { ok: true, result: parse(r.stdout.slice(header.length)) };
}

export const readYaml = (path: string): unknown => parse(readFileSync(path, 'utf8'));
