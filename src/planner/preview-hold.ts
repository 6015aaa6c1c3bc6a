import type { Member, ReleaseStatus, ReleaseTarget } from '../api/rolloutgroup.ts';
import { POD_TEMPLATE_HASH, type ReplicaSet, type RolloutView, type Service } from '../api/rollout.ts';
import { metadataOf, serviceNameOf } from '../api/rollout-roles.ts';
import { servesOnly, type ServiceEndpoints, type Settled } from './data-plane.ts';
import { replicaSetOf } from './member-reading.ts';

/** What the rule reads of the world (a part of Observed). */
export interface PreviewHoldInput {
  readonly now: number;
  readonly rollouts: ReadonlyMap<string, RolloutView>;
  readonly replicaSets: readonly ReplicaSet[];
  readonly services: ReadonlyMap<string, Service>;
  readonly endpoints?: ReadonlyMap<string, ServiceEndpoints> | undefined;
}

const HELD: Settled = { settled: false, inMs: undefined };
const GIVEN: Settled = { settled: true };

/**
 * Whether a Lockstep dependent's preview (canary) pods may have a dependency's preview address now
 * (docs/wiring.md, "No address: not ready"). Argo creates the dependent's new ReplicaSet with the
 * preview metadata the Rollout has when it sees the new template, and points the dependent's
 * preview Service at it once a pod is available. With the address from birth, a new dependent
 * would reach the dependency's preview while that still selects the old revision (the preview
 * window, docs/real-node.md). Apps are ready only with an address, so withholding it holds the new
 * pods back, and Argo's switch with them, until the dependency's preview serves its new revision.
 *
 * - No release (and outside Lockstep's forward path): nothing needs it; it stays off, so the next
 *   release's ReplicaSet is born without it.
 * - RollingBack: given, as before (a rolled-back dependent's pods come back through their preview
 *   metadata, pinned where that matters; design.md).
 * - A dependency outside the release: given (its preview is its stable revision).
 * - Otherwise given once the dependency's preview Service selects its target revision and its
 *   EndpointSlices have listed only those pods for the settle delay (data-plane.ts); kept while the
 *   Service still selects it (a pod's restart, a relist restarting the delay), so no ready pod loses it.
 *
 * `settled: false` carries how long until the settle delay has run, for the requeue.
 */
export function previewAddress(release: ReleaseStatus | undefined, dependency: string, carried: boolean, o: PreviewHoldInput, settleMs: number): Settled {
  if (!release) return HELD;
  if (release.state === 'RollingBack') return GIVEN;
  const target = release.targets.find((t) => t.rollout === dependency);
  if (!target) return GIVEN;
  const view = o.rollouts.get(dependency);
  const name = view ? serviceNameOf(view.rollout, 'preview') : undefined;
  const svc = name ? o.services.get(name) : undefined;
  const selected = svc?.spec.selector[POD_TEMPLATE_HASH];
  const rs = replicaSetOf(o.replicaSets, dependency, target.revision);
  if (!view || !name || !rs || selected !== target.revision) return carried && view !== undefined && movedPast(target, selected, view) ? GIVEN : HELD;
  if (carried) return GIVEN;
  return servesOnly(o.endpoints?.get(name), rs.metadata.name, o.now, settleMs);
}

/**
 * The dependency's preview selects pods newer than the release's (Git moved it on; Argo points a
 * blue-green preview at them at once): pods given the address keep it, as they were born with it
 * and the release is superseded anyway; taking it would only make them unready.
 */
const movedPast = (target: ReleaseTarget, selected: string | undefined, view: RolloutView) =>
  selected !== undefined && selected !== target.from && selected !== (view.rollout.status.stableRS || undefined);

/** Whether the dependent's Rollout carries `url` under `key` in its preview metadata now. */
export const carriesPreview = (view: RolloutView | undefined, key: string, url: string): boolean =>
  view !== undefined && metadataOf(view.rollout, 'preview')?.[key] === url;

/** The soonest a withheld preview address of `members` may be given by the clock alone (the settle delay), for the requeue. */
export function previewHoldRequeue(release: ReleaseStatus | undefined, members: readonly Member[], o: PreviewHoldInput, settleMs: number): number | undefined {
  let soonest: number | undefined;
  for (const m of members) {
    for (const dep of m.dependsOn) {
      const s = previewAddress(release, dep.rollout, false, o, settleMs);
      if (!s.settled && s.inMs !== undefined) soonest = Math.min(soonest ?? s.inMs, s.inMs);
    }
  }
  return soonest;
}
