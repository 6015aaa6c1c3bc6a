/** Issue 3: the cluster script itself — a second, private cluster goes up, is reused, and goes down clean. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blueGreenApp } from './support/apps.ts';
import { ControllerProcess } from './support/controller-process.ts';
import { ARGO, TANDEM, TestKube } from './support/kube.ts';
import { waitFor } from './support/wait.ts';

const dir = join(mkdtempSync(join(tmpdir(), 'tandem-cluster-')), 'state');
const env = { ...process.env, TANDEM_CLUSTER_DIR: dir, TANDEM_CLUSTER_PORT_BASE: '28400' };
const cluster = (cmd: string) => spawnSync('bash', ['test/cluster/cluster.sh', cmd], { env, encoding: 'utf8' });

/** Processes whose command line names the private state dir. */
function processesUsing(path: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
        const state = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.[0];
        return cmd.includes(path) && state !== 'Z' ? [`${p}: ${cmd}`] : [];
      } catch {
        return [];
      }
    });
}

afterAll(() => {
  cluster('down');
});

/** SIGKILLs one component of the private cluster and starts it again with the same arguments and environment. */
async function restartComponent(name: string) {
  const pidFile = `${dir}/pids/${name}`;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const env = Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  process.kill(pid, 'SIGKILL');
  await waitFor(`old ${name} gone`, async () => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] === 'Z';
    } catch {
      return true;
    }
  }, { timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 2_000)); // down for a while: clients' watches and lists fail
  const log = openSync(`${dir}/logs/${name}.log`, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log], env });
  child.unref();
  writeFileSync(pidFile, String(child.pid)); // so that `down` stops the new one
}

/** The API server dies for a few seconds; Tandem's watches and lists fail meanwhile. */
async function restartApiServer(kube: TestKube) {
  await restartComponent('kube-apiserver');
  await waitFor('apiserver serving Rollouts and RolloutGroups again', async () => {
    await kube.custom.listClusterCustomObject({ ...ARGO });
    await kube.custom.listClusterCustomObject({ ...TANDEM });
    return true;
  }, { timeoutMs: 60_000, dump: async () => readFileSync(`${dir}/logs/kube-apiserver.log`, 'utf8').split('\n').slice(-15).join('\n') });
  // Argo's work queue backs off per Rollout (up to minutes) after failing while the API server was
  // gone; restart it, as an operator would, so that this test measures Tandem's recovery alone.
  await restartComponent('rollouts-controller');
}

describe('npm run cluster', () => {
  it('up reaches a ready cluster, is idempotent, and runs a blue-green Rollout', async () => {
    const up = cluster('up');
    expect(up.status, up.stderr).toBe(0);
    const last = up.stdout.trim().split('\n').at(-1)!;
    expect(last).toBe(`KUBECONFIG=${dir}/kubeconfig`);
    expect(cluster('status').status).toBe(0);
    const pids = processesUsing(dir);
    expect(pids.length).toBeGreaterThanOrEqual(6);

    const again = cluster('up');
    expect(again.status).toBe(0);
    expect(again.stdout.trim().split('\n').at(-1)).toBe(last);
    expect(processesUsing(dir)).toEqual(pids);

    const kube = new TestKube(`${dir}/kubeconfig`);
    const ns = await kube.namespace('script');
    await kube.apply(ns, blueGreenApp('web', '1.0'));
    await waitFor('web Healthy with ready pods', async () => {
      const r = await kube.rollout(ns, 'web');
      const pods = (await kube.core.listNamespacedPod({ namespace: ns })).items;
      return (
        r.status?.['phase'] === 'Healthy' &&
        pods.length === 2 &&
        pods.every((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      );
    });
    expect(execFileSync(kubectl(), ['--kubeconfig', `${dir}/kubeconfig`, 'get', 'nodes', '-o', 'name'], { encoding: 'utf8' }).trim()).toBe('node/kwok-node-0');
  });

  it('the controller relists after its watches fail (kube-apiserver killed and restarted) and still releases', async () => {
    const kube = new TestKube(`${dir}/kubeconfig`);
    execFileSync(kubectl(), ['--kubeconfig', `${dir}/kubeconfig`, 'apply', '--server-side', '-f', 'crds/rolloutgroup.yaml'], { stdio: 'ignore' });
    execFileSync(kubectl(), ['--kubeconfig', `${dir}/kubeconfig`, 'wait', '--for=condition=Established', 'crd/rolloutgroups.tandem.dev'], { stdio: 'ignore' });
    const ns = await kube.namespace('relist');
    for (const f of ['interest', 'loan', 'group']) await kube.applyFile(ns, `examples/loan-interest/${f}.yaml`);
    const controller = ControllerProcess.start(kube.kubeconfig, ns, 'relist');
    const dump = async () => `${await kube.describe(ns, 'loans', ['interest', 'loan'])}\n${controller.tail(30)}`;
    const phase = (p: string) => waitFor(`loans ${p}`, async () => (await kube.group(ns, 'loans')).status?.phase === p, { dump, timeoutMs: 120_000 });
    try {
      await phase('Healthy');
      await restartApiServer(kube);
      await waitFor('the controller logged a relist', async () => controller.logLines().some((l) => l.includes('informer failed; relisting')), { dump });
      for (const m of ['interest', 'loan']) await kube.setImage(ns, m, `ghcr.io/acme/${m}:2.0`);
      await phase('Paused');
      const id = (await kube.group(ns, 'loans')).status!.release!.id;
      await kube.annotateGroup(ns, 'loans', { 'tandem.dev/promote': id });
      await waitFor('release completed after the restart', async () => {
        const g = await kube.group(ns, 'loans');
        return g.status?.phase === 'Healthy' && !g.status.release;
      }, { dump, timeoutMs: 120_000 });
    } finally {
      await controller.kill('SIGTERM');
    }
  });

  it('down leaves no process behind', async () => {
    const down = cluster('down');
    expect(down.status, down.stderr).toBe(0);
    await waitFor('no process of the private cluster left', async () => processesUsing(dir).length === 0, { timeoutMs: 15_000 });
    expect(cluster('status').status).not.toBe(0);
  });
});

function kubectl(): string {
  return execFileSync('bash', ['-c', '. test/cluster/versions.sh && echo "$STACK_DIR/bin/kubectl"'], { encoding: 'utf8' }).trim();
}
