/** The executables name the Node they need instead of crashing inside a dependency (issue 18); test/e2e/install.test.ts runs them under an older Node. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, nodeVersionProblem } from '../../../src/node-guard.ts';

describe('Node version guard', () => {
  it('accepts Node 24 and later, names the binary and the version otherwise', () => {
    expect(nodeVersionProblem('kubectl-rolloutgroup', '24.0.0', '/x/node')).toBeUndefined();
    expect(nodeVersionProblem('kubectl-rolloutgroup', '26.1.0', '/x/node')).toBeUndefined();
    expect(nodeVersionProblem('kubectl-rolloutgroup', '20.20.2', '/usr/bin/node')).toBe(
      'kubectl-rolloutgroup needs Node.js 24 or newer, but /usr/bin/node is Node.js 20.20.2. Install Node.js 24 (or put it first on PATH) and run it again.',
    );
    expect(MIN_NODE_MAJOR).toBe(Number(/>=(\d+)/.exec(JSON.parse(readFileSync('package.json', 'utf8')).engines.node)![1]));
  });
});
