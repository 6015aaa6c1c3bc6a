/** A namespace with apps, a RolloutGroup and a running controller: the frame of most e2e tests. */
import { execFileSync } from 'node:child_process';
import { inject } from 'vitest';
import { ControllerProcess } from './controller-process.ts';
import { plannedAgain } from './planned-again.ts';
import { TestKube, type GroupObj } from './kube.ts';
import { waitFor } from './wait.ts';

export class Scenario {
  readonly kube: TestKube;
  readonly ns: string;
  readonly group: string;
  readonly members: readonly string[];
  readonly controllers: ControllerProcess[] = [];

  private constructor(kube: TestKube, ns: string, group: string, members: readonly string[]) {
    this.kube = kube;
    this.ns = ns;
    this.group = group;
    this.members = members;
  }

  static async create(prefix: string, group: string, members: readonly string[]): Promise<Scenario> {
    const kube = new TestKube(inject('kubeconfig'));
    return new Scenario(kube, await kube.namespace(prefix), group, members);
  }

  /** The real controller, authenticated as config/rbac's ServiceAccount (see service-account.ts). */
  startController(name = 'controller', args: string[] = [], env: Record<string, string> = {}, kubeconfig = inject('controllerKubeconfig')): ControllerProcess {
    const c = ControllerProcess.start(kubeconfig, this.ns, name, args, env);
    this.controllers.push(c);
    return c;
  }

  get controller(): ControllerProcess {
    const c = this.controllers.at(-1);
    if (!c) throw new Error('no controller started');
    return c;
  }

  /** Group status, member Rollouts and the last controller log lines: what a timeout should show. */
  dump = async (): Promise<string> => {
    const logs = this.controllers.map((c) => `--- ${c.logFile} ---\n${c.tail(30)}`).join('\n');
    return `${await this.kube.describe(this.ns, this.group, this.members)}\n${logs}`;
  };

  waitGroup(what: string, pred: (g: GroupObj) => boolean, timeoutMs = 120_000): Promise<GroupObj> {
    return waitFor(
      `group ${this.group}: ${what}`,
      async () => {
        const g = await this.kube.groupOrUndefined(this.ns, this.group);
        return g && pred(g) ? g : undefined;
      },
      { timeoutMs, dump: this.dump },
    );
  }

  waitPhase(phase: string, timeoutMs = 120_000): Promise<GroupObj> {
    return this.waitGroup(`phase ${phase}`, (g) => g.status?.phase === phase && g.status.observedGeneration === (g.metadata as { generation?: number }).generation, timeoutMs);
  }

  /**
   * Healthy with every member observed by Argo, twice in a row a second apart: Tandem's first wiring
   * write makes a member briefly unobserved, and the group Progressing, right after its first Healthy.
   */
  async waitSteady(timeoutMs = 120_000): Promise<GroupObj> {
    const steadyNow = async () => {
      const g = await this.kube.groupOrUndefined(this.ns, this.group);
      if (g?.status?.phase !== 'Healthy' || g.status.observedGeneration !== (g.metadata as { generation?: number }).generation) return undefined;
      for (const m of this.members) {
        const r = await this.kube.rollout(this.ns, m);
        if (r.status?.['observedGeneration'] !== String(r.metadata.generation) || r.status?.['phase'] !== 'Healthy') return undefined;
      }
      return g;
    };
    return waitFor(
      `group ${this.group}: steady`,
      async () => {
        if (!(await steadyNow())) return undefined;
        await this.plannedAgain();
        return steadyNow();
      },
      { timeoutMs, dump: this.dump },
    );
  }

  /** The controller planned the group again since now, and left it as it is (see planned-again.ts). */
  plannedAgain(): Promise<void> {
    return plannedAgain(this.controller, this.kube, this.ns, [this.group], this.dump);
  }

  kubectl(...args: string[]): string {
    return execFileSync(inject('kubectl'), ['--kubeconfig', this.kube.kubeconfig, '-n', this.ns, ...args], { encoding: 'utf8' });
  }

  async podAnnotations(app: string, hash: string): Promise<Record<string, string>[]> {
    const pods = await this.kube.core.listNamespacedPod({ namespace: this.ns, labelSelector: `app=${app},rollouts-pod-template-hash=${hash}` });
    return pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.annotations ?? {});
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.kill('SIGTERM')));
    await this.kube.deleteNamespace(this.ns);
  }
}

export const serviceUrl = (service: string, ns: string) => `http://${service}.${ns}.svc.cluster.local:8080`;
