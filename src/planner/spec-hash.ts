import { createHash } from 'node:crypto';
import type { RolloutGroupSpec } from '../api/rolloutgroup.ts';

/** A fingerprint of what shapes a release: strategy, order and who depends on whom (§4b). */
export function specHashOf(spec: Pick<RolloutGroupSpec, 'strategy' | 'order' | 'members'>): string {
  const members = spec.members.map((m) => `${m.rollout}<${m.dependsOn.map((d) => d.rollout).join(',')}`).join(';');
  return createHash('sha256').update(`${spec.strategy}|${spec.order ?? ''}|${members}`).digest('hex').slice(0, 16);
}
