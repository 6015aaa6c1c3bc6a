/**
 * Tandem's Argo CD Lua on a real Lua 5.1 interpreter, against the live groups the e2e captured, in
 * the format of Argo CD's own health_test.yaml and action_test.yaml. Fails (never skips) without lua5.1.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ARGOCD_DIR, LUA, action, discovery, health, normalize } from '../../support/argocd-lua.ts';

const load = (path: string): any => parse(readFileSync(join(ARGOCD_DIR, path), 'utf8'));
const fromActions = (path: string) => join('actions', path);

interface HealthTest { healthStatus: { status: string; message: string }; inputPath: string }
interface DiscoveryTest { inputPath: string; result: { name: string; disabled: boolean }[] }
interface ActionTest { action: string; inputPath: string; expectedOutputPath?: string; expectedError?: string }

const healthTests = (load('health_test.yaml') as { tests: HealthTest[] }).tests;
const actionTests = load('actions/action_test.yaml') as { discoveryTests: DiscoveryTest[]; actionTests: ActionTest[] };

it(`${LUA} is Lua 5.1, as Argo CD's gopher-lua (.ci/run installs it)`, () => {
  expect(execFileSync(LUA, ['-e', 'io.write(_VERSION)'], { encoding: 'utf8' })).toBe('Lua 5.1');
});

describe('health.lua', () => {
  it.each(healthTests.map((t) => [t.inputPath, t] as const))('%s', (_, t) => {
    expect(health(load(t.inputPath))).toEqual(t.healthStatus);
  });

  it('covers every Argo CD health state and every group phase', () => {
    expect(new Set(healthTests.map((t) => t.healthStatus.status))).toEqual(new Set(['Healthy', 'Progressing', 'Suspended', 'Degraded']));
    const phases = new Set(healthTests.map((t) => load(t.inputPath).status?.phase));
    for (const p of ['Healthy', 'Progressing', 'Paused', 'Promoting', 'Degraded', undefined]) expect(phases, String(p)).toContain(p);
  });

  it('shows the group analysis: a running run Progressing, an inconclusive one Suspended, a failed one Degraded, each named', () => {
    const expected: Record<string, string> = { Running: 'Progressing', Inconclusive: 'Suspended', Failed: 'Degraded' };
    const seen = new Set<string>();
    for (const t of healthTests) {
      const run = load(t.inputPath).status?.release?.analysisRuns?.at(-1) as { name: string; phase: string } | undefined;
      if (!run) continue;
      seen.add(run.phase);
      expect(t.healthStatus.status, t.inputPath).toBe(expected[run.phase]);
      expect(t.healthStatus.message, t.inputPath).toContain(`analysis ${run.name} ${run.phase === 'Failed' ? 'Failed' : run.phase.toLowerCase()}`);
    }
    expect(seen).toEqual(new Set(Object.keys(expected)));
  });

  // Variants of captured objects for states the CRD or timing keep out of the e2e.
  const cycle = () => load('testdata/degraded_dependencyCycle.yaml');
  it('a group the schema rejects (SpecValid=False without observedGeneration) is Degraded', () => {
    const g = cycle();
    delete g.status.observedGeneration;
    g.status.conditions = [{ type: 'SpecValid', status: 'False', reason: 'SchemaInvalid', message: 'spec cannot be read: spec.members: Required', lastTransitionTime: 't' }];
    expect(health(g)).toEqual({ status: 'Degraded', message: 'spec cannot be read: spec.members: Required' });
  });

  it('a fixed spec not yet observed is Progressing, not the old Degraded', () => {
    const g = cycle();
    g.metadata.generation += 1;
    expect(health(g).status).toBe('Progressing');
  });

  it('an unknown phase is Progressing', () => {
    const g = load('testdata/healthy.yaml');
    g.status.phase = 'Rebalancing';
    expect(health(g).status).toBe('Progressing');
  });
});

describe('actions', () => {
  it('every action has a discovery entry and an action.lua', () => {
    const names = Object.keys(discovery(load('testdata/healthy.yaml'))).sort();
    expect(names).toEqual(['abort', 'promote', 'retry']);
    for (const n of names) expect(actionTests.actionTests.some((t) => t.action === n && t.expectedOutputPath)).toBe(true);
  });

  it('abort stays offered once members are live: Tandem rolls them back', () => {
    const g = load('testdata/progressing_promoting.yaml');
    g.status.release.promotedMembers = ['loan'];
    expect(discovery(g)).toEqual({ promote: true, abort: false, retry: true });
  });

  it('retry is offered where Tandem takes it: aborted before its cutover, no failed blue-green member', () => {
    const g = load('testdata/degraded_releaseAborted.yaml');
    expect(discovery(g).retry).toBe(true);
    for (const m of g.status.members) m.strategy = 'Canary';
    expect(discovery(g)).toEqual({ promote: true, abort: true, retry: false });
    // An Ordered release whose blue-green first member completed and whose canary member failed.
    g.status.members[0].strategy = 'BlueGreen';
    g.status.members[0].state = 'Promoted';
    expect(discovery(g).retry).toBe(false);
    g.status.release.promotedAt = g.status.release.abortedAt;
    expect(discovery(g).retry).toBe(true);
  });

  it.each(actionTests.discoveryTests.map((t) => [t.inputPath, t] as const))('discovery on %s', (_, t) => {
    const expected = Object.fromEntries(t.result.map((r) => [r.name, r.disabled]));
    expect(discovery(load(fromActions(t.inputPath)))).toEqual(expected);
  });

  it.each(actionTests.actionTests.map((t) => [`${t.action} on ${t.inputPath}`, t] as const))('%s', (_, t) => {
    const out = action(t.action, load(fromActions(t.inputPath)));
    if (t.expectedError !== undefined) {
      expect(out).toEqual({ ok: false, error: t.expectedError });
      return;
    }
    expect(out.ok, JSON.stringify(out)).toBe(true);
    if (out.ok) expect(normalize(out.result)).toEqual(normalize(load(fromActions(t.expectedOutputPath!))));
  });
});
