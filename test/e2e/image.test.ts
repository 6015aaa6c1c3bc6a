/**
 * The image `npm run image` builds without Docker (scripts/build-image.sh): inspected by skopeo,
 * unpacked by umoci, and its own entry point run by runc (read-only root filesystem, UID 65532, an
 * emptyDir-like /tmp) as the controller of a real group on the local API server.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ControllerProcess, LOG_DIR } from './support/controller-process.ts';
import { Scenario } from './support/scenario.ts';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const run = (bin: string, args: string[], options: { cwd?: string } = {}) => execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...options });

let archive: string;
let dockerArchive: string;
let bundle: string;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), 'tandem-image-'));
  archive = execFileSync('bash', ['scripts/build-image.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TANDEM_IMAGE_OUT: out } }).trim();
  dockerArchive = archive.replace(/\.oci\.tar$/, '.docker.tar');
  // umoci unpacks the image as a runtime bundle: rootfs/ and the runtime config made from the image config.
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bundle-'));
  run('skopeo', ['copy', '--quiet', `oci-archive:${archive}`, `oci:${dir}/layout:image`]);
  bundle = join(dir, 'bundle');
  run('umoci', ['unpack', '--image', `${dir}/layout:image`, bundle]);
}, 600_000);

describe('the image (npm run image)', () => {
  it('has the Dockerfile’s properties: non-root 65532, entry point `node dist/cli.js controller`, tagged, in both archive formats', () => {
    const config = JSON.parse(run('skopeo', ['inspect', '--config', `oci-archive:${archive}`])) as { config: Record<string, any>; os: string; architecture: string };
    expect(config.os).toBe('linux');
    expect(config.config['User']).toBe('65532:65532');
    expect(config.config['Entrypoint']).toEqual(['/nodejs/bin/node', '--optimize-for-size', 'dist/cli.js']);
    expect(config.config['Cmd']).toEqual(['controller']);
    expect(config.config['WorkingDir']).toBe('/app');
    expect(config.config['Env']).toContain('NODE_ENV=production');
    // The Dockerfile's memory settings (docs/performance.md), taken from it by the script.
    expect(config.config['Env']).toEqual(expect.arrayContaining(['NODE_OPTIONS=--max-semi-space-size=4', 'MALLOC_ARENA_MAX=2']));
    expect(config.config['Labels']['org.opencontainers.image.version']).toBe(pkg.version);
    // The docker archive (docker load, kind load image-archive) holds the same image under its tag.
    const docker = JSON.parse(run('skopeo', ['inspect', '--config', `docker-archive:${dockerArchive}`])) as { config: Record<string, any> };
    expect(docker.config).toEqual(config.config);
    const manifest = JSON.parse(run('tar', ['-xOf', dockerArchive, 'manifest.json'])) as { RepoTags: string[] }[];
    expect(manifest[0]!.RepoTags).toEqual([`ghcr.io/tandem-dev/tandem:${pkg.version}`]);
    const oci = JSON.parse(run('tar', ['-xOf', archive, 'index.json'])) as { manifests: { annotations: Record<string, string> }[] };
    expect(oci.manifests[0]!.annotations['org.opencontainers.image.ref.name']).toBe(`ghcr.io/tandem-dev/tandem:${pkg.version}`);
  });

  it('holds no shell or package manager, only production dependencies, and nothing the user 65532 may write but /tmp', () => {
    const root = join(bundle, 'rootfs');
    for (const p of ['bin/sh', 'usr/bin/bash', 'usr/bin/dpkg', 'usr/bin/apt']) expect(existsSync(join(root, p)), p).toBe(false);
    expect(existsSync(join(root, 'app/dist/cli.js'))).toBe(true);
    const modules = readdirSync(join(root, 'app/node_modules'))
      .filter((d) => !d.startsWith('.'))
      .flatMap((d) => (d.startsWith('@') ? readdirSync(join(root, 'app/node_modules', d)).map((s) => `${d}/${s}`) : [d]));
    for (const dep of Object.keys(pkg.dependencies)) expect(modules, dep).toContain(dep);
    // Nothing the lock file marks as needed by development only (a dev dependency a production one also needs is not).
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = modules.filter((m) => lock.packages[`node_modules/${m}`]?.dev === true);
    expect(devOnly).toEqual([]);
    for (const tool of ['typescript', 'vitest', 'fast-check', 'tinybench', 'node']) expect(modules, tool).not.toContain(tool);
    // Owned by root, not writable by others: with a writable root filesystem the app still could not change itself.
    for (const p of ['app', 'app/dist/cli.js', 'app/node_modules', 'nodejs/bin/node', 'etc/passwd']) {
      const st = statSync(join(root, p));
      expect(st.uid, p).toBe(0);
      expect(st.mode & 0o002, p).toBe(0);
    }
    expect(statSync(join(root, 'tmp')).mode & 0o1777).toBe(0o1777);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toContain('nonroot:x:65532:65532:');
  });

  it('an SBOM of the production dependencies lies beside it', () => {
    const sbom = JSON.parse(readFileSync(archive.replace(/\.oci\.tar$/, '.sbom.json'), 'utf8')) as { bomFormat: string; components: { name: string }[] };
    expect(sbom.bomFormat).toBe('CycloneDX');
    const names = sbom.components.map((c) => c.name);
    expect(names).toContain('@kubernetes/client-node');
    expect(names).not.toContain('vitest');
  });

  it('its entry point, run by runc with a read-only root filesystem, is the controller of a real group', async () => {
    const s = await Scenario.create('image', 'loans', ['interest', 'loan']);
    cleanups.push(() => s.cleanup());
    for (const f of ['interest', 'loan', 'group']) await s.kube.applyFile(s.ns, `examples/loan-interest/${f}.yaml`);
    const kubeconfig = join(bundle, 'controller.kubeconfig');
    writeFileSync(kubeconfig, readFileSync(inject('controllerKubeconfig')), { mode: 0o644 });
    // The runtime config umoci made from the image: its args, user and cwd, plus what a pod would add.
    const configPath = join(bundle, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, any>;
    expect(config['process'].args).toEqual(['/nodejs/bin/node', '--optimize-for-size', 'dist/cli.js', 'controller']);
    expect(config['process'].user).toMatchObject({ uid: 65532, gid: 65532 });
    config['root'].readonly = true;
    config['process'].terminal = false;
    config['process'].args.push('--kubeconfig', '/etc/tandem/kubeconfig', '--namespace', s.ns, '--health-probe-bind-address', '127.0.0.1:0', '--metrics-bind-address', '127.0.0.1:0');
    config['mounts'].push({ destination: '/etc/tandem/kubeconfig', type: 'bind', source: kubeconfig, options: ['ro', 'rbind'] });
    config['mounts'].push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
    // The host's network namespace: the local API server listens on 127.0.0.1.
    config['linux'].namespaces = (config['linux'].namespaces as { type: string }[]).filter((n) => n.type !== 'network');
    writeFileSync(configPath, JSON.stringify(config));

    const id = `tandem-${s.ns}`;
    const logFile = join(LOG_DIR, `${s.ns}-image-${Date.now()}.log`);
    const child: ChildProcess = spawn('runc', ['run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(logFile);
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    // The scenario reads its metrics (waitSteady's positive signal) and its log like any controller's.
    s.controllers.push(ControllerProcess.adopt(child, logFile));
    cleanups.push(async () => {
      try {
        run('runc', ['kill', id, 'KILL']);
      } catch {
        // already gone
      }
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      run('runc', ['delete', '--force', id]);
    });
    const steady = await s.waitSteady(180_000).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n--- ${logFile} ---\n${readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n')}`);
    });
    expect(steady.status?.conditions?.find((c) => c.type === 'SpecValid')?.status).toBe('True');
    const loan = await s.kube.rollout(s.ns, 'loan');
    expect(loan.spec['strategy'].blueGreen.activeMetadata.annotations['tandem.dev/interest-url']).toContain(`interest-active.${s.ns}.svc`);
    const lines = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith('{'));
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('caches synced');
    expect(child.exitCode).toBeNull();
  });
});
