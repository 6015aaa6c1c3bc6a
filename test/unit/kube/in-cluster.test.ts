import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inClusterNamespace } from '../../../src/kube/in-cluster.ts';

describe('inClusterNamespace', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tandem-sa-')), 'namespace');
  writeFileSync(file, 'tandem-system\n');

  it('prefers POD_NAMESPACE, then the service account namespace file', () => {
    expect(inClusterNamespace({ POD_NAMESPACE: 'from-env' }, file)).toBe('from-env');
    expect(inClusterNamespace({}, file)).toBe('tandem-system');
  });

  it('is undefined outside a pod', () => {
    expect(inClusterNamespace({}, join(tmpdir(), 'no-such-file'))).toBeUndefined();
  });
});
