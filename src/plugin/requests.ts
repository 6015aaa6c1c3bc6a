import { REQUEST, type RolloutGroup } from '../api/rolloutgroup.ts';

/** The annotations a request sets on the group, or why it cannot be made. */
export type RequestResult =
  | { readonly ok: true; readonly annotations: Readonly<Record<string, string>>; readonly summary: string }
  | { readonly ok: false; readonly problem: string };

const inFlight = (group: RolloutGroup) => group.status?.release;

/** `tandem.dev/promote: <release id>[/<stage>]`: the release in flight, or the one pinned with --release. */
export function promoteRequest(group: RolloutGroup, pinned?: string): RequestResult {
  const name = group.metadata.name;
  const release = inFlight(group);
  if (pinned !== undefined) {
    // A pinned id may name a release the controller has not reported yet; it refuses a wrong one itself.
    return { ok: true, annotations: { [REQUEST.promote]: pinned }, summary: `promote of release ${pinned} requested` };
  }
  if (!release) return { ok: false, problem: `rolloutgroup ${name} has no release in flight; nothing to promote` };
  if (release.abortedAt) return { ok: false, problem: `release ${release.id} of rolloutgroup ${name} was aborted; retry it or change a member` };
  // Multi-stage releases name the gate (`<id>/<stage>`), so a request never opens a later one:
  // the current stage's, or the next one's while the current stage is promoting.
  const stages = release.stages ?? 1;
  const stage = (release.stage ?? 0) + 1 + (release.promotedAt ? 1 : 0);
  if (stage > stages) return { ok: false, problem: `release ${release.id} of rolloutgroup ${name} is already promoting` };
  const value = stages > 1 ? `${release.id}/${stage}` : release.id;
  const which = stages > 1 ? ` (stage ${stage}/${stages})` : '';
  return { ok: true, annotations: { [REQUEST.promote]: value }, summary: `promote of release ${release.id}${which} requested` };
}

export function abortRequest(group: RolloutGroup, reason: string): RequestResult {
  const release = inFlight(group);
  if (!release) return { ok: false, problem: `rolloutgroup ${group.metadata.name} has no release in flight; nothing to abort` };
  return { ok: true, annotations: { [REQUEST.abort]: reason }, summary: `abort of release ${release.id} requested` };
}

/** `tandem.dev/retry: <release id>`: only an aborted release can be retried. */
export function retryRequest(group: RolloutGroup): RequestResult {
  const name = group.metadata.name;
  const release = inFlight(group);
  if (!release) return { ok: false, problem: `rolloutgroup ${name} has no release in flight; nothing to retry` };
  if (!release.abortedAt) return { ok: false, problem: `release ${release.id} of rolloutgroup ${name} was not aborted; nothing to retry` };
  return { ok: true, annotations: { [REQUEST.retry]: release.id }, summary: `retry of release ${release.id} requested` };
}
