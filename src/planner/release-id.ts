import { createHash } from 'node:crypto';
import type { ReleaseTarget } from '../api/rolloutgroup.ts';

/** A short, stable id for a set of member revisions; order of the input does not matter. */
export function releaseId(targets: readonly ReleaseTarget[]): string {
  const canonical = [...targets]
    .sort((a, b) => (a.rollout < b.rollout ? -1 : a.rollout > b.rollout ? 1 : 0))
    .map((t) => `${t.rollout}=${t.revision}`)
    .join(';');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 10);
}
