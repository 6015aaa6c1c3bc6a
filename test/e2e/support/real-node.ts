/**
 * The real node in e2e tests (cluster.sh real-node): whether it can run here, starting it, the
 * example manifests in other strategies, and live traffic through several Services at once, counted
 * in one place for every real-node scenario.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { formatPairs, LiveTraffic, pairOf, pairsBySecond, type Answer } from '../../../examples/real-node/live-traffic.ts';
import { LOG_DIR } from './controller-process.ts';
import { selectorChanges } from './invariants.ts';
import type { Recorder } from './recorder.ts';
import { waitFor } from './wait.ts';

const cluster = (...args: string[]) => ['test/cluster/cluster.sh', ...args];

/** Why this machine cannot run a real node at all (not root, packages missing), or undefined when it can. */
export function realNodeCannotRun(): string | undefined {
  const check = spawnSync('bash', cluster('real-node', 'check'), { encoding: 'utf8' });
  return check.status === 3 ? check.stdout.trim() : undefined;
}

/** Starts the real node (or reuses it) and returns its network namespace. */
export function realNodeUp(): string {
  const started = performance.now();
  const out = execFileSync('bash', cluster('real-node', 'up'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const netns = /REAL_NODE_NETNS=(\S+)/.exec(out)![1]!;
  console.log(`[e2e real-node] real node up in ${((performance.now() - started) / 1000).toFixed(1)}s (netns ${netns})`);
  return netns;
}

/** A manifest with `edit` applied to each of its documents (parsed YAML), for the examples' variants. */
function editDocuments(manifest: string, edit: (o: any) => void): string {
  return parseAllDocuments(manifest).map((d) => d.toJS() as any).filter(Boolean).map((o) => {
    edit(o);
    return stringify(o);
  }).join('---\n');
}

/**
 * An `examples/real-node` blue-green manifest as a basic canary: the Services become `<app>-stable`
 * and `<app>-canary`, the Rollout gets four replicas and one `setWeight` + `pause: {}` per weight
 * (each pause a Lockstep barrier), and no unavailable pod while it moves. The pod template is the
 * example's, unchanged.
 */
export function asCanary(manifest: string, weights: readonly number[]): string {
  return editDocuments(manifest, (o) => {
    if (o.kind === 'Service') o.metadata.name = String(o.metadata.name).replace(/-active$/, '-stable').replace(/-preview$/, '-canary');
    if (o.kind !== 'Rollout') return;
    const app = o.metadata.name as string;
    o.spec.replicas = 4;
    o.spec.strategy = {
      canary: {
        stableService: `${app}-stable`,
        canaryService: `${app}-canary`,
        // Without it Argo may scale the stable pods down before the new revision is fully
        // available, while the stable Service still selects the old one: no endpoint (seen here).
        // Even with it, the last stable pod goes a reconcile before the switch: the examples'
        // preStop sleep bridges that.
        maxUnavailable: 0,
        steps: weights.flatMap((w) => [{ setWeight: w }, { pause: {} }]),
      },
    };
  });
}

/** An `examples/real-node` blue-green manifest whose Rollout runs the AnalysisTemplate `template` after its promotion. */
export function withPostPromotionAnalysis(manifest: string, template: string): string {
  return editDocuments(manifest, (o) => {
    if (o.kind === 'Rollout') o.spec.strategy.blueGreen.postPromotionAnalysis = { templates: [{ templateName: template }] };
  });
}

/** Which version pair answered: both versions known and different is a mismatch. */
export const mismatched = (a: Answer): boolean => a.loan !== undefined && a.interest !== undefined && a.loan !== a.interest;
const at = (t: number) => new Date(t).toISOString().slice(11, 23);

/**
 * Traffic at `rate` requests/s to each named Service URL at once, from inside the node's network
 * namespace (one examples/traffic.ts each). `stop()` prints the counts per Service, in total and
 * second by second, and writes every answer to the e2e log directory.
 */
export class ServiceTraffic {
  private readonly streams: ReadonlyMap<string, LiveTraffic>;

  private constructor(streams: ReadonlyMap<string, LiveTraffic>) {
    this.streams = streams;
  }

  static start(netns: string, urls: Readonly<Record<string, string>>, options: { rate?: number; maxSeconds?: number } = {}): ServiceTraffic {
    return new ServiceTraffic(new Map(Object.entries(urls).map(([name, url]) => [name, LiveTraffic.start(netns, url, options)])));
  }

  get names(): string[] {
    return [...this.streams.keys()];
  }

  answers(name: string): readonly Answer[] {
    const s = this.streams.get(name);
    if (!s) throw new Error(`no traffic named ${name}`);
    return s.answers;
  }

  count(name: string, pred: (a: Answer) => boolean): number {
    return this.answers(name).filter(pred).length;
  }

  /** Answers through `name` sent at or after `since` from the pair `pair` (`2.0→2.0`). */
  countSince(name: string, since: number, pair: string, pred: (a: Answer) => boolean = () => true): number {
    return this.count(name, (a) => a.t >= since && pairOf(a) === pair && pred(a));
  }

  /** Every mismatched answer through any Service, but those `excepted`, as `time service pair via url`. */
  mismatches(excepted: (name: string, a: Answer) => boolean = () => false): string[] {
    return this.names.flatMap((n) => this.answers(n).filter((a) => mismatched(a) && !excepted(n, a)).map((a) => `${at(a.t)} ${n} ${pairOf(a)} via ${a.url}`));
  }

  /**
   * Failed requests through `name` after its first answer (every request fails until kube-proxy has
   * programmed a new Service, tens of ms), but those `excepted`; also fails when the Service never
   * answered before `by`.
   */
  errorsAfterFirstAnswer(name: string, by: number, excepted: (a: Answer) => boolean = () => false): string[] {
    const answers = this.answers(name);
    const first = answers.findIndex((a) => !a.error);
    if (first < 0 || answers[first]!.t >= by) return [`${name} gave no answer before ${at(by)}`];
    return answers.slice(first).filter((a) => a.error && !excepted(a)).map((a) => `${at(a.t)} ${name} ${a.error}`);
  }

  /** Requests per second through `name` over its whole run. */
  rate(name: string): number {
    const a = this.answers(name);
    return a.length / Math.max(0.001, (a.at(-1)!.t - a[0]!.t) / 1000);
  }

  /** Stops every stream and prints (and writes, as `<file>-<name>.ndjson`) what each one saw. */
  async stop(file: string): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => s.stop()));
    const bySecond = new Map<number, string[]>();
    for (const name of this.names) {
      const answers = this.answers(name);
      const totals = new Map<string, number>();
      for (const a of answers) totals.set(pairOf(a), (totals.get(pairOf(a)) ?? 0) + 1);
      console.log(`[e2e real-node] ${name}: ${answers.length} answers at ${this.rate(name).toFixed(1)}/s: ${formatPairs(totals)}; mismatched ${answers.filter(mismatched).length}`);
      for (const { second, pairs } of pairsBySecond(answers)) bySecond.set(second, [...(bySecond.get(second) ?? []), `${name}: ${formatPairs(pairs)}`]);
      const errors = [...new Set(answers.filter((a) => a.error).map((a) => a.error))];
      if (errors.length) console.log(`[e2e real-node] ${name} errors: ${errors.slice(0, 10).join(' | ')}`);
      writeFileSync(`${LOG_DIR}/${file}-${name}.ndjson`, answers.map((a) => JSON.stringify(a)).join('\n'));
    }
    for (const [second, lines] of [...bySecond].sort(([a], [b]) => a - b)) {
      console.log(`  ${new Date(second * 1000).toISOString().slice(11, 19)}  ${lines.join('  |  ')}`);
    }
  }
}

/** The node's IP inside its network namespace (real-node.sh NODE_IP): where pods reach node-level services. */
export const NODE_IP = '10.245.0.1';

export interface NodeBroker {
  /** For this process, on the host's loopback. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * RabbitMQ for the real node's pods: test/apps/rabbitmq.sh's broker on the host's 127.0.0.1 (its
 * state in the e2e log directory, its ports TANDEM_CLUSTER_PORT_BASE + 20…27), reached from the pod
 * network at NODE_IP:5672 through two socat relays joined by a unix socket, as the node reaches the
 * apiserver: nothing listens on a host address other than loopback, and the pod network still has
 * no route out. The broker sees the relay's loopback connection, so `guest` may log in.
 */
export async function nodeBroker(netns: string): Promise<NodeBroker> {
  const env = {
    ...process.env,
    TANDEM_RABBITMQ_DIR: join(LOG_DIR, 'rabbitmq'),
    TANDEM_RABBITMQ_PORT: String(Number(process.env['TANDEM_CLUSTER_PORT_BASE'] ?? '27400') + 20),
  };
  const rabbit = (cmd: string) => execFileSync('bash', ['test/apps/rabbitmq.sh', cmd], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
  rabbit('install');
  const url = rabbit('start');
  const port = new URL(url).port;
  const dir = mkdtempSync(join(tmpdir(), 'tandem-amqp-relay-'));
  const sock = join(dir, 'amqp.sock');
  // Each relay in its own process group, so that stop() ends it with the children it forked.
  const relay = (cmd: string, args: string[]) => spawn(cmd, args, { detached: true, stdio: 'ignore' });
  const relays = [
    relay('socat', [`UNIX-LISTEN:${sock},fork`, `TCP:127.0.0.1:${port}`]),
    relay('nsenter', [`--net=/run/netns/${netns}`, '--', 'socat', `TCP-LISTEN:5672,bind=${NODE_IP},reuseaddr,fork`, `UNIX-CONNECT:${sock}`]),
  ];
  const stop = async () => {
    for (const r of relays) if (r.exitCode === null && r.pid) process.kill(-r.pid, 'SIGTERM');
    rabbit('stop');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`the AMQP relay listening on ${NODE_IP}:5672 in ${netns}`, async () =>
      relays.every((r) => r.exitCode === null) &&
      spawnSync('nsenter', [`--net=/run/netns/${netns}`, '--', 'ss', '-Hltn', `sport = :5672`], { encoding: 'utf8' }).stdout.includes(`${NODE_IP}:5672`), { timeoutMs: 30_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/**
 * The window the planner's pins do not cover (docs/real-node.md): Argo points a preview (canary)
 * Service at its new ReplicaSet only once that is available, so had the dependent's preview been
 * available before its dependency's, the new dependent would reach the dependency's preview while it
 * still selected the old revision. The window, if the recorded history has one: from the dependent
 * preview's switch until `stream`'s first `newPair` answer after the dependency preview's switch.
 * `excepts` says whether an answer is the `window pair` (new → old) through `stream` in it.
 */
export function previewWindow(
  recorder: Recorder,
  traffic: ServiceTraffic,
  stream: string,
  services: { dependent: string; dependency: string },
  pairs: { inWindow: string; after: string },
): { from: number; to: number; answers: number; excepts: (name: string, a: Answer) => boolean } {
  const switchedAt = (svc: string) => {
    const change = selectorChanges(recorder).find((c) => c.service === svc);
    if (!change) throw new Error(`the recorder saw no switch of ${svc}`);
    return recorder.events[change.seq]!.at;
  };
  const [from, dependencyAt] = [switchedAt(services.dependent), switchedAt(services.dependency)];
  const to = from < dependencyAt ? traffic.answers(stream).find((a) => a.t > dependencyAt && pairOf(a) === pairs.after)?.t ?? Infinity : from;
  const excepts = (name: string, a: Answer) => name === stream && a.t >= from && a.t < to && pairOf(a) === pairs.inWindow;
  const answers = traffic.count(stream, (a) => excepts(stream, a));
  console.log(`[e2e real-node] ${services.dependent} switched ${at(from)}, ${services.dependency} ${at(dependencyAt)}: ${answers} answers ${pairs.inWindow} through ${stream} in that window`);
  return { from, to, answers, excepts };
}

/**
 * The window at the end of a cutover (docs/real-node.md): kube-proxy follows the dependency's
 * stable (active) Service switch a moment after its object moved, so a new dependent pod unpinned
 * in that moment would reach the old dependency through it. Tandem removed the pins on the object;
 * it now waits until the Service's EndpointSlices list only new pods and the settle delay has run
 * (docs/design.md, "The data plane"), and the tests require this window to hold no answer.
 * The window, from the recorded history: from the first pod of the dependent's new version seen
 * without the pin it had, until no pod of the dependency's old version is left. `excepts` says
 * whether an answer is `newVersion→oldVersion` through the unpinned `address` in it.
 */
export function unpinWindow(
  recorder: Recorder,
  traffic: ServiceTraffic,
  edge: { dependent: string; dependency: string; annotation: string; address: string },
  versions: { old: string; new: string },
  /** Instead of the old dependency's end: the window's end the test measured (a rollback keeps the old pods). */
  until?: number,
): { from: number; to: number; answers: number; excepts: (name: string, a: Answer) => boolean } {
  const version = (pod: any) => { const image = String(pod.spec?.containers?.[0]?.image ?? ''); return image.slice(image.lastIndexOf(':') + 1); };
  const pinned = new Set<string>();
  let from = Infinity;
  let to = -Infinity;
  for (const { event, state } of recorder.states()) {
    for (const pod of state.Pod.values()) {
      if (pod.metadata.labels?.app !== edge.dependent || version(pod) !== versions.new) continue;
      if (pod.metadata.annotations?.[`pin.${edge.annotation}`]) pinned.add(pod.metadata.name);
      else if (pinned.has(pod.metadata.name) && from === Infinity) from = event.at;
    }
    const oldLeft = [...state.Pod.values()].some((p) => p.metadata.labels?.app === edge.dependency && version(p) === versions.old);
    if (oldLeft) to = Infinity;
    else if (to === Infinity) to = event.at;
  }
  if (until !== undefined) to = until;
  const pair = `${versions.new}→${versions.old}`;
  const excepts = (_name: string, a: Answer) => a.t >= from && a.t <= to && a.url === edge.address && pairOf(a) === pair;
  const answers = traffic.names.reduce((n, name) => n + traffic.count(name, (a) => excepts(name, a)), 0);
  console.log(`[e2e real-node] unpinned ${Number.isFinite(from) ? at(from) : "never (the new pods went with their pins)"}, ${until !== undefined ? 'window end' : `the last ${edge.dependency} ${versions.old} pod gone`} ${Number.isFinite(to) ? at(to) : 'never'}: ${answers} answers ${pair} via ${edge.address} in that window`);
  return { from, to, answers, excepts };
}
