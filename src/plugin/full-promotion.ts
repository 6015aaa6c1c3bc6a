import { REQUEST, type RolloutGroup } from '../api/rolloutgroup.ts';
import { promoteRequest } from './requests.ts';

/** The next move of `promote --full`. */
export type FullStep =
  | { readonly kind: 'request'; readonly annotations: Readonly<Record<string, string>>; readonly summary: string }
  | { readonly kind: 'wait'; readonly message: string }
  | { readonly kind: 'done'; readonly message: string }
  | { readonly kind: 'failed'; readonly message: string };

/**
 * `promote --full`: every remaining gate of one release, each opened by an ordinary promote request
 * as soon as the previous one has been handled (Tandem still waits for each stage to be ready; a
 * person's promote cannot skip readiness). It keeps to the release it started with: a member that
 * changes again makes a new release, which gets its own decision. Pure: one look at the group.
 */
export function fullPromotionStep(group: RolloutGroup, releaseId: string): FullStep {
  const { status, metadata } = group;
  const name = metadata.name;
  if (!status?.phase || status.observedGeneration !== metadata.generation) return { kind: 'wait', message: 'waiting for the controller to observe the group' };
  const release = status.release;
  if (!release) {
    if (status.phase === 'Healthy') return { kind: 'done', message: `release ${releaseId} of rolloutgroup ${name} completed` };
    if (status.phase === 'Degraded') return { kind: 'failed', message: `rolloutgroup ${name} is Degraded: ${status.message ?? ''}`.trim() };
    return { kind: 'wait', message: `${status.phase}: ${status.message ?? ''}`.trim() };
  }
  if (release.id !== releaseId) return { kind: 'failed', message: `rolloutgroup ${name} now runs release ${release.id}, not ${releaseId}; promote it on its own` };
  if (release.abortedAt || status.phase === 'Degraded') return { kind: 'failed', message: `release ${releaseId} of rolloutgroup ${name} is Degraded: ${status.message ?? 'aborted'}` };
  // One request at a time: the controller removes it once handled.
  const pending = metadata.annotations?.[REQUEST.promote];
  if (pending !== undefined) return { kind: 'wait', message: `${status.phase}: ${status.message ?? ''} (promote ${pending} pending)`.trim() };
  const next = promoteRequest(group);
  if (!next.ok) return { kind: 'wait', message: `${status.phase}: ${status.message ?? ''}`.trim() };
  return { kind: 'request', annotations: next.annotations, summary: next.summary };
}
