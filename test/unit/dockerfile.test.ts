/** What can be checked of the image without a Docker engine (issue 5): pins, user, entry point. */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
const stages = lines.reduce<string[][]>((acc, l) => (l.startsWith('FROM ') ? [...acc, [l]] : (acc.at(-1)!.push(l), acc)), []);
const final = stages.at(-1)!;
const instruction = (stage: string[], name: string) => stage.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());

describe('Dockerfile', () => {
  it('pins every base image by digest', () => {
    const froms = stages.map((s) => s[0]!.split(/\s+/)[1]!);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) expect(image).toMatch(/^[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
  });

  it('builds on Node 24 and runs on a distroless Node 24 runtime', () => {
    for (const s of stages.slice(0, -1)) expect(s[0]).toMatch(/^FROM node:24-/);
    expect(final[0]).toMatch(/^FROM gcr\.io\/distroless\/nodejs24-/);
    expect(JSON.parse(readFileSync('package.json', 'utf8')).engines.node).toBe('>=24');
  });

  it('ships production dependencies only', () => {
    const copies = instruction(final, 'COPY');
    const modules = copies.find((c) => c.includes('node_modules'))!;
    const from = /--from=(\S+)/.exec(modules)![1]!;
    const depsStage = stages.find((s) => new RegExp(`\\bAS ${from}$`).test(s[0]!))!;
    expect(instruction(depsStage, 'RUN').join('\n')).toMatch(/npm ci .*--omit=dev/);
  });

  it('runs as a numeric non-root user, so that runAsNonRoot can verify it', () => {
    const user = instruction(final, 'USER').at(-1);
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user!.split(':')[0])).toBeGreaterThan(0);
  });

  it('starts `tandem controller` from the built output', () => {
    const entry = JSON.parse(instruction(final, 'ENTRYPOINT').at(-1)!) as string[];
    const cmd = JSON.parse(instruction(final, 'CMD').at(-1)!) as string[];
    expect([...entry.slice(1), ...cmd]).toEqual(['--optimize-for-size', 'dist/cli.js', 'controller']);
    // dist/ in the image is tsc's outDir for tsconfig.build.json, whose rootDir holds cli.ts.
    expect(instruction(final, 'COPY')).toContain('--from=build /src/dist ./dist');
    const build = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')).compilerOptions;
    expect(build).toMatchObject({ outDir: 'dist', rootDir: 'src' });
    expect(JSON.parse(readFileSync('package.json', 'utf8')).bin.tandem).toBe('dist/cli.js');
    // test/e2e/install.test.ts runs the compiled dist/cli.js with these flags.
  });

  it('caps V8\'s young generation and glibc\'s malloc arenas (docs/performance.md: most of the RSS otherwise)', () => {
    const env = instruction(final, 'ENV').join('\n');
    expect(env).toMatch(/^NODE_OPTIONS=--max-semi-space-size=\d+$/m);
    expect(env).toMatch(/^MALLOC_ARENA_MAX=\d+$/m);
  });

  it('copies only files that exist into the build', () => {
    for (const s of stages) {
      for (const c of instruction(s, 'COPY').filter((x) => !x.startsWith('--from'))) {
        for (const src of c.split(/\s+/).slice(0, -1)) expect(existsSync(src), src).toBe(true);
      }
    }
  });
});
