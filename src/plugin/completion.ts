/**
 * Shell completion. One resolver, `complete(words)`, answers a hidden `__complete` command in Cobra's
 * protocol (candidates one a line, then `:<directive>`), which is what kubectl ≥ 1.26 asks an
 * executable named `kubectl_complete-rolloutgroup` for on `kubectl rolloutgroup <TAB>`; the bash, zsh
 * and fish scripts below ask the same command. Pure: the caller lists live groups and namespaces.
 */

/** What the completer knows of a command: taken from the commander program, so it never drifts. */
export interface CommandSpec {
  readonly name: string;
  readonly options: readonly OptionSpec[];
  /** What its positional arguments are: a group name, files, a fixed set of words, or nothing. */
  readonly args: 'group' | 'files' | 'none' | readonly string[];
}
export interface OptionSpec {
  readonly flags: readonly string[];
  readonly takesValue: boolean;
  /** The values it accepts, if it lists them; `namespace` for -n. */
  readonly values?: readonly string[] | 'namespace' | undefined;
}

/** Words to offer, or the live objects the caller must list first (then filtered by the prefix). */
export type Completion =
  | { readonly kind: 'words'; readonly words: readonly string[] }
  | { readonly kind: 'groups'; readonly namespace: string | undefined }
  | { readonly kind: 'namespaces' }
  | { readonly kind: 'files' };

/** Cobra's ShellCompDirective values kubectl understands. */
export const DIRECTIVE = { default: 0, noFileComp: 4 } as const;

/**
 * `words` are the words after the program name, the last one being the word under the cursor
 * (possibly empty).
 */
export function complete(commands: readonly CommandSpec[], globalOptions: readonly OptionSpec[], words: readonly string[]): Completion {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const byName = new Map(commands.map((c) => [c.name, c]));
  let command: CommandSpec | undefined;
  let namespace: string | undefined;
  let positional = 0;
  let pending: OptionSpec | undefined;
  const optionOf = (word: string) => [...(command?.options ?? []), ...globalOptions].find((o) => o.flags.includes(word.split('=')[0]!));
  for (const w of before) {
    if (pending) {
      if (pending.values === 'namespace') namespace = w;
      pending = undefined;
      continue;
    }
    if (w.startsWith('-')) {
      const o = optionOf(w);
      if (o?.takesValue && !w.includes('=')) pending = o;
      else if (o?.values === 'namespace' && w.includes('=')) namespace = w.slice(w.indexOf('=') + 1);
      continue;
    }
    if (!command) command = byName.get(w);
    else positional++;
  }
  if (pending) {
    if (pending.values === 'namespace') return { kind: 'namespaces' };
    return { kind: 'words', words: Array.isArray(pending.values) ? pending.values : [] };
  }
  if (!command) return { kind: 'words', words: current.startsWith('-') ? flagsOf(globalOptions) : commands.map((c) => c.name) };
  if (current.startsWith('-')) return { kind: 'words', words: flagsOf([...command.options, ...globalOptions]) };
  if (command.args === 'files') return { kind: 'files' };
  if (command.args === 'group') return positional === 0 ? { kind: 'groups', namespace } : { kind: 'words', words: [] };
  if (Array.isArray(command.args)) return { kind: 'words', words: positional === 0 ? command.args : [] };
  return { kind: 'words', words: [] };
}

const flagsOf = (options: readonly OptionSpec[]) => options.flatMap((o) => o.flags.filter((f) => f.startsWith('--')));

export type Shell = 'bash' | 'zsh' | 'fish';
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish'];

/** A script that completes `bin` by asking `bin __complete <words…>`. */
export function completionScript(shell: Shell, bin: string): string {
  const fn = `_${bin.replace(/[^A-Za-z0-9]/g, '_')}`;
  switch (shell) {
    case 'bash':
      return [
        `# bash completion for ${bin}: source <(${bin} completion bash)`,
        `${fn}() {`,
        `  local out directive`,
        `  out=$("${bin}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return`,
        `  directive=\${out##*:}`,
        `  out=$(printf '%s\\n' "$out" | sed '/^:[0-9]*$/d')`,
        `  COMPREPLY=($(compgen -W "$out" -- "\${COMP_WORDS[COMP_CWORD]}"))`,
        `  if [ "$directive" = ${DIRECTIVE.default} ] && [ \${#COMPREPLY[@]} -eq 0 ]; then COMPREPLY=($(compgen -f -- "\${COMP_WORDS[COMP_CWORD]}")); fi`,
        `}`,
        `complete -F ${fn} ${bin}`,
        '',
      ].join('\n');
    case 'zsh':
      return [
        `#compdef ${bin}`,
        `# zsh completion for ${bin}: source <(${bin} completion zsh)`,
        `${fn}() {`,
        `  local -a out`,
        `  out=("\${(@f)$("${bin}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")`,
        `  if [[ \${out[-1]} == :${DIRECTIVE.default} && \${#out} -le 1 ]]; then _files; return; fi`,
        `  compadd -- "\${(@)out:#:*}"`,
        `}`,
        `compdef ${fn} ${bin}`,
        '',
      ].join('\n');
    case 'fish':
      return [
        `# fish completion for ${bin}: ${bin} completion fish | source`,
        `complete -c ${bin} -f -a '(${bin} __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null | string match -v -r "^:[0-9]+\\$")'`,
        '',
      ].join('\n');
  }
}
