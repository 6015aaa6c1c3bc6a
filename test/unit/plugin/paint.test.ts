import { describe, expect, it } from 'vitest';
import { RolloutGroup } from '../../../src/api/rolloutgroup.ts';
import { colourWanted, paintFor, plain } from '../../../src/plugin/paint.ts';
import { renderTree } from '../../../src/plugin/tree.ts';

const tty = { isTTY: true };
const pipe = { isTTY: false };
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/;

describe('colours', () => {
  it('only for a terminal, never with NO_COLOR or --no-color; FORCE_COLOR forces them', () => {
    expect(colourWanted(tty, {})).toBe(true);
    expect(colourWanted(pipe, {})).toBe(false);
    expect(colourWanted(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted(tty, { NO_COLOR: '' })).toBe(true); // no-color.org: only a non-empty value counts
    expect(colourWanted(tty, {}, false)).toBe(false);
    expect(colourWanted(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourWanted(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourWanted(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
  });

  it('the tree colours phases and states on a terminal and is byte-identical to the plain view otherwise', () => {
    const group = RolloutGroup.parse({
      metadata: { name: 'loans', namespace: 'shop', generation: 1 },
      spec: { members: [{ rollout: 'a' }] },
      status: { observedGeneration: 1, phase: 'Degraded', message: 'release r1 aborted', members: [{ rollout: 'a', state: 'Failed' }] },
    });
    const coloured = renderTree(group, new Map(), paintFor(tty, {}));
    const uncoloured = renderTree(group, new Map(), paintFor(pipe, {}));
    expect(coloured).toMatch(ANSI);
    expect(uncoloured).not.toMatch(ANSI);
    expect(uncoloured).toBe(renderTree(group, new Map(), plain));
    expect(coloured.replace(new RegExp(ANSI, 'g'), '')).toBe(uncoloured);
    // Degraded in red (31).
    expect(coloured).toContain('\x1b[31m✖ Degraded\x1b[39m');
  });
});
