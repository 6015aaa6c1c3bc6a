import { describe, expect, it } from 'vitest';
import { pinnedKey } from '../../../packages/podinfo/src/pod-info.ts';
import { pinKeyOf, pinEntry, parsePinEntry } from '../../../src/planner/pins.ts';
import { ANNOTATION_KEY_PATTERN } from '../../../src/api/rolloutgroup.ts';

describe('pinned addresses', () => {
  it('the controller writes the key apps read (@tandem/podinfo), and it is a valid annotation key', () => {
    for (const key of ['tandem.dev/interest-url', 'example.com/db', 'queue']) {
      expect(pinKeyOf(key)).toBe(pinnedKey(key));
      expect(new RegExp(ANNOTATION_KEY_PATTERN).test(pinKeyOf(key)), pinKeyOf(key)).toBe(true);
    }
  });

  it('records a member and revision, revisions with dashes included', () => {
    expect(parsePinEntry(pinEntry('loan-api', '7c45d5f7'))).toEqual({ rollout: 'loan-api', revision: '7c45d5f7' });
  });
});
