/**
 * Issue 18: `kubectl-rolloutgroup` as a single executable (`npm run plugin:binary`), run where no
 * Node is on PATH, directly and through kubectl, against the real API server; its krew archive and
 * manifest agree with each other.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

const OUT = mkdtempSync(join(tmpdir(), 'tandem-plugin-binary-'));
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
/** PATH for the runs: kubectl's own directory copy and the plugin, and nothing that holds a node. */
const bin = mkdtempSync(join(tmpdir(), 'tandem-plugin-path-'));
let s: Scenario | undefined;

beforeAll(() => {
  execFileSync('npm', ['run', 'plugin:binary'], { env: { ...process.env, TANDEM_PLUGIN_OUT: OUT }, stdio: ['ignore', 'inherit', 'inherit'] });
  copyFileSync(join(OUT, 'kubectl-rolloutgroup'), join(bin, 'kubectl-rolloutgroup'));
  copyFileSync(inject('kubectl'), join(bin, 'kubectl'));
  execFileSync('chmod', ['+x', join(bin, 'kubectl-rolloutgroup'), join(bin, 'kubectl')]);
}, 600_000);
afterAll(async () => {
  await s?.cleanup();
});

/** Runs a program with PATH holding only `bin` (no node, no sh) and an empty environment otherwise. */
function run(program: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(join(bin, program), args, { encoding: 'utf8', env: { PATH: bin, HOME: OUT }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kubectl-rolloutgroup, the single executable', () => {
  it('needs no Node on PATH: version', () => {
    expect(spawnSync('node', ['--version'], { env: { PATH: bin } }).error).toBeDefined(); // there is none to find
    const r = run('kubectl-rolloutgroup', ['version', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ version, node: expect.stringMatching(/^v24\./) });
  });

  it('get and list against the real API server, directly and as `kubectl rolloutgroup`', async () => {
    s = await Scenario.create('binary', 'loans', ['interest', 'loan']);
    const sc = s;
    for (const f of ['interest', 'loan', 'group']) await sc.kube.applyFile(sc.ns, `examples/loan-interest/${f}.yaml`);
    sc.startController();
    await sc.waitSteady();
    const kube = ['-n', sc.ns, '--kubeconfig', inject('kubeconfig')];

    const json = run('kubectl-rolloutgroup', ['get', 'loans', ...kube, '-o', 'json']);
    expect(json.stderr).toBe('');
    const g = JSON.parse(json.stdout) as { metadata: { name: string; namespace: string }; status: { phase: string } };
    expect(g).toMatchObject({ metadata: { name: 'loans', namespace: sc.ns }, status: { phase: 'Healthy' } });

    const view = run('kubectl', ['rolloutgroup', 'get', 'loans', ...kube]);
    expect(view.stderr).toBe('');
    expect(view.status).toBe(0);
    expect(view.stdout).toContain(`Namespace:    ${sc.ns}`);
    expect(view.stdout).toMatch(/├── 1\. loan {2}BlueGreen {2}Healthy/);
    expect(view.stdout).toMatch(/└── 2\. interest {2}BlueGreen {2}Healthy/);

    const list = run('kubectl', ['rolloutgroup', 'list', ...kube]);
    expect(list.stdout.split('\n')[1]).toMatch(/^loans\s+Lockstep\s+Healthy/);
    const missing = run('kubectl-rolloutgroup', ['get', 'nothing', ...kube]);
    expect(missing).toMatchObject({ status: 1, stderr: `error: rolloutgroup ${sc.ns}/nothing not found\n` });

    // The dashboard's UI rides in the executable as assets: the page and its script are served.
    const dash = spawn(join(bin, 'kubectl-rolloutgroup'), ['dashboard', '--port', '0', ...kube], { env: { PATH: bin, HOME: OUT } });
    let out = '';
    dash.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await waitFor('the dashboard to listen', async () => /Tandem dashboard at (\S+) /.exec(out)?.[1], { timeoutMs: 60_000 });
      const page = await (await fetch(url)).text();
      const script = /src="\/(assets\/[^"]+\.js)"/.exec(page)?.[1];
      expect(script).toBeDefined();
      expect((await fetch(`${url}${script}`)).status).toBe(200);
    } finally {
      dash.kill('SIGTERM');
    }
  });

  it('the krew archive holds the executable and a LICENSE; the manifest names its sha256', () => {
    const archive = `kubectl-rolloutgroup-linux-${process.arch === 'arm64' ? 'arm64' : 'amd64'}.tar.gz`;
    const sha256 = createHash('sha256').update(readFileSync(join(OUT, archive))).digest('hex');
    expect(readFileSync(join(OUT, `${archive}.sha256`), 'utf8')).toBe(`${sha256}  ${archive}\n`);
    expect(execFileSync('tar', ['-tzf', join(OUT, archive)], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual(['LICENSE', 'kubectl-rolloutgroup']);
    const unpacked = mkdtempSync(join(tmpdir(), 'tandem-krew-archive-'));
    execFileSync('tar', ['-xzf', join(OUT, archive), '-C', unpacked]);
    expect(createHash('sha256').update(readFileSync(join(unpacked, 'kubectl-rolloutgroup'))).digest('hex')).toBe(createHash('sha256').update(readFileSync(join(OUT, 'kubectl-rolloutgroup'))).digest('hex'));

    const manifest = parse(readFileSync(join(OUT, 'rolloutgroup.yaml'), 'utf8')) as any;
    expect(manifest).toMatchObject({ apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: { name: 'rolloutgroup' }, spec: { version: `v${version}` } });
    expect(manifest.spec.platforms).toEqual([
      {
        selector: { matchLabels: { os: 'linux', arch: process.arch === 'arm64' ? 'arm64' : 'amd64' } },
        uri: `https://github.com/tandem-dev/tandem/releases/download/v${version}/${archive}`,
        sha256,
        bin: 'kubectl-rolloutgroup',
        files: [{ from: 'kubectl-rolloutgroup', to: '.' }, { from: 'LICENSE', to: '.' }],
      },
    ]);
    expect(JSON.stringify(manifest)).not.toContain('{{');
  });
});
