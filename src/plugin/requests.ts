import { REQUEST, type RolloutGroup } from '../api/rolloutgroup.ts';

/** The annotations a request sets on the group, or why it cannot be made. */
export type RequestResult =
  | { readonly ok: true; readonly annotations: Readonly<Record<string, string>>; readonly summary: string }
  | { readonly ok: false; readonly problem: string };

const inFlight = (group: RolloutGroup) => group.status?.release;

/** `tandem.dev/promote: <release id>`: the release in flight, or the one pinned with --release. */
export function promoteRequest(group: RolloutGroup, pinned?: string): RequestResult {
  const name = group.metadata.name;
  const release = inFlight(group);
  if (pinned !== undefined) {
    // A pinned id may name a release the controller has not reported yet; it refuses a wrong one itself.
    return { ok: true, annotations: { [REQUEST.promote]: pinned }, summary: `promote of release ${pinned} requested` };
  }
  if (!release) return { ok: false, problem: `rolloutgroup ${name} has no release in flight; nothing to promote` };
  if (release.abortedAt) return { ok: false, problem: `release ${release.id} of rolloutgroup ${name} was aborted; retry it or change a member` };
  // While a stage other than the last is promoting, a request is kept for the next gate.
  const lastStage = (release.stage ?? 0) + 1 >= (release.stages ?? 1);
  if (release.promotedAt && lastStage) return { ok: false, problem: `release ${release.id} of rolloutgroup ${name} is already promoting` };
  return { ok: true, annotations: { [REQUEST.promote]: release.id }, summary: `promote of release ${release.id} requested` };
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
