/** `kubectl rolloutgroup lint` as CI runs it: the exit code and what it prints. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ENTRY = new URL('../../../src/kubectl-rolloutgroup.ts', import.meta.url).pathname;
const lint = (...args: string[]) => spawnSync(process.execPath, [ENTRY, 'lint', ...args], { encoding: 'utf8' });

describe('kubectl rolloutgroup lint', () => {
  it('exits 0 on an example and says how much it checked', () => {
    const r = lint('examples/shop');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('4 files, 1 rolloutgroup: no problems\n');
    expect(r.status).toBe(0);
  });

  it('checks the files of one run as one set: two examples listing the same Rollouts clash', () => {
    const r = lint('examples/loan-interest', 'examples/shop');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('examples/shop/group.yaml: rolloutgroup default/shop: MemberClaimed: rollout interest already belongs to group loans');
  });

  it('exits 1 and prints one line per problem, naming file, group and reason', () => {
    const r = lint('test/fixtures/lint/bad/dependency-port-missing.yaml');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        'test/fixtures/lint/bad/dependency-port-missing.yaml: rolloutgroup default/bad-port: MemberMisconfigured: dependency of b: service a-preview has no port grpc; set dependsOn[].port to one of its ports',
        'test/fixtures/lint/bad/dependency-port-missing.yaml: rolloutgroup default/bad-port: MemberMisconfigured: dependency of b: service a-active has no port grpc; set dependsOn[].port to one of its ports',
        'error: 2 problems in 1 file',
        '',
      ].join('\n'),
    );
  });

  it('exits 1 on a path that does not exist', () => {
    const r = lint('no/such/file.yaml');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('error: no/such/file.yaml: no such file or directory\n');
  });
});
