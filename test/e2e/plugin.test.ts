/**
 * Issue 6: the `kubectl rolloutgroup` plugin run through kubectl's plugin mechanism, and Argo CD's
 * health check and action discovery run (in Lua 5.1) on the live group at every phase.
 * With TANDEM_CAPTURE_ARGOCD=1 the live objects are written to config/argocd/testdata/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ARGOCD_DIR, action, discovery, health } from '../support/argocd-lua.ts';
import { canaryApp, groupManifest } from './support/apps.ts';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

const PLUGIN = new URL('../../dist/kubectl-rolloutgroup.js', import.meta.url).pathname;
const CAPTURE = process.env['TANDEM_CAPTURE_ARGOCD'] === '1';

/** A directory holding an executable `kubectl-rolloutgroup`, as installing the plugin would make. */
const pluginDir = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-plugin-'));
  const bin = join(dir, 'kubectl-rolloutgroup');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${PLUGIN}" "$@"\n`);
  chmodSync(bin, 0o755);
  // What docs/kubectl-plugin.md tells users to install for `kubectl rolloutgroup <TAB>` (kubectl ≥ 1.26).
  const complete = join(dir, 'kubectl_complete-rolloutgroup');
  writeFileSync(complete, `#!/bin/sh\nexec "${bin}" __complete "$@"\n`);
  chmodSync(complete, 0o755);
  return dir;
})();

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `kubectl rolloutgroup ARGS -n NS --kubeconfig K`: kubectl finds the plugin on PATH and passes the flags on. */
function plugin(ns: string, ...args: string[]): Run {
  const r = spawnSync(inject('kubectl'), ['rolloutgroup', ...args, '-n', ns, '--kubeconfig', inject('kubeconfig')], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${pluginDir}:${process.env['PATH'] ?? ''}` },
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The live group as `kubectl get -o json` shows it, minus managedFields. */
async function liveGroup(s: Scenario): Promise<Record<string, any>> {
  const g = JSON.parse(s.kubectl('get', 'rolloutgroup', s.group, '-o', 'json')) as Record<string, any>;
  delete g['metadata']['managedFields'];
  return g;
}

/** Asserts Argo CD's view of the live group; with capture on, keeps the object as test data. */
async function expectArgoHealth(s: Scenario, capture: string, status: string, disabled?: Record<string, boolean>) {
  const g = await liveGroup(s);
  expect(health(g).status, `${capture}: ${JSON.stringify(g['status'] ?? null)}`).toBe(status);
  if (disabled) expect(discovery(g)).toEqual(disabled);
  if (CAPTURE) writeFileSync(join(ARGOCD_DIR, 'testdata', `${capture}.yaml`), stringify(g));
  return g;
}

/** The object an action should return: the input plus one request annotation (written here, not by Lua). */
function captureActionOutput(g: Record<string, any>, file: string, annotation: string, value: string) {
  if (!CAPTURE) return;
  const out = structuredClone(g);
  out['metadata']['annotations'] = { ...(out['metadata']['annotations'] ?? {}), [annotation]: value };
  writeFileSync(join(ARGOCD_DIR, 'testdata', `${file}.yaml`), stringify(out));
}

/** Polls the live group quickly for a phase that may last only a moment; asserts its health if seen. */
async function catchPhase(s: Scenario, phase: string, capture: string, expected: string, until: (g: Record<string, any>) => boolean) {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    const g = await liveGroup(s);
    if (g['status']?.['phase'] === phase && g['status']['observedGeneration'] === g['metadata']['generation']) {
      expect(health(g).status).toBe(expected);
      if (CAPTURE) writeFileSync(join(ARGOCD_DIR, 'testdata', `${capture}.yaml`), stringify(g));
      return;
    }
    if (until(g)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs an action's Lua on the live group and patches the annotations it set, as Argo CD does with its output. */
async function applyAction(s: Scenario, name: string): Promise<Record<string, any>> {
  const before = await liveGroup(s);
  const acted = action(name, before);
  if (!acted.ok) throw new Error(`${name}: ${acted.error}`);
  const after = (acted.result as { metadata: { annotations: Record<string, string> } }).metadata.annotations;
  const added = Object.fromEntries(Object.entries(after).filter(([k, v]) => before['metadata']['annotations']?.[k] !== v));
  expect(Object.keys(added)).toEqual([`tandem.dev/${name}`]);
  await s.kube.annotateGroup(s.ns, s.group, added);
  return before;
}

/**
 * The controller answered a retry request for this release: the annotation is gone and an event says
 * so. These members are blue-green, so the answer is RetryRefused (see docs/requests.md).
 */
async function retryHandled(s: Scenario, release: string, count: number) {
  await s.waitGroup('retry request handled', (g) => g.metadata.annotations?.['tandem.dev/retry'] === undefined, 60_000);
  await waitFor(`RetryRefused event #${count}`, async () => {
    const retried = (await s.kube.events(s.ns, s.group)).filter((e) => e.reason === 'RetryRefused');
    return retried.length === count && retried.every((e) => e.message.startsWith('retry request for release ')) && retried.some((e) => e.message.includes(release));
  }, { timeoutMs: 60_000, dump: s.dump });
}

let scenarios: Scenario[] = [];
afterAll(async () => {
  await Promise.all(scenarios.map((s) => s.cleanup()));
  scenarios = [];
});

async function loans(prefix: string): Promise<Scenario> {
  const s = await Scenario.create(prefix, 'loans', ['interest', 'loan']);
  scenarios.push(s);
  for (const f of ['interest', 'loan', 'group']) await s.kube.applyFile(s.ns, `examples/loan-interest/${f}.yaml`);
  return s;
}

describe('kubectl rolloutgroup', () => {
  it('shows a release, stops at the gate, promotes it, and reports an abort as Degraded', async () => {
    const s = await loans('plugin');
    // Before any controller: no status.
    await expectArgoHealth(s, 'progressing_noStatus', 'Progressing', { promote: true, abort: true, retry: true });
    s.startController();
    await s.waitSteady();
    await expectArgoHealth(s, 'healthy', 'Healthy', { promote: true, abort: true, retry: true });

    // get -w redraws on change: started while Healthy, it must show the release reach the gate.
    const watch = spawn(inject('kubectl'), ['rolloutgroup', 'get', 'loans', '-w', '--interval', '200ms', '-n', s.ns, '--kubeconfig', inject('kubeconfig')], {
      env: { ...process.env, PATH: `${pluginDir}:${process.env['PATH'] ?? ''}` },
    });
    let watched = '';
    watch.stdout.on('data', (b: Buffer) => (watched += b.toString()));
    await waitFor('get -w shows Healthy', async () => watched.includes('Phase:        ✔ Healthy'));

    for (const m of s.members) await s.kube.setImage(s.ns, m, `ghcr.io/acme/${m}:2.0`);
    // The previews come up in seconds: the Progressing phase is checked when it lasts long enough to be seen.
    await catchPhase(s, 'Progressing', 'progressing_waitingForArgo', 'Progressing', (g) => g['status']?.['phase'] === 'Paused');

    // status --until Paused returns at the gate, exit 0.
    const gate = plugin(s.ns, 'status', 'loans', '--until', 'Paused', '--timeout', '2m');
    expect(gate.stderr).toBe('');
    expect(gate.status).toBe(0);
    expect(gate.stdout).toMatch(/^Paused: release \w+ ready: 2\/2 members; waiting for promote$/m);
    const paused = await s.kube.group(s.ns, 'loans');
    try {
      await waitFor('get -w redraws at the gate', async () => watched.includes('Phase:        ॥ Paused'), { timeoutMs: 10_000 });
      expect(watched.split('Name:         loans').length - 1, 'drawn more than once').toBeGreaterThan(1);
    } finally {
      watch.kill();
    }
    const release = paused.status!.release!;
    const atGate = await expectArgoHealth(s, 'suspended_awaitingPromotion', 'Suspended', { promote: false, abort: false, retry: true });
    captureActionOutput(atGate, 'suspended_awaitingPromotion_promoted', 'tandem.dev/promote', release.id);
    captureActionOutput(atGate, 'suspended_awaitingPromotion_aborted', 'tandem.dev/abort', 'requested from Argo CD');

    // get: the tree, members in promotion order (loan depends on interest: loan first), live revisions.
    const got = plugin(s.ns, 'get', 'loans');
    expect(got.status).toBe(0);
    const out = got.stdout;
    expect(out).toMatch(/^Phase:\s+॥ Paused$/m);
    expect(out).toContain(`Release:      ${release.id} (`);
    expect(out.indexOf('1. loan  BlueGreen  Paused  Ready')).toBeGreaterThan(0);
    expect(out.indexOf('2. interest  BlueGreen  Paused  Ready')).toBeGreaterThan(out.indexOf('1. loan'));
    for (const m of s.members) {
      const r = await s.kube.rollout(s.ns, m);
      const stable = r.status!['stableRS'] as string;
      const desired = r.status!['currentPodHash'] as string;
      expect(stable).not.toBe(desired);
      expect(desired).toBe(release.targets.find((t) => t.rollout === m)!.revision);
      const block = out.slice(out.indexOf(`. ${m}  `)).split(/\n(?:├──|└──)/)[0]!;
      expect(block).toContain(`revisions:  stable ${stable}  desired ${desired}`);
      expect(block).toContain(`images:     ghcr.io/acme/${m}:2.0`);
      expect(block).toContain(`active:     ${m}-active → ${stable} (stable)`);
      expect(block).toContain(`preview:    ${m}-preview → ${desired} (desired)`);
    }

    // promote through the plugin completes the release; status waits for Healthy.
    const promoted = plugin(s.ns, 'promote', 'loans');
    expect(promoted.stdout).toBe(`rolloutgroup 'loans': promote of release ${release.id} requested\n`);
    expect(promoted.status).toBe(0);
    await catchPhase(s, 'Promoting', 'progressing_promoting', 'Progressing', (g) => g['status']?.['phase'] === 'Healthy');
    const done = plugin(s.ns, 'status', 'loans', '--timeout', '3m');
    expect(done.status).toBe(0);
    expect(done.stdout).toMatch(/^Healthy: (release \w+ completed; )?2\/2 members stable$/m);
    for (const m of s.members) {
      const r = await s.kube.rollout(s.ns, m);
      expect(r.status!['stableRS']).toBe(release.targets.find((t) => t.rollout === m)!.revision);
      expect(r.status!['blueGreen']['activeSelector']).toBe(r.status!['stableRS']);
    }
    await expectArgoHealth(s, 'healthy_releaseCompleted', 'Healthy', { promote: true, abort: true, retry: true });
    expect(plugin(s.ns, 'promote', 'loans')).toMatchObject({ status: 1, stderr: 'error: rolloutgroup loans has no release in flight; nothing to promote\n' });

    // A second release, promoted by Argo CD's promote action: its output's annotations, patched on.
    await s.kube.setImage(s.ns, 'interest', 'ghcr.io/acme/interest:3.0');
    expect(plugin(s.ns, 'status', 'loans', '--until', 'Paused', '--timeout', '2m').status).toBe(0);
    const before = await applyAction(s, 'promote');
    expect(plugin(s.ns, 'status', 'loans', '--timeout', '3m').status).toBe(0);
    expect((await s.kube.rollout(s.ns, 'interest')).status!['stableRS']).toBe(before['status']['release']['targets'][0]['revision']);

    // A third release, aborted through the plugin: status exits 1 on Degraded.
    await s.kube.setImage(s.ns, 'interest', 'ghcr.io/acme/interest:4.0');
    expect(plugin(s.ns, 'status', 'loans', '--until', 'Paused', '--timeout', '2m').status).toBe(0);
    const aborted = plugin(s.ns, 'abort', 'loans', '--reason', 'bad data in staging');
    expect(aborted.status).toBe(0);
    const degraded = plugin(s.ns, 'status', 'loans', '--timeout', '2m');
    expect(degraded.status).toBe(1);
    expect(degraded.stdout).toContain('Degraded: release');
    expect(degraded.stdout).toContain('abort requested: bad data in staging');
    expect(degraded.stderr).toBe('error: rolloutgroup loans is Degraded\n');
    const abortedGroup = await expectArgoHealth(s, 'degraded_releaseAborted', 'Degraded', { promote: true, abort: true, retry: true });
    captureActionOutput(abortedGroup, 'degraded_releaseAborted_retried', 'tandem.dev/retry', abortedGroup['status']['release']['id']);
    // Argo CD's retry action, applied as Argo CD applies an action's output even though discovery does
    // not offer it for blue-green members: the controller answers the request for this release.
    const retriedId = abortedGroup['status']['release']['id'] as string;
    await applyAction(s, 'retry');
    await retryHandled(s, retriedId, 1);

    // A fourth release: aborted by Argo CD's abort action, retried through the plugin.
    await s.kube.setImage(s.ns, 'interest', 'ghcr.io/acme/interest:5.0');
    expect(plugin(s.ns, 'status', 'loans', '--until', 'Paused', '--timeout', '2m').status).toBe(0);
    await applyAction(s, 'abort');
    const abortedByArgo = plugin(s.ns, 'status', 'loans', '--timeout', '2m');
    expect(abortedByArgo.status).toBe(1);
    expect(abortedByArgo.stdout).toContain('abort requested: requested from Argo CD');
    const fourth = (await s.kube.group(s.ns, 'loans')).status!.release!.id;
    expect(plugin(s.ns, 'retry', 'loans')).toMatchObject({ status: 0, stdout: `rolloutgroup 'loans': retry of release ${fourth} requested\n` });
    await retryHandled(s, fourth, 2);
    await s.kube.setImage(s.ns, 'interest', 'ghcr.io/acme/interest:6.0');
    expect(plugin(s.ns, 'status', 'loans', '--until', 'Paused', '--timeout', '2m').status).toBe(0);
    expect(plugin(s.ns, 'abort', 'loans').status).toBe(0);
    expect(plugin(s.ns, 'status', 'loans', '--timeout', '2m').status).toBe(1);

    const list = plugin(s.ns, 'list');
    expect(list.stdout.split('\n')[1]).toMatch(/^loans\s+Lockstep\s+Degraded\s+\w+\s+\d\/1\s+release \w+ aborted/);

    // The controller gone, a spec change is not observed: Argo CD must not trust the old phase.
    await s.controller.kill('SIGTERM');
    await s.kube.apply(s.ns, groupManifest('loans', [{ rollout: 'interest' }, { rollout: 'loan', dependsOn: ['interest'] }], '  progressDeadlineSeconds: 600\n'));
    await waitFor('generation bumped', async () => {
      const g = await liveGroup(s);
      return g['metadata']['generation'] !== g['status']['observedGeneration'];
    });
    await expectArgoHealth(s, 'progressing_generationNotObserved', 'Progressing');
    const stale = plugin(s.ns, 'status', 'loans', '--timeout', '2s');
    expect(stale.status).toBe(2);
    expect(stale.stdout).toMatch(/^waiting for the controller to observe generation \d+$/m);
  });

  it('reports an invalid group as Degraded to Argo CD and to status', async () => {
    const s = await Scenario.create('plugin-invalid', 'cycle', ['a', 'b']);
    scenarios.push(s);
    await s.kube.applyFile(s.ns, 'examples/loan-interest/interest.yaml');
    await s.kube.applyFile(s.ns, 'examples/loan-interest/loan.yaml');
    await s.kube.apply(s.ns, groupManifest('cycle', [{ rollout: 'interest', dependsOn: ['loan'] }, { rollout: 'loan', dependsOn: ['interest'] }]));
    s.startController();
    await s.waitPhase('Degraded');
    await expectArgoHealth(s, 'degraded_dependencyCycle', 'Degraded', { promote: true, abort: true, retry: true });
    const r = plugin(s.ns, 'status', 'cycle', '--timeout', '1m');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('Degraded: invalid spec: dependency cycle');
  });

  it('says plainly when the group does not exist', async () => {
    const s = await Scenario.create('plugin-missing', 'nope', []);
    scenarios.push(s);
    for (const cmd of [['get', 'nope'], ['status', 'nope'], ['promote', 'nope']]) {
      const r = plugin(s.ns, ...cmd);
      expect(r.status, cmd.join(' ')).toBe(1);
      expect(r.stderr).toBe(`error: rolloutgroup ${s.ns}/nope not found\n`);
    }
    expect(plugin(s.ns, 'list').stdout).toBe('No rolloutgroups found.\n');
  });

  it('takes the namespace from --context, and says plainly when the user may not read groups', async () => {
    const s = await Scenario.create('plugin-rbac', 'loans', []);
    scenarios.push(s);
    await s.kube.apply(s.ns, groupManifest('loans', [{ rollout: 'interest' }]));
    // A kubeconfig with a context per user: the admin (namespace from the context) and a ServiceAccount
    // that no Role grants anything.
    const admin = JSON.parse(s.kubectl('config', 'view', '--raw', '--minify', '-o', 'json')) as Record<string, any>;
    await s.kube.core.createNamespacedServiceAccount({ namespace: s.ns, body: { metadata: { name: 'nobody' } } });
    const token = s.kubectl('create', 'token', 'nobody', '--duration', '10m').trim();
    const cluster = admin['clusters'][0];
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [cluster],
      users: [admin['users'][0], { name: 'nobody', user: { token } }],
      contexts: [
        { name: 'admin-in-ns', context: { cluster: cluster.name, user: admin['users'][0].name, namespace: s.ns } },
        { name: 'nobody', context: { cluster: cluster.name, user: 'nobody', namespace: s.ns } },
      ],
      'current-context': 'nobody',
    };
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'tandem-plugin-kubeconfig-')), 'config');
    writeFileSync(kubeconfig, JSON.stringify(config));
    const raw = (...args: string[]) =>
      spawnSync(inject('kubectl'), ['rolloutgroup', ...args, '--kubeconfig', kubeconfig], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${pluginDir}:${process.env['PATH'] ?? ''}` },
      });

    const list = raw('list', '--context', 'admin-in-ns');
    expect(list.status).toBe(0);
    expect(list.stdout.split('\n')[1]).toMatch(/^loans\s+Lockstep\s+-/);
    const denied = raw('get', 'loans');
    expect(denied.status).toBe(1);
    expect(denied.stderr).toMatch(new RegExp(`^error: rolloutgroup ${s.ns}/loans: forbidden: .*cannot get resource "rolloutgroups"`));
    const promote = raw('promote', 'loans', '--release', 'abc');
    expect(promote.status).toBe(1);
    expect(promote.stderr).toContain('forbidden');
    expect(raw('get', 'loans', '--context', 'prod')).toMatchObject({ status: 1, stderr: 'error: context "prod" does not exist in the kubeconfig\n' });
  });
});

describe('kubectl rolloutgroup: operating a group', () => {
  it('promote --full opens both barriers of a canary release and waits until it completes', async () => {
    const s = await Scenario.create('plugin-full', 'shop', ['api', 'web']);
    scenarios.push(s);
    await s.kube.apply(s.ns, canaryApp('api', '1.0'));
    await s.kube.apply(s.ns, canaryApp('web', '1.0'));
    await s.kube.apply(s.ns, groupManifest('shop', [{ rollout: 'api' }, { rollout: 'web', dependsOn: ['api'] }]));
    s.startController();
    await s.waitSteady();
    for (const m of ['api', 'web']) await s.kube.setImage(s.ns, m, `ghcr.io/acme/${m}:2.0`);
    const first = await s.waitGroup('Paused at barrier 1/2', (g) => g.status?.phase === 'Paused' && g.status.release?.stages === 2);
    const id = first.status!.release!.id;

    const r = plugin(s.ns, 'promote', 'shop', '--full', '--timeout', '3m30s', '--interval', '250ms');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // One request per gate, in order, then the end.
    const said = r.stdout.split('\n').filter((l) => l.startsWith("rolloutgroup 'shop': "));
    expect(said).toEqual([
      `rolloutgroup 'shop': promote of release ${id} (stage 1/2) requested`,
      `rolloutgroup 'shop': promote of release ${id} (stage 2/2) requested`,
      `rolloutgroup 'shop': release ${id} of rolloutgroup shop completed`,
    ]);
    const done = await s.kube.group(s.ns, 'shop');
    expect(done.status?.phase).toBe('Healthy');
    expect(done.status?.release).toBeUndefined();
    for (const m of ['api', 'web']) {
      const ro = await s.kube.rollout(s.ns, m);
      expect(ro.status!['stableRS'], m).toBe(ro.status!['currentPodHash']);
    }
    expect((await s.kube.events(s.ns, 'shop')).filter((e) => e.reason === 'ReleaseCompleted')).toHaveLength(1);
  });

  it('pause and resume set spec.paused; get and list print json and yaml; version; live names complete', async () => {
    const s = await loans('plugin-ops');
    s.startController();
    await s.waitSteady();

    expect(plugin(s.ns, 'pause', 'loans')).toMatchObject({ status: 0, stdout: "rolloutgroup 'loans' paused: Tandem observes and reports, and changes nothing until resumed\n" });
    expect((await s.kube.group(s.ns, 'loans')).spec['paused']).toBe(true);
    expect(plugin(s.ns, 'pause', 'loans').stdout).toBe("rolloutgroup 'loans' is already paused\n");
    // Paused means hands off: a new revision starts no release.
    await s.kube.setImage(s.ns, 'interest', 'ghcr.io/acme/interest:2.0');
    const paused = await s.waitGroup('the change seen while paused', (g) => g.status?.phase === 'Paused' && g.status.message === 'paused: observing only; changed: interest');
    expect(paused.status?.release).toBeUndefined();
    expect(plugin(s.ns, 'resume', 'loans')).toMatchObject({ status: 0, stdout: "rolloutgroup 'loans' resumed\n" });
    expect((await s.kube.group(s.ns, 'loans')).spec['paused']).toBe(false);
    await s.waitGroup('a release once resumed', (g) => g.status?.release !== undefined);

    const live = await liveGroup(s);
    const asJson = JSON.parse(plugin(s.ns, 'get', 'loans', '-o', 'json').stdout) as Record<string, any>;
    expect(asJson['metadata']['uid']).toBe(live['metadata']['uid']);
    expect(asJson['spec']).toEqual(live['spec']);
    const asYaml = parse(plugin(s.ns, 'get', 'loans', '-o', 'yaml').stdout) as Record<string, any>;
    expect(asYaml['metadata']['uid']).toBe(live['metadata']['uid']);
    const list = JSON.parse(plugin(s.ns, 'list', '-o', 'json').stdout) as { kind: string; items: { metadata: { name: string } }[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((g) => g.metadata.name)).toEqual(['loans']);
    expect((parse(plugin(s.ns, 'list', '-o', 'yaml').stdout) as { items: unknown[] }).items).toHaveLength(1);
    expect(plugin(s.ns, 'get', 'loans', '-o', 'json', '--watch')).toMatchObject({ status: 1 });

    // Colours only for a terminal: through a pipe, even when asked for by nothing, no escape codes.
    expect(plugin(s.ns, 'get', 'loans').stdout).not.toContain('\x1b[');
    expect(plugin(s.ns, 'list').stdout).not.toContain('\x1b[');

    const version = spawnSync(inject('kubectl'), ['rolloutgroup', 'version'], { encoding: 'utf8', env: { ...process.env, PATH: `${pluginDir}:${process.env['PATH'] ?? ''}` } });
    expect(version.stdout).toMatch(/^kubectl rolloutgroup v0\.1\.0 \(Node\.js v24\.\d+\.\d+, linux\/\w+\)\n$/);

    // kubectl's own completion asks kubectl_complete-rolloutgroup, which asks the API server.
    const completion = spawnSync(inject('kubectl'), ['__complete', 'rolloutgroup', 'get', '-n', s.ns, '--kubeconfig', inject('kubeconfig'), 'lo'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${pluginDir}:${process.env['PATH'] ?? ''}` },
    });
    expect(completion.stdout.split('\n').filter((l) => l && !l.startsWith(':') && !l.startsWith('Completion'))).toEqual(['loans']);
  });

  it('takes kubectl’s client flags: --as, --token, --server, --request-timeout', async () => {
    const s = await Scenario.create('plugin-flags', 'loans', []);
    scenarios.push(s);
    await s.kube.apply(s.ns, groupManifest('loans', [{ rollout: 'interest' }]));
    await s.kube.core.createNamespacedServiceAccount({ namespace: s.ns, body: { metadata: { name: 'nobody' } } });
    const nobody = `system:serviceaccount:${s.ns}:nobody`;
    expect(plugin(s.ns, 'list').stdout).toMatch(/^NAME/);
    // Impersonation, with the admin's own credentials.
    const as = plugin(s.ns, 'list', '--as', nobody);
    expect(as.status).toBe(1);
    expect(as.stderr).toContain(`"${nobody}" cannot list resource "rolloutgroups"`);
    // A token in place of the kubeconfig's credentials: a kubeconfig that names the cluster only.
    const admin = JSON.parse(s.kubectl('config', 'view', '--raw', '--minify', '-o', 'json')) as Record<string, any>;
    const clusterOnly = join(mkdtempSync(join(tmpdir(), 'tandem-plugin-flags-')), 'config');
    writeFileSync(clusterOnly, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: admin['clusters'], users: [{ name: 'none', user: {} }], contexts: [{ name: 'c', context: { cluster: admin['clusters'][0].name, user: 'none' } }], 'current-context': 'c' }));
    const token = s.kubectl('create', 'token', 'nobody', '--duration', '10m').trim();
    const withToken = spawnSync(inject('kubectl'), ['rolloutgroup', 'get', 'loans', '-n', s.ns, '--kubeconfig', clusterOnly, '--token', token], { encoding: 'utf8', env: { ...process.env, PATH: `${pluginDir}:${process.env['PATH'] ?? ''}` } });
    expect(withToken.status).toBe(1);
    expect(withToken.stderr).toContain(`"${nobody}" cannot get resource "rolloutgroups"`);
    // Another server: nothing listens there.
    const elsewhere = plugin(s.ns, 'list', '--server', 'https://127.0.0.1:2');
    expect(elsewhere.status).toBe(1);
    expect(elsewhere.stderr).toMatch(/^error: rolloutgroups in namespace \S+: fetch failed: .*ECONNREFUSED 127\.0\.0\.1:2/);
    // A request that may take no time at all.
    const hurried = plugin(s.ns, 'get', 'loans', '--request-timeout', '1ms');
    expect(hurried.status).toBe(1);
    expect(hurried.stderr).toMatch(/^error: rolloutgroup \S+\/loans: .*(abort|timeout)/i);
    expect(plugin(s.ns, 'get', 'loans', '--request-timeout', '1m30s').status).toBe(0);
  });
});
