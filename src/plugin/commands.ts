import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { RolloutGroup } from '../api/rolloutgroup.ts';
import { POD_TEMPLATE_HASH, Rollout, Service } from '../api/rollout.ts';
import { ROLE_FIELDS, serviceNameOf, strategyKey } from '../api/rollout-roles.ts';
import { CliClient, CliClientError, ObjectNotFoundError, type CliClientOptions } from '../kube/cli-client.ts';
import type { Follower } from '../kube/cli-follow.ts';
import { formatProblem, lintManifests } from '../lint/lint.ts';
import { parseManifests, type ManifestDoc } from '../lint/manifests.ts';
import { stringify } from 'yaml';
import { formatDuration, parseDuration } from '../runtime/duration.ts';
import { complete, completionScript, DIRECTIVE, SHELLS, type CommandSpec, type OptionSpec, type Shell } from './completion.ts';
import { fullPromotionStep } from './full-promotion.ts';
import { paintFor, toneOf, type Paint } from './paint.ts';
import { abortRequest, promoteRequest, retryRequest, type RequestResult } from './requests.ts';
import { statusVerdict, type StatusTarget } from './status-verdict.ts';
import { renderTree, type MemberLive, type ServicePointer } from './tree.ts';

/** A command failed in a way the user should see as one line and an exit code. */
class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** `status` ran out of time: distinct from Degraded (1) so a pipeline can tell them apart. */
const EXIT_TIMEOUT = 2;

interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  server?: string;
  token?: string;
  as?: string;
  requestTimeout?: number;
}

/** The flags kubectl users expect on every command that talks to a cluster. */
function withKubeFlags(cmd: Command): Command {
  return cmd
    .option('-n, --namespace <ns>', 'namespace (default: the kubeconfig context’s, then "default")')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
    .option('-s, --server <url>', 'the API server’s address, instead of the kubeconfig’s')
    .option('--token <token>', 'bearer token to authenticate with, instead of the kubeconfig’s')
    .option('--as <user>', 'user to impersonate for the requests')
    .addOption(durationOption('--request-timeout <duration>', 'give up on a single request after this long (0: no limit)', 0));
}

const clientFor = (f: KubeFlags): CliClient =>
  new CliClient({ kubeconfig: f.kubeconfig, context: f.context, namespace: f.namespace, server: f.server, token: f.token, as: f.as, requestTimeoutMs: f.requestTimeout } satisfies CliClientOptions);

/** A commander argument parser: milliseconds from a Go duration (`500ms`, `90s`, `1m30s`, `1h`) or `0`. */
export function durationArgument(v: string): number {
  try {
    return parseDuration(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** A commander argument parser for a TCP port (0: any free one). */
function portArgument(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return n;
}

/** A duration flag whose help shows its default as it would be typed (`1s`, not `1000`). */
export function durationOption(flags: string, description: string, defaultMs: number): Option {
  return new Option(flags, description).argParser(durationArgument).default(defaultMs, formatDuration(defaultMs));
}

type Output = 'json' | 'yaml';
const outputOption = () => new Option('-o, --output <format>', 'print the object(s) as json or yaml instead of the view').choices(['json', 'yaml']);
const printObject = (obj: unknown, output: Output) => process.stdout.write(output === 'json' ? `${JSON.stringify(obj, null, 2)}\n` : stringify(obj));
/** Colours for stdout, from --no-color, NO_COLOR, FORCE_COLOR and whether stdout is a terminal. */
const stdoutPaint = (cmd: Command): Paint => paintFor(process.stdout, process.env, cmd.optsWithGlobals()['color'] !== false);

/** Set by the single executable's bundler (scripts/build-plugin-binary.ts); undefined elsewhere. */
declare const __TANDEM_VERSION__: string | undefined;

/** The package's version, read beside the built output (dist/.. and src/.. both hold package.json). */
function packageVersion(): string {
  if (typeof __TANDEM_VERSION__ === 'string') return __TANDEM_VERSION__;
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Where `get` reads objects from: the API server (one GET each), or a Follower's watched caches. */
interface ObjectSource {
  readonly namespace: string;
  getGroup(name: string): Promise<unknown>;
  getRollout(name: string): Promise<unknown>;
  getService(name: string): Promise<unknown>;
}

/** A Follower as an ObjectSource; a group gone from its cache is not found, as a GET would say. */
const watched = (namespace: string, f: Follower): ObjectSource => ({
  namespace,
  getGroup: async (name) => {
    const g = f.getGroup();
    if (g === undefined) throw new ObjectNotFoundError(`rolloutgroup ${namespace}/${name} not found`);
    return g;
  },
  getRollout: async (name) => f.getRollout(name),
  getService: async (name) => f.getService(name),
});

async function readGroup(client: ObjectSource, name: string): Promise<RolloutGroup> {
  return parseGroup(client.namespace, name, await client.getGroup(name));
}

function parseGroup(namespace: string, name: string, raw: unknown): RolloutGroup {
  const parsed = RolloutGroup.safeParse(raw);
  if (!parsed.success) throw new CommandFailure(`rolloutgroup ${namespace}/${name} cannot be read: ${parsed.error.issues[0]?.message ?? 'bad shape'}`);
  return parsed.data;
}

/** Everything `get` shows about the members: their Rollouts and the Services those name. */
async function readMembers(client: ObjectSource, group: RolloutGroup): Promise<Map<string, MemberLive>> {
  const live = new Map<string, MemberLive>();
  for (const m of group.spec.members) {
    const raw = await client.getRollout(m.rollout);
    const parsed = raw === undefined ? undefined : Rollout.safeParse(raw);
    const rollout = parsed?.success ? parsed.data : undefined;
    const services: ServicePointer[] = [];
    const named = rollout ? (['active', 'preview'] as const).map((r) => [ROLE_FIELDS[strategyKey(rollout)][r].side, serviceNameOf(rollout, r)] as const) : [];
    for (const [role, name] of named) {
      if (!name) continue;
      const svc = Service.safeParse(await client.getService(name));
      services.push({ role, name, exists: svc.success, selects: svc.success ? svc.data.spec.selector[POD_TEMPLATE_HASH] : undefined });
    }
    live.set(m.rollout, { rollout, services });
  }
  return live;
}

async function snapshot(client: ObjectSource, name: string, paint: Paint): Promise<string> {
  const group = await readGroup(client, name);
  return renderTree(group, await readMembers(client, group), paint);
}

async function request(flags: KubeFlags, name: string, make: (g: RolloutGroup) => RequestResult): Promise<void> {
  const client = clientFor(flags);
  const result = make(await readGroup(client, name));
  if (!result.ok) throw new CommandFailure(result.problem);
  await client.annotateGroup(name, result.annotations);
  process.stdout.write(`rolloutgroup '${name}': ${result.summary}\n`);
}

function listTable(groups: readonly unknown[], allNamespaces: boolean, paint: Paint): string {
  const rows = groups.flatMap((raw) => {
    const g = RolloutGroup.safeParse(raw);
    if (!g.success) return [];
    const { metadata, spec, status } = g.data;
    return [[...(allNamespaces ? [metadata.namespace] : []), metadata.name, spec.strategy, status?.phase ?? '-', status?.release?.id ?? '-', status?.readyMembers ?? '-', status?.message ?? '']];
  });
  if (rows.length === 0) return 'No rolloutgroups found.\n';
  const header = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'STRATEGY', 'PHASE', 'RELEASE', 'READY', 'MESSAGE'];
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const phase = header.indexOf('PHASE');
  // Padded first, painted after: escape codes have no width.
  const cell = (c: string, i: number, row: number, last: boolean) => {
    const padded = last ? c : c.padEnd(widths[i]! + 3);
    return row > 0 && i === phase ? padded.replace(c, paint(toneOf(c), c)) : padded;
  };
  return table.map((r, row) => r.map((c, i) => cell(c, i, row, i === r.length - 1)).join('').trimEnd()).join('\n') + '\n';
}

/** Manifest files; a directory stands for its *.yaml and *.yml files. */
function readManifestFiles(paths: readonly string[]) {
  const files = paths.flatMap((p) => {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw new CommandFailure(`${p}: no such file or directory`, 1, { cause: err });
    }
    return isDir ? readdirSync(p).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(p, f)) : [p];
  });
  const docs: ManifestDoc[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const parsed = parseManifests(file, readFileSync(file, 'utf8'));
    docs.push(...parsed.docs);
    problems.push(...parsed.problems.map((p) => `${p.file}: ${p.message}`));
  }
  return { files, docs, problems };
}

/** Adds get, list, promote, abort, retry, status and lint to a program (the plugin, or `tandem`). */
export function addPluginCommands(program: Command): Command {
  withKubeFlags(program.command('get').argument('<name>', 'rolloutgroup name'))
    .description('show a group and its members in promotion order, with revisions, images and Services')
    .option('-w, --watch', 'redraw whenever something changes (follows a watch of the group, Rollouts and Services)')
    .addOption(durationOption('--interval <duration>', 'with --watch, the least time between two redraws', 1000))
    .addOption(outputOption().conflicts('watch'))
    .action(async (name: string, opts: KubeFlags & { watch?: boolean; interval: number; output?: Output }, cmd: Command) => {
      const client = clientFor(opts);
      if (opts.output) return void printObject(await client.getGroup(name), opts.output);
      const paint = stdoutPaint(cmd);
      let last = await snapshot(client, name, paint);
      process.stdout.write(last);
      if (!opts.watch) return;
      const clear = process.stdout.isTTY ? '\x1b[2J\x1b[H' : '\n';
      const follower = await client.follow(name, true);
      const source = watched(client.namespace, follower);
      // Redraws are coalesced: at most one per interval, always after the latest change.
      await new Promise<void>((_, reject) => {
        let timer: NodeJS.Timeout | undefined;
        let drawnAt = 0;
        const draw = async () => {
          timer = undefined;
          drawnAt = Date.now();
          const next = await snapshot(source, name, paint);
          if (next === last) return;
          last = next;
          process.stdout.write(`${clear}${next}`);
        };
        follower.onChange(() => {
          timer ??= setTimeout(() => draw().catch(reject), Math.max(0, drawnAt + opts.interval - Date.now()));
        });
      }).finally(() => follower.stop());
    });

  withKubeFlags(program.command('list'))
    .description('list rolloutgroups with their phase, release and message')
    .option('-A, --all-namespaces', 'list groups in every namespace')
    .addOption(outputOption())
    .action(async (opts: KubeFlags & { allNamespaces?: boolean; output?: Output }, cmd: Command) => {
      const client = clientFor(opts);
      const groups = await client.listGroups(opts.allNamespaces === true);
      // kubectl's shape for several objects.
      if (opts.output) return void printObject({ apiVersion: 'v1', kind: 'List', metadata: {}, items: groups }, opts.output);
      process.stdout.write(listTable(groups, opts.allNamespaces === true, stdoutPaint(cmd)));
    });

  withKubeFlags(program.command('promote').argument('<name>', 'rolloutgroup name'))
    .description('request the promotion of the release in flight (writes tandem.dev/promote)')
    .option('--release <id>', 'promote this release id only (default: the one in status.release.id)')
    .option('--full', 'open every remaining gate of the release (canary barriers, Ordered members) as each becomes ready, then wait until it completes')
    .addOption(durationOption('--timeout <duration>', 'with --full: give up after this long, e.g. 10m or 1m30s (0: wait forever)', 0))
    .addOption(durationOption('--interval <duration>', 'with --full: how often to look', 1000))
    .action(async (name: string, opts: KubeFlags & { release?: string; full?: boolean; timeout: number; interval: number }) => {
      if (!opts.full) return request(opts, name, (g) => promoteRequest(g, opts.release));
      return promoteFull(opts, name);
    });

  withKubeFlags(program.command('abort').argument('<name>', 'rolloutgroup name'))
    .description('request an abort of the release in flight (writes tandem.dev/abort)')
    .option('--reason <text>', 'why; shown in the group’s status and events', 'requested with kubectl rolloutgroup abort')
    .action((name: string, opts: KubeFlags & { reason: string }) => request(opts, name, (g) => abortRequest(g, opts.reason)));

  withKubeFlags(program.command('retry').argument('<name>', 'rolloutgroup name'))
    .description('request a retry of the aborted release (writes tandem.dev/retry)')
    .action((name: string, opts: KubeFlags) => request(opts, name, retryRequest));

  withKubeFlags(program.command('status').argument('<name>', 'rolloutgroup name'))
    .description('wait until the group is Healthy (or --until Paused); exit 1 if Degraded, 2 on timeout')
    .addOption(new Option('--until <phase>', 'phase to wait for').choices(['Healthy', 'Paused']).default('Healthy'))
    .addOption(durationOption('--timeout <duration>', 'give up after this long, e.g. 10m or 1m30s (0: wait forever)', 0))
    // Accepted for scripts written when status polled; it follows a watch now.
    .addOption(new Option('--interval <duration>', 'ignored: status follows a watch').argParser(durationArgument).hideHelp())
    .action(async (name: string, opts: KubeFlags & { until: StatusTarget; timeout: number }) => {
      const client = clientFor(opts);
      const deadline = Date.now() + opts.timeout;
      let said = '';
      /** Prints what changed; true once the wait is over (throws if it ended Degraded). */
      const report = (group: RolloutGroup): boolean => {
        const verdict = statusVerdict(group, opts.until);
        if (verdict.message !== said) process.stdout.write(`${verdict.message}\n`);
        said = verdict.message;
        if (verdict.done && !verdict.ok) throw new CommandFailure(`rolloutgroup ${name} is Degraded`);
        return verdict.done;
      };
      if (report(await readGroup(client, name))) return;
      const follower = await client.follow(name, false);
      const source = watched(client.namespace, follower);
      let timeout: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve, reject) => {
        const timedOut = () => reject(new CommandFailure(`timed out waiting for rolloutgroup ${name} to be ${opts.until}`, EXIT_TIMEOUT));
        if (opts.timeout > 0) timeout = setTimeout(timedOut, Math.max(0, deadline - Date.now()));
        follower.onChange(() => {
          readGroup(source, name)
            .then((g) => report(g) && resolve())
            .catch(reject);
        });
      }).finally(() => {
        clearTimeout(timeout);
        return follower.stop();
      });
    });

  withKubeFlags(program.command('dashboard'))
    .description('serve a web UI of the groups: graph, release timeline, promote/abort/retry with your own credentials')
    .option('--port <port>', 'port to listen on (0: any free port)', portArgument, 3100)
    .option('--address <address>', 'address to listen on (loopback by default: the UI acts with your credentials)', '127.0.0.1')
    .option('-A, --all-namespaces', 'show groups in every namespace')
    .action(async (opts: KubeFlags & { port: number; address: string; allNamespaces?: boolean }) => {
      // Loaded only here: the other commands start without the server's modules.
      const { runDashboard } = await import('../dashboard/command.ts');
      try {
        await runDashboard(clientFor(opts), { port: opts.port, address: opts.address, allNamespaces: opts.allNamespaces === true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new CommandFailure(`cannot listen on ${opts.address}:${opts.port}: ${code}`, 1, { cause: err });
        throw err;
      }
    });

  for (const [verb, paused, what] of [
    ['pause', true, 'stop Tandem from changing anything for this group (sets spec.paused); it keeps observing and reporting'],
    ['resume', false, 'let Tandem act on this group again (clears spec.paused)'],
  ] as const) {
    withKubeFlags(program.command(verb).argument('<name>', 'rolloutgroup name'))
      .description(what)
      .action(async (name: string, opts: KubeFlags) => {
        const client = clientFor(opts);
        const group = await readGroup(client, name);
        if (group.spec.paused === paused) return void process.stdout.write(`rolloutgroup '${name}' is already ${paused ? 'paused' : 'not paused'}\n`);
        await client.patchGroupSpec(name, { paused });
        process.stdout.write(`rolloutgroup '${name}' ${paused ? 'paused: Tandem observes and reports, and changes nothing until resumed' : 'resumed'}\n`);
      });
  }

  program
    .command('version')
    .description('print the version of this client')
    .addOption(outputOption())
    .action((opts: { output?: Output }) => {
      const info = { name: program.name(), version: packageVersion(), node: process.version, platform: `${process.platform}/${process.arch}` };
      if (opts.output) return void printObject(info, opts.output);
      process.stdout.write(`${info.name} v${info.version} (Node.js ${info.node}, ${info.platform})\n`);
    });

  program
    .command('completion')
    .argument('<shell>', SHELLS.join(', '))
    .description(`print a shell completion script, e.g. source <(${binaryName(program)} completion bash)`)
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) throw new CommandFailure(`unknown shell "${shell}": one of ${SHELLS.join(', ')}`);
      process.stdout.write(completionScript(shell as Shell, binaryName(program)));
    });

  program
    .command('lint')
    .argument('<files...>', 'manifest files or directories (multi-document YAML)')
    .description('check RolloutGroups against the Rollouts and Services in the same files, offline; exit 1 on any problem')
    .action((paths: string[]) => {
      const { files, docs, problems } = readManifestFiles(paths);
      const result = lintManifests(docs);
      const all = [...problems, ...result.problems.map(formatProblem)];
      for (const line of all) process.stderr.write(`${line}\n`);
      if (all.length > 0) throw new CommandFailure(`${all.length} problem${all.length === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'}`);
      process.stdout.write(`${files.length} file${files.length === 1 ? '' : 's'}, ${result.groups} rolloutgroup${result.groups === 1 ? '' : 's'}: no problems\n`);
    });

  program.option('--no-color', 'never colour the output (NO_COLOR=1 does the same; colour is off when stdout is not a terminal)');
  return program;
}

/** `kubectl rolloutgroup` is the executable `kubectl-rolloutgroup`. */
const binaryName = (program: Command) => program.name().replace(/ /g, '-');

const optionSpec = (o: Option): OptionSpec => ({
  flags: [o.short, o.long].filter((f): f is string => f !== undefined),
  takesValue: o.required || o.optional,
  values: o.long === '--namespace' ? 'namespace' : o.argChoices,
});

function commandSpecs(program: Command): CommandSpec[] {
  return program.commands
    .filter((c) => !c.name().startsWith('__'))
    .map((c) => {
      const arg = c.registeredArguments[0];
      const args = c.name() === 'completion' ? SHELLS : arg?.name() === 'name' ? 'group' : arg?.name() === 'files' ? 'files' : 'none';
      return { name: c.name(), options: c.options.map(optionSpec), args };
    });
}
const globalOptionSpecs = (program: Command): OptionSpec[] => program.options.map(optionSpec);

/** --kubeconfig, --context and -n as given on the line being completed. */
function connectionFlags(words: readonly string[]): KubeFlags {
  const flags: { kubeconfig?: string; context?: string; namespace?: string } = {};
  const keys: Record<string, 'kubeconfig' | 'context' | 'namespace'> = { '--kubeconfig': 'kubeconfig', '--context': 'context', '-n': 'namespace', '--namespace': 'namespace' };
  words.forEach((w, i) => {
    const [flag, inline] = w.split(/=(.*)/s, 2) as [string, string | undefined];
    const key = keys[flag];
    // The last word is the one being completed, never a finished value.
    const value = inline ?? (i + 1 < words.length - 1 ? words[i + 1] : undefined);
    if (key && value !== undefined && i < words.length - 1) flags[key] = value;
  });
  return flags;
}

/** Lists live names for completion; the real one asks the API server with the line's own connection flags. */
export type NameLookup = (kind: 'groups' | 'namespaces', flags: KubeFlags) => Promise<readonly string[]>;

const liveNames: NameLookup = async (kind, flags) => {
  const client = clientFor(flags);
  return kind === 'groups' ? client.listGroupNames() : client.listNamespaceNames();
};

/**
 * The answer to `__complete <words…>` in Cobra's protocol: candidates one a line, then `:<directive>`.
 * A failing lookup (no cluster, no permission) completes nothing.
 */
export async function completionLines(program: Command, words: readonly string[], lookup: NameLookup = liveNames): Promise<string[]> {
  const line = words.length > 0 ? words : [''];
  const answer = complete(commandSpecs(program), globalOptionSpecs(program), line);
  const current = line.at(-1)!;
  let candidates: readonly string[] = [];
  if (answer.kind === 'words') candidates = answer.words;
  else if (answer.kind !== 'files') {
    const flags = connectionFlags(line);
    candidates = await lookup(answer.kind, answer.kind === 'groups' && answer.namespace ? { ...flags, namespace: answer.namespace } : flags).catch(() => []);
  }
  const directive = answer.kind === 'files' ? DIRECTIVE.default : DIRECTIVE.noFileComp;
  return [...candidates.filter((c) => c.startsWith(current)), `:${directive}`];
}

async function promoteFull(opts: KubeFlags & { release?: string; timeout: number; interval: number }, name: string): Promise<void> {
  const client = clientFor(opts);
  const first = await readGroup(client, name);
  const releaseId = opts.release ?? first.status?.release?.id;
  if (!releaseId) throw new CommandFailure(`rolloutgroup ${name} has no release in flight; nothing to promote`);
  const deadline = opts.timeout > 0 ? Date.now() + opts.timeout : Infinity;
  let said = '';
  for (let group = first; ; group = await readGroup(client, name)) {
    const step = fullPromotionStep(group, releaseId);
    if (step.kind === 'failed') throw new CommandFailure(step.message);
    if (step.kind === 'done') return void process.stdout.write(`rolloutgroup '${name}': ${step.message}\n`);
    if (step.kind === 'request') {
      await client.annotateGroup(name, step.annotations);
      process.stdout.write(`rolloutgroup '${name}': ${step.summary}\n`);
    } else if (step.message !== said) {
      process.stdout.write(`${step.message}\n`);
      said = step.message;
    }
    if (Date.now() + opts.interval > deadline) throw new CommandFailure(`timed out promoting release ${releaseId} of rolloutgroup ${name}`, EXIT_TIMEOUT);
    await sleep(opts.interval);
  }
}

/**
 * Runs a program, turning a user-facing failure into one line on stderr and its exit code. Anything
 * else is a bug (or the controller failing) and keeps its stack trace.
 */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  // Handled before commander parses anything, so the words being completed (`-n`, `--help`, half a
  // flag) are never taken as options; used by the `completion` scripts and by kubectl_complete-rolloutgroup.
  if (argv[2] === '__complete') return void process.stdout.write(`${(await completionLines(program, argv.slice(3))).join('\n')}\n`);
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (!(err instanceof CommandFailure || err instanceof CliClientError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = err instanceof CommandFailure ? err.exitCode : 1;
  }
}
