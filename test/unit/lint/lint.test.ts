/** `lint` on the fixture set: every bad file is rejected for its stated problem; every example passes. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, lintManifests } from '../../../src/lint/lint.ts';
import { parseManifests, type ManifestDoc } from '../../../src/lint/manifests.ts';

const BAD = 'test/fixtures/lint/bad';
const EXAMPLES = 'examples';

function lintFiles(files: readonly string[]): string[] {
  const docs: ManifestDoc[] = [];
  const lines: string[] = [];
  for (const file of files) {
    const parsed = parseManifests(file, readFileSync(file, 'utf8'));
    docs.push(...parsed.docs);
    lines.push(...parsed.problems.map((p) => `${p.file}: ${p.message}`));
  }
  return [...lines, ...lintManifests(docs).problems.map(formatProblem)];
}

const badFiles = readdirSync(BAD).filter((f) => f.endsWith('.yaml')).sort();

describe('lint rejects each bad manifest set with a message naming the problem', () => {
  it('has a fixture for each rule', () => {
    expect(badFiles.length).toBeGreaterThanOrEqual(15);
  });

  it.each(badFiles)('%s', (name) => {
    const file = join(BAD, name);
    // Each fixture states, on its first line, the reason and message it must be rejected with.
    const expected = /^# expect: (.+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
    expect(expected, 'fixture states what it expects').toBeDefined();
    const problems = lintFiles([file]);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.startsWith(`${file}: `))).toBe(true);
    expect(problems.some((p) => p.includes(expected!)), problems.join('\n')).toBe(true);
  });
});

describe('lint accepts the examples', () => {
  const sets = readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && readdirSync(join(EXAMPLES, d.name)).some((f) => f.endsWith('.yaml')))
    .map((d) => d.name);

  it('finds the example sets', () => {
    expect(sets).toEqual(expect.arrayContaining(['loan-interest', 'shop']));
  });

  it.each(sets)('examples/%s', (set) => {
    const dir = join(EXAMPLES, set);
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f));
    const docs = files.flatMap((f) => parseManifests(f, readFileSync(f, 'utf8')).docs);
    const result = lintManifests(docs);
    expect(result.problems).toEqual([]);
    expect(result.groups).toBeGreaterThan(0);
  });
});

describe('lint accepts the good fixtures', () => {
  const GOOD = 'test/fixtures/lint/good';
  it.each(readdirSync(GOOD).filter((f) => f.endsWith('.yaml')))('%s', (name) => {
    expect(lintFiles([join(GOOD, name)])).toEqual([]);
  });
});

describe('lint, rules of its own', () => {
  const doc = (object: unknown, index = 1): ManifestDoc => ({ file: 'f.yaml', index, object });
  const rollout = (name: string, namespace?: string) => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: { strategy: { blueGreen: { activeService: `${name}-a`, autoPromotionEnabled: false } } },
  });
  const group = (name: string, members: string[], namespace?: string) => ({
    apiVersion: 'tandem.dev/v1alpha1',
    kind: 'RolloutGroup',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: { members: members.map((rollout) => ({ rollout })) },
  });

  it('looks for members only in the group’s own namespace', () => {
    const r = lintManifests([doc(group('g', ['a'], 'shop')), doc(rollout('a', 'other'))]);
    expect(r.problems.map((p) => p.reason)).toEqual(['MemberNotFound']);
    expect(lintManifests([doc(group('g', ['a'], 'shop')), doc(rollout('a', 'shop'))]).problems).toEqual([]);
  });

  it('names an apiVersion Tandem does not serve', () => {
    const r = lintManifests([doc({ ...group('g', ['a']), apiVersion: 'tandem.dev/v1' }), doc(rollout('a'))]);
    expect(r.problems).toEqual([
      { file: 'f.yaml', object: 'rolloutgroup default/g', reason: 'SchemaInvalid', message: 'apiVersion tandem.dev/v1 is not served; use tandem.dev/v1alpha1' },
    ]);
  });

  it('ignores kinds it does not validate', () => {
    const r = lintManifests([doc({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['x.yaml'] }), doc('just a string')]);
    expect(r).toEqual({ groups: 0, problems: [] });
  });
});
