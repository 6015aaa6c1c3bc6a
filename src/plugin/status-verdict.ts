import type { Phase, RolloutGroup } from '../api/rolloutgroup.ts';

/** What `status` waits for: Healthy (the default) or the Paused gate. */
export type StatusTarget = Extract<Phase, 'Healthy' | 'Paused'>;

export type Verdict =
  | { readonly done: false; readonly message: string }
  | { readonly done: true; readonly ok: boolean; readonly message: string };

/**
 * Whether `kubectl rolloutgroup status` may stop looking. The phase counts only once the controller has
 * observed the current generation: right after a spec change the old phase is stale.
 */
export function statusVerdict(group: RolloutGroup, until: StatusTarget): Verdict {
  const { status, metadata } = group;
  if (!status?.phase) return { done: false, message: 'waiting for the controller to report a status' };
  if (status.observedGeneration !== metadata.generation) {
    return { done: false, message: `waiting for the controller to observe generation ${metadata.generation}` };
  }
  const message = `${status.phase}: ${status.message ?? ''}`.trim();
  if (status.phase === 'Degraded') return { done: true, ok: false, message };
  if (status.phase === until) return { done: true, ok: true, message };
  return { done: false, message };
}
