import { describe, expect, it } from 'vitest';
import { OwnerIndex } from '../../../src/kube/owner-index.ts';

const rs = (name: string, owner?: string, namespace = 'shop') => ({ metadata: { name, namespace, ...(owner ? { ownerReferences: [{ kind: 'Rollout', name: owner }] } : {}) } });

describe('OwnerIndex', () => {
  it('lists a Rollout’s ReplicaSets, following updates and deletes, per namespace', () => {
    const idx = new OwnerIndex();
    idx.add(rs('loan-1', 'loan'));
    idx.add(rs('loan-2', 'loan'));
    idx.add(rs('other-1', 'other'));
    idx.add(rs('loan-1', 'loan', 'bank'));
    idx.add(rs('orphan'));
    expect(idx.owned('shop', 'loan').sort()).toEqual(['loan-1', 'loan-2']);
    expect(idx.owned('bank', 'loan')).toEqual(['loan-1']);
    idx.add(rs('loan-2', 'loan')); // an update
    idx.remove(rs('loan-1', 'loan'));
    expect(idx.owned('shop', 'loan')).toEqual(['loan-2']);
    idx.add(rs('loan-2')); // released by its owner
    expect(idx.owned('shop', 'loan')).toEqual([]);
    expect(idx.owned('shop', 'other')).toEqual(['other-1']);
  });
});
