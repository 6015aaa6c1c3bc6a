/**
 * The real Argo CD beside the local control plane (`cluster.sh up --argocd`): its CLI against the
 * local argocd-server, its REST API for what the CLI only prints, and a loopback Git repository
 * that tests commit to, served by git daemon.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ARGOCD } from '../../support/argocd-cli.ts';
import type { TestKube } from './kube.ts';

export const APPS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' } as const;
export const ARGOCD_NAMESPACE = 'argocd';

export interface ArgocdStack {
  readonly server: string;
  readonly config: string;
  readonly gitUrl: string;
  readonly gitDir: string;
}

/** Adds Argo CD to the running cluster (idempotent) and returns where it listens. */
export function argocdUp(): ArgocdStack {
  const out = execFileSync('bash', ['test/cluster/cluster.sh', 'up', '--argocd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const value = (key: string) => {
    const m = new RegExp(`^${key}=(.+)$`, 'm').exec(out);
    if (!m) throw new Error(`cluster.sh up --argocd printed no ${key}:\n${out}`);
    return m[1]!.trim();
  };
  return { server: value('ARGOCD_SERVER'), config: value('ARGOCD_CONFIG'), gitUrl: value('ARGOCD_GIT'), gitDir: value('ARGOCD_GIT_DIR') };
}

/** The `argocd` CLI, logged in to the local server (the config `cluster.sh` wrote). */
export function argocd(stack: ArgocdStack, ...args: string[]): string {
  return execFileSync(ARGOCD, ['--config', stack.config, ...args], { encoding: 'utf8', env: { ...process.env, ARGOCD_BINARY_NAME: 'argocd' } });
}

/** GET on the server's REST API with the CLI's session token. */
export async function argocdApi(stack: ArgocdStack, path: string): Promise<any> {
  const cfg = parse(readFileSync(stack.config, 'utf8')) as { users: { 'auth-token': string }[] };
  const res = await fetch(`http://${stack.server}${path}`, { headers: { authorization: `Bearer ${cfg.users[0]!['auth-token']}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Argo CD's health of one resource of an app, from the app's resource tree as the UI shows it. */
export async function resourceHealth(stack: ArgocdStack, app: string, kind: string, name: string): Promise<{ status?: string; message?: string } | undefined> {
  const tree = await argocdApi(stack, `/api/v1/applications/${app}/resource-tree`);
  return (tree.nodes as any[]).find((n) => n.kind === kind && n.name === name)?.health;
}

/** A Git repository served by the stack's git daemon; tests write manifests and commit. */
export class GitRepo {
  readonly dir: string;
  readonly url: string;

  constructor(stack: ArgocdStack, name: string) {
    this.dir = join(stack.gitDir, name);
    this.url = `${stack.gitUrl}/${name}`;
    mkdirSync(this.dir, { recursive: true });
    this.git('init', '-q', '-b', 'main');
  }

  private git(...args: string[]): string {
    return execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@tandem.invalid', ...args], { cwd: this.dir, encoding: 'utf8' });
  }

  /** Writes the files and commits them; returns the new commit's SHA. */
  commit(message: string, files: Record<string, string>): string {
    for (const [path, text] of Object.entries(files)) writeFileSync(join(this.dir, path), text);
    this.git('add', '-A');
    this.git('commit', '-q', '-m', message);
    return this.git('rev-parse', 'HEAD').trim();
  }
}

/** One resource's result in a sync operation: applied in the Sync phase, or a hook. */
export interface SyncResult {
  kind: string;
  name: string;
  syncPhase?: string;
  hookType?: string;
  hookPhase?: string;
  status?: string;
  message?: string;
}

export interface AppObj {
  metadata: { name: string; resourceVersion: string };
  spec: Record<string, any>;
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string; message?: string };
    operationState?: {
      phase?: string;
      message?: string;
      startedAt?: string;
      finishedAt?: string;
      syncResult?: { revision?: string; resources?: SyncResult[] };
      operation?: { initiatedBy?: { automated?: boolean }; sync?: { revision?: string } };
    };
    history?: { id: number; revision: string; deployedAt: string }[];
    resources?: { kind: string; name: string; status?: string }[];
  };
}

/** Every state of one Application, as its watch delivered them. */
export class AppRecorder {
  readonly states: AppObj[] = [];
  private readonly lw: ListWatch<KubernetesObject>;

  private constructor(lw: ListWatch<KubernetesObject>) {
    this.lw = lw;
  }

  static async start(kube: TestKube, name: string): Promise<AppRecorder> {
    const lw = new ListWatch<KubernetesObject>(
      `/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NAMESPACE}/applications`,
      new Watch(kube.kc),
      () => kube.custom.listNamespacedCustomObject({ ...APPS, namespace: ARGOCD_NAMESPACE }) as Promise<KubernetesListObject<KubernetesObject>>,
      false,
    );
    const r = new AppRecorder(lw);
    const keep = (o: KubernetesObject) => {
      if (o.metadata?.name === name) r.states.push(JSON.parse(JSON.stringify(o)) as AppObj);
    };
    lw.on('add', keep);
    lw.on('update', keep);
    lw.on('error', () => setTimeout(() => void lw.start(), 500));
    await lw.start();
    return r;
  }

  /** The sync operations that started after state `from` was recorded, each as last seen. */
  operationsSince(from: number): { startedAt: string; phase: string | undefined; revision: string | undefined; automated: boolean }[] {
    const before = new Set(this.states.slice(0, from + 1).map((a) => a.status?.operationState?.startedAt));
    const seen = new Map<string, { startedAt: string; phase: string | undefined; revision: string | undefined; automated: boolean }>();
    for (const a of this.states.slice(from + 1)) {
      const op = a.status?.operationState;
      if (!op?.startedAt || before.has(op.startedAt)) continue;
      seen.set(op.startedAt, { startedAt: op.startedAt, phase: op.phase, revision: op.syncResult?.revision, automated: op.operation?.initiatedBy?.automated ?? false });
    }
    return [...seen.values()];
  }

  async stop(): Promise<void> {
    await this.lw.stop();
  }
}
