/**
 * Tandem's Argo CD Lua in Argo CD's own VM: `argocd admin settings resource-overrides` (the pinned
 * Argo CD, built by test/cluster/build-argocd.sh) loads config/argocd/argocd-cm.yaml, as users
 * install it, and runs health.lua, the discovery and each action on the captured live groups of
 * health_test.yaml and action_test.yaml. Fails (never skips) without the binary.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { argocdActions, argocdHealth, argocdRunAction, readYaml } from '../../support/argocd-cli.ts';
import { ARGOCD_DIR, runLuaFile } from '../../support/argocd-lua.ts';

// Each check starts the 150 MB argocd binary: ≈0.5 s idle, several seconds on a loaded machine.
vi.setConfig({ testTimeout: 60_000 });

const CM = join(ARGOCD_DIR, 'argocd-cm.yaml');
const ACTIONS = join(ARGOCD_DIR, 'actions');

interface HealthTest { healthStatus: { status: string; message: string }; inputPath: string }
interface DiscoveryTest { inputPath: string; result: { name: string; disabled: boolean }[] }
interface ActionTest { action: string; inputPath: string; expectedOutputPath?: string; expectedError?: string }

const healthTests = (readYaml(join(ARGOCD_DIR, 'health_test.yaml')) as { tests: HealthTest[] }).tests;
const actionTests = readYaml(join(ACTIONS, 'action_test.yaml')) as { discoveryTests: DiscoveryTest[]; actionTests: ActionTest[] };

const scratch = mkdtempSync(join(tmpdir(), 'tandem-argocd-vm-'));
let n = 0;
/** A variant of a captured object, written where the CLI can read it. */
function variant(path: string, edit: (g: any) => void): string {
  const g = readYaml(path) as any;
  edit(g);
  const out = join(scratch, `variant-${n++}.yaml`);
  writeFileSync(out, stringify(g));
  return out;
}

describe('health.lua in Argo CD', () => {
  it.each(healthTests.map((t) => [t.inputPath, t] as const))('%s', (_, t) => {
    expect(argocdHealth(CM, join(ARGOCD_DIR, t.inputPath))).toEqual(t.healthStatus);
  });

  it('a group the schema rejects (SpecValid=False without observedGeneration) is Degraded', () => {
    const path = variant(join(ARGOCD_DIR, 'testdata/degraded_dependencyCycle.yaml'), (g) => {
      delete g.status.observedGeneration;
      g.status.conditions = [{ type: 'SpecValid', status: 'False', reason: 'SchemaInvalid', message: 'spec cannot be read: spec.members: Required', lastTransitionTime: 't' }];
    });
    expect(argocdHealth(CM, path)).toEqual({ status: 'Degraded', message: 'spec cannot be read: spec.members: Required' });
  });

  it('an unknown phase is Progressing', () => {
    const path = variant(join(ARGOCD_DIR, 'testdata/healthy.yaml'), (g) => (g.status.phase = 'Rebalancing'));
    expect(argocdHealth(CM, path).status).toBe('Progressing');
  });
});

describe('actions in Argo CD', () => {
  it.each(actionTests.discoveryTests.map((t) => [t.inputPath, t] as const))('discovery on %s', (_, t) => {
    const expected = Object.fromEntries(t.result.map((r) => [r.name, r.disabled]));
    expect(argocdActions(CM, join(ACTIONS, t.inputPath))).toEqual(expected);
  });

  it.each(actionTests.actionTests.map((t) => [`${t.action} on ${t.inputPath}`, t] as const))('%s', (_, t) => {
    const out = argocdRunAction(CM, join(ACTIONS, t.inputPath), t.action);
    if (t.expectedError !== undefined) {
      expect(out.ok).toBe(false);
      if (!out.ok) expect(out.error).toContain(t.expectedError);
      return;
    }
    expect(out.ok, JSON.stringify(out)).toBe(true);
    // Argo CD restores the empty lists Lua cannot tell from maps: the result is exactly the input
    // plus one request annotation.
    if (out.ok) expect(out.result).toEqual(readYaml(join(ACTIONS, t.expectedOutputPath!)));
  });
});

describe('the lua5.1 harness', () => {
  it('offers a script exactly what Argo CD offers one from argocd-cm', () => {
    const script = new URL('../../fixtures/argocd/environment.lua', import.meta.url).pathname;
    const cm = join(scratch, 'argocd-cm.yaml');
    writeFileSync(cm, stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'argocd-cm', namespace: 'argocd' },
      data: { 'resource.customizations.health.example.com_Probe': readFileSync(script, 'utf8') },
    }));
    const obj = { apiVersion: 'example.com/v1', kind: 'Probe', metadata: { name: 'p' } };
    const objPath = join(dirname(cm), 'probe.yaml');
    writeFileSync(objPath, stringify(obj));
    const inArgocd = argocdHealth(cm, objPath);
    const inHarness = runLuaFile(script, obj);
    expect(inHarness).toEqual({ ok: true, result: inArgocd });
    // What that environment is, so a change on either side is seen.
    expect(inArgocd.message).toContain('string=nil math=nil io=nil');
    expect(inArgocd.message).toContain('stringMethods=false');
  });
});
