/** The argocd-cm snippet users apply carries exactly the Lua the tests run. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS, ACTIONS_KEY, ARGOCD_DIR, HEALTH_KEY, renderArgocdCm } from '../../../scripts/argocd-cm.ts';

const committed = readFileSync(join(ARGOCD_DIR, 'argocd-cm.yaml'), 'utf8');
const lua = (path: string) => readFileSync(join(ARGOCD_DIR, path), 'utf8');

describe('config/argocd/argocd-cm.yaml', () => {
  it('is what scripts/argocd-cm.ts generates (run it after editing the Lua)', () => {
    expect(committed).toBe(renderArgocdCm());
  });

  it('embeds health.lua, discovery.lua and every action.lua verbatim, under the keys Argo CD reads', () => {
    const cm = parse(committed) as { kind: string; metadata: { name: string }; data: Record<string, string> };
    expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'argocd-cm' } });
    expect(cm.data[HEALTH_KEY]).toBe(lua('health.lua'));
    const actions = parse(cm.data[ACTIONS_KEY]!) as { 'discovery.lua': string; definitions: { name: string; 'action.lua': string }[] };
    expect(actions['discovery.lua']).toBe(lua('actions/discovery.lua'));
    expect(actions.definitions.map((d) => d.name)).toEqual([...ACTIONS]);
    for (const d of actions.definitions) expect(d['action.lua']).toBe(lua(`actions/${d.name}/action.lua`));
  });
});
