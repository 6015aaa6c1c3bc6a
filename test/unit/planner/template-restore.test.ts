/** A rolled-back or re-applied template must hash as the revision it came from (template-restore.ts). */
import { describe, expect, it } from 'vitest';
import { templateOf } from '../../../src/planner/template-restore.ts';
import { INTEREST_KEY, podTemplate, replicaSet, url } from '../../fixtures/builders.ts';

describe('templateOf', () => {
  it('leaves out the metadata Argo injected and the pins Tandem wrote, which would start a new revision', () => {
    const rs = replicaSet('loan', 'l1', true, { [INTEREST_KEY]: url('interest-active') });
    const meta = rs.spec.template!.metadata as { annotations: Record<string, string> };
    // A rollback pinned the previous pods (template and pods) before restoring them.
    meta.annotations[`pin.${INTEREST_KEY}`] = url('interest-active');
    expect(templateOf([rs], 'loan', 'l1', [`pin.${INTEREST_KEY}`])).toEqual(podTemplate('loan', 'l1'));
    // Without the pin keys it would keep the pin, and Argo would hash it as another revision.
    expect(templateOf([rs], 'loan', 'l1')).not.toEqual(podTemplate('loan', 'l1'));
  });
});
