import { describe, expect, it } from 'vitest';
import { ownedAnnotationKeys } from '../../../src/kube/managed-fields.ts';

describe('ownedAnnotationKeys', () => {
  it('reads the keys an apply manager owns, ignoring other managers and update operations', () => {
    const fields = (keys: string[]) => ({
      'f:spec': { 'f:strategy': { 'f:blueGreen': { 'f:previewMetadata': { 'f:annotations': Object.fromEntries(keys.map((k) => [`f:${k}`, {}])) } } } },
    });
    const owned = ownedAnnotationKeys(
      [
        { manager: 'tandem-controller', operation: 'Apply', fieldsV1: fields(['tandem.dev/interest-url']) },
        { manager: 'argocd-controller', operation: 'Apply', fieldsV1: fields(['acme.io/other']) },
        { manager: 'tandem-controller', operation: 'Update', fieldsV1: fields(['tandem.dev/stale']) },
      ],
      'tandem-controller',
    );
    expect(owned).toEqual({ previewMetadata: ['tandem.dev/interest-url'] });
  });

  it('is empty without managed fields', () => {
    expect(ownedAnnotationKeys(undefined, 'tandem-controller')).toEqual({});
  });
});
