/** Issue 3: the cluster script itself — a second, private cluster goes up, is reused, and goes down clean. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blueGreenApp } from './support/apps.ts';
import { TestKube } from './support/kube.ts';
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

describe('npm run cluster', () => {
  it('up reaches a ready cluster, is idempotent, runs a blue-green Rollout, and down leaves no process', async () => {
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
    const kubectl = execFileSync('bash', ['-c', '. test/cluster/versions.sh && echo "$STACK_DIR/bin/kubectl"'], { encoding: 'utf8' }).trim();
    expect(execFileSync(kubectl, ['--kubeconfig', `${dir}/kubeconfig`, 'get', 'nodes', '-o', 'name'], { encoding: 'utf8' }).trim()).toBe('node/kwok-node-0');

    const down = cluster('down');
    expect(down.status, down.stderr).toBe(0);
    await waitFor('no process of the private cluster left', async () => processesUsing(dir).length === 0, { timeoutMs: 15_000 });
    expect(cluster('status').status).not.toBe(0);
  });
});
