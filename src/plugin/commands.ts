import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { RolloutGroup } from '../api/rolloutgroup.ts';
import { POD_TEMPLATE_HASH, Rollout, Service } from '../api/rollout.ts';
import { CliClient, CliClientError, ObjectNotFoundError, type CliClientOptions } from '../kube/cli-client.ts';
import type { Follower } from '../kube/cli-follow.ts';
import { formatProblem, lintManifests } from '../lint/lint.ts';
import { parseManifests, type ManifestDoc } from '../lint/manifests.ts';
import { parseDuration } from '../runtime/duration.ts';
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
}

/** The flags kubectl users expect on every command that talks to a cluster. */
function withKubeFlags(cmd: Command): Command {
  return cmd
    .option('-n, --namespace <ns>', 'namespace (default: the kubeconfig context’s, then "default")')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)');
}

const clientFor = (flags: KubeFlags): CliClient => new CliClient(flags satisfies CliClientOptions);

/** A commander argument parser: milliseconds from `500ms`, `90s`, `10m`, `1h` or `0`. */
export function durationArgument(v: string): number {
  try {
    return parseDuration(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
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
    const { blueGreen, canary } = rollout?.spec.strategy ?? {};
    const named: [ServicePointer['role'], string | undefined][] = blueGreen
      ? [['active', blueGreen.activeService], ['preview', blueGreen.previewService]]
      : [['stable', canary?.stableService], ['canary', canary?.canaryService]];
    for (const [role, name] of named) {
      if (!name) continue;
      const svc = Service.safeParse(await client.getService(name));
      services.push({ role, name, exists: svc.success, selects: svc.success ? svc.data.spec.selector[POD_TEMPLATE_HASH] : undefined });
    }
    live.set(m.rollout, { rollout, services });
  }
  return live;
}

async function snapshot(client: ObjectSource, name: string): Promise<string> {
  const group = await readGroup(client, name);
  return renderTree(group, await readMembers(client, group));
}

async function request(flags: KubeFlags, name: string, make: (g: RolloutGroup) => RequestResult): Promise<void> {
  const client = clientFor(flags);
  const result = make(await readGroup(client, name));
  if (!result.ok) throw new CommandFailure(result.problem);
  await client.annotateGroup(name, result.annotations);
  process.stdout.write(`rolloutgroup '${name}': ${result.summary}\n`);
}

function listTable(groups: readonly unknown[], allNamespaces: boolean): string {
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
  return table.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
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
    .option('--interval <duration>', 'with --watch, the least time between two redraws', durationArgument, 1000)
    .action(async (name: string, opts: KubeFlags & { watch?: boolean; interval: number }) => {
      const client = clientFor(opts);
      let last = await snapshot(client, name);
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
          const next = await snapshot(source, name);
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
    .action(async (opts: KubeFlags & { allNamespaces?: boolean }) => {
      const client = clientFor(opts);
      process.stdout.write(listTable(await client.listGroups(opts.allNamespaces === true), opts.allNamespaces === true));
    });

  withKubeFlags(program.command('promote').argument('<name>', 'rolloutgroup name'))
    .description('request the promotion of the release in flight (writes tandem.dev/promote)')
    .option('--release <id>', 'promote this release id only (default: the one in status.release.id)')
    .action((name: string, opts: KubeFlags & { release?: string }) => request(opts, name, (g) => promoteRequest(g, opts.release)));

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
    .option('--timeout <duration>', 'give up after this long, e.g. 10m (0: wait forever)', durationArgument, 0)
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

  return program;
}

/**
 * Runs a program, turning a user-facing failure into one line on stderr and its exit code. Anything
 * else is a bug (or the controller failing) and keeps its stack trace.
 */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (!(err instanceof CommandFailure || err instanceof CliClientError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = err instanceof CommandFailure ? err.exitCode : 1;
  }
}
