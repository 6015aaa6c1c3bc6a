// `npm run plugin:binary`: `kubectl-rolloutgroup` as one executable that needs no Node on the machine
// (Node's single executable applications): the plugin bundled into one CommonJS file by Vite
// (Rolldown), its preparation blob made by the Node 24 this project runs on, and injected into a
// copy of that Node with postject. Then a krew archive, its sha256, and the krew manifest filled in.
// Out, in dist/plugin-binary/ (TANDEM_PLUGIN_OUT): kubectl-rolloutgroup, kubectl-rolloutgroup-<os>-<arch>.tar.gz,
// its .sha256, and rolloutgroup.yaml (krew). Linux and macOS hosts build for themselves.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { parse, stringify } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.env['TANDEM_PLUGIN_OUT'] ?? join(root, 'dist/plugin-binary'));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const os = process.platform === 'darwin' ? 'darwin' : 'linux';
const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
const started = performance.now();
const step = (what: string) => console.log(`[plugin:binary ${((performance.now() - started) / 1000).toFixed(1)}s] ${what}`);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const work = join(out, 'build');

step('bundling src/plugin/sea-entry.ts');
await build({
  configFile: false,
  root,
  logLevel: 'warn',
  define: { __TANDEM_VERSION__: JSON.stringify(version) },
  // Everything inside: a SEA's main script can require built-in modules only.
  ssr: { noExternal: true, target: 'node' },
  build: {
    ssr: join(root, 'src/plugin/sea-entry.ts'),
    outDir: work,
    emptyOutDir: true,
    target: 'node24',
    minify: false,
    rollupOptions: { output: { format: 'cjs', entryFileNames: 'kubectl-rolloutgroup.cjs', inlineDynamicImports: true } },
  },
});

step('preparation blob, with the dashboard UI as assets');
const ui = join(root, 'dist/dashboard-ui');
if (!existsSync(join(ui, 'index.html'))) execFileSync('npm', ['run', 'build:dashboard'], { cwd: root, stdio: 'inherit' });
const assets = Object.fromEntries(
  (readdirSync(ui, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile() && !e.name.endsWith('.map'))
    .map((e) => [`dashboard-ui/${relative(ui, join(e.parentPath, e.name))}`, join(e.parentPath, e.name)]),
);
const blob = join(work, 'sea.blob');
const config = join(work, 'sea-config.json');
writeFileSync(config, JSON.stringify({ main: join(work, 'kubectl-rolloutgroup.cjs'), output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, assets }));
// The Node 24 of the npm `node` package (what `npm run` puts first on PATH), not whatever `node` the shell has.
const node = process.execPath;
execFileSync(node, ['--experimental-sea-config', config], { stdio: 'inherit' });

step(`injecting into a copy of ${node} (Node ${process.versions.node})`);
const exe = join(out, 'kubectl-rolloutgroup');
copyFileSync(node, exe);
chmodSync(exe, 0o755);
const postject = join(root, 'node_modules/postject/dist/cli.js');
// postject warns about every ELF note it cannot name: shown only if it fails.
execFileSync(node, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2', ...(os === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : [])], { stdio: 'pipe' });
if (os === 'darwin') execFileSync('codesign', ['--sign', '-', exe]);

step('krew archive and manifest');
const archive = `kubectl-rolloutgroup-${os}-${arch}.tar.gz`;
// krew wants the license in the archive: the repository's, or the Apache-2.0 text Debian ships.
copyFileSync(existsSync(join(root, 'LICENSE')) ? join(root, 'LICENSE') : '/usr/share/common-licenses/Apache-2.0', join(out, 'LICENSE'));
// Reproducible: fixed owner and order, the last commit's time.
const mtime = execFileSync('git', ['log', '-1', '--format=%cI'], { cwd: root, encoding: 'utf8' }).trim() || '1970-01-01T00:00:00Z';
execFileSync('tar', ['--sort=name', `--mtime=${mtime}`, '--owner=0', '--group=0', '--numeric-owner', '--use-compress-program=gzip -n', '-cf', archive, 'kubectl-rolloutgroup', 'LICENSE'], { cwd: out });
const sha256 = createHash('sha256').update(readFileSync(join(out, archive))).digest('hex');
writeFileSync(join(out, `${archive}.sha256`), `${sha256}  ${archive}\n`);
type Platform = { selector: { matchLabels: { os: string; arch: string } }; uri: string; sha256: string };
const manifest = parse(readFileSync(join(root, 'plugins/krew/rolloutgroup.yaml'), 'utf8').replaceAll('{{VERSION}}', version)) as { spec: { platforms: Platform[] } };
manifest.spec.platforms = manifest.spec.platforms.filter((p) => p.selector.matchLabels.os === os && p.selector.matchLabels.arch === arch).map((p) => ({ ...p, sha256 }));
if (manifest.spec.platforms.length !== 1) throw new Error(`plugins/krew/rolloutgroup.yaml has no platform ${os}/${arch}`);
writeFileSync(join(out, 'rolloutgroup.yaml'), stringify(manifest));
rmSync(work, { recursive: true, force: true });
step(`${exe} (${(readFileSync(exe).length / 1e6).toFixed(0)} MB), ${archive} sha256 ${sha256}`);
