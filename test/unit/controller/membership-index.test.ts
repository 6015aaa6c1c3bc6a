import { describe, expect, it } from 'vitest';
import { MembershipIndex } from '../../../src/controller/membership-index.ts';

describe('MembershipIndex', () => {
  it('maps a Rollout to every group naming it, and forgets old memberships', () => {
    const idx = new MembershipIndex();
    idx.set('shop', 'shop/a', ['loan', 'interest']);
    idx.set('shop', 'shop/b', ['loan']);
    idx.set('bank', 'bank/a', ['loan']);
    expect(idx.groupsOf('shop', 'loan')).toEqual(['shop/a', 'shop/b']);
    idx.set('shop', 'shop/a', ['interest']);
    expect(idx.groupsOf('shop', 'loan')).toEqual(['shop/b']);
    idx.remove('shop/b');
    expect(idx.groupsOf('shop', 'loan')).toEqual([]);
    expect(idx.groupsOf('shop', 'interest')).toEqual(['shop/a']);
  });
});
