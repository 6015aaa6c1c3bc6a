/** Completion: the resolver on the real program's commands, and the bash script run by a real bash. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { complete, completionScript } from '../../../src/plugin/completion.ts';
import { addPluginCommands, completionLines, type NameLookup } from '../../../src/plugin/commands.ts';

const program = addPluginCommands(new Command('kubectl rolloutgroup'));
const node = process.execPath;
const entry = resolve('src/kubectl-rolloutgroup.ts');
/** The lookups a completion made, and the names it was given. */
const lookups: { kind: string; namespace: string | undefined; kubeconfig: string | undefined }[] = [];
const names: NameLookup = async (kind, flags) => {
  lookups.push({ kind, namespace: flags.namespace, kubeconfig: flags.kubeconfig });
  return kind === 'groups' ? ['loans', 'ledger', 'payments'] : ['shop', 'staging'];
};
/** `__complete …` answered in-process, as the executable answers it. */
const ask = (...words: string[]) => completionLines(program, words, names);

describe('__complete (Cobra protocol)', () => {
  it('completes commands, flags, flag values and shells, with no file completion', async () => {
    expect(await ask('pro')).toEqual(['promote', ':4']);
    expect(await ask('')).toEqual(['get', 'list', 'promote', 'abort', 'retry', 'status', 'dashboard', 'pause', 'resume', 'version', 'completion', 'lint', ':4']);
    expect(await ask('get', '--w')).toEqual(['--watch', ':4']);
    expect(await ask('status', 'loans', '--until', '')).toEqual(['Healthy', 'Paused', ':4']);
    expect(await ask('list', '-o', 'y')).toEqual(['yaml', ':4']);
    expect(await ask('completion', '')).toEqual(['bash', 'zsh', 'fish', ':4']);
    expect(await ask('promote', '--')).toEqual(expect.arrayContaining(['--release', '--full', '--timeout', '--namespace', '--no-color']));
    expect(lookups).toEqual([]);
  });

  it('group names from the namespace and kubeconfig on the line; namespaces after -n; files for lint', async () => {
    expect(await ask('get', 'l')).toEqual(['loans', 'ledger', ':4']);
    expect(await ask('promote', '--kubeconfig', '/k', '-n', 'shop', 'p')).toEqual(['payments', ':4']);
    expect(await ask('abort', '-n', 's')).toEqual(['shop', 'staging', ':4']);
    expect(lookups).toEqual([
      { kind: 'groups', namespace: undefined, kubeconfig: undefined },
      { kind: 'groups', namespace: 'shop', kubeconfig: '/k' },
      { kind: 'namespaces', namespace: undefined, kubeconfig: undefined },
    ]);
    expect(await ask('get', 'loans', '')).toEqual([':4']);
    expect(await ask('lint', '')).toEqual([':0']);
  });

  it('a failing lookup completes nothing', async () => {
    expect(await completionLines(program, ['get', ''], () => Promise.reject(new Error('no cluster')))).toEqual([':4']);
  });
});

describe('complete()', () => {
  const specs = [
    { name: 'get', options: [{ flags: ['-n', '--namespace'], takesValue: true, values: 'namespace' as const }, { flags: ['-w', '--watch'], takesValue: false }], args: 'group' as const },
  ];
  it('asks for the groups of the namespace on the line, and for namespaces after -n', () => {
    expect(complete(specs, [], ['get', ''])).toEqual({ kind: 'groups', namespace: undefined });
    expect(complete(specs, [], ['get', '-n', 'shop', ''])).toEqual({ kind: 'groups', namespace: 'shop' });
    expect(complete(specs, [], ['get', '--namespace=shop', '-w', 'l'])).toEqual({ kind: 'groups', namespace: 'shop' });
    expect(complete(specs, [], ['get', '-n', ''])).toEqual({ kind: 'namespaces' });
    expect(complete(specs, [], ['get', 'loans', ''])).toEqual({ kind: 'words', words: [] });
  });
});

describe('completion scripts', () => {
  let dir: string;
  beforeAll(() => {
    // An installed plugin: an executable kubectl-rolloutgroup on PATH.
    dir = mkdtempSync(join(tmpdir(), 'tandem-completion-'));
    writeFileSync(join(dir, 'kubectl-rolloutgroup'), `#!/bin/sh\nexec "${node}" "${entry}" "$@"\n`);
    chmodSync(join(dir, 'kubectl-rolloutgroup'), 0o755);
  });
  /** Runs the bash script's function on a command line, as bash does on TAB; returns COMPREPLY. */
  const bashComplete = (...words: string[]) =>
    execFileSync(
      'bash',
      ['-c', `source <(kubectl-rolloutgroup completion bash); COMP_WORDS=(kubectl-rolloutgroup "$@"); COMP_CWORD=$#; _kubectl_rolloutgroup; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', ...words],
      { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}`, KUBECONFIG: '/nonexistent' } },
    ).trim();

  // One real bash and one real executable per line completed: slow on a busy machine.
  it('bash: commands, flags and values', { timeout: 120_000 }, () => {
    expect(bashComplete('re')).toBe('retry\nresume');
    expect(bashComplete('get', '--wa')).toBe('--watch');
    expect(bashComplete('status', 'x', '--until', 'P')).toBe('Paused');
  });

  it('zsh and fish scripts call the same protocol', () => {
    expect(completionScript('zsh', 'kubectl-rolloutgroup')).toMatch(/^#compdef kubectl-rolloutgroup\n[\s\S]*"kubectl-rolloutgroup" __complete "\$\{\(@\)words\[2,CURRENT\]\}"[\s\S]*compdef _kubectl_rolloutgroup kubectl-rolloutgroup\n$/);
    expect(completionScript('fish', 'kubectl-rolloutgroup')).toContain("complete -c kubectl-rolloutgroup -f -a '(kubectl-rolloutgroup __complete (commandline -opc)[2..-1] (commandline -ct)");
  });
});
