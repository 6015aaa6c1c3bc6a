import type { ReplicaSet, Service } from '../api/rollout.ts';
import { serviceNameOf, type ServiceRole } from '../api/rollout-roles.ts';
import type { RolloutView } from '../api/rollout.ts';
import { replicaSetOf } from './member-reading.ts';

/**
 * What the data plane shows of one Service: its EndpointSlices, as the gateway's cache keeps them
 * (cache-transforms.ts `transformEndpointSlice`). kube-proxy (or a mesh) routes by these slices, not
 * by the Service object: after a selector change the endpointslice controller rewrites them, and
 * each node reprograms itself a moment later (iptables sync), so for that moment calls through the
 * Service still reach the pods it selected before (docs/real-node.md, the windows).
 */
export interface ServiceEndpoints {
  /** The ReplicaSets of the pods the slices list, ready or not (a pod's name without its random suffix). */
  readonly replicaSets: readonly string[];
  /** At least one listed endpoint is ready. */
  readonly ready: boolean;
  /** When this controller's cache received the newest of the Service's slices (its own clock, ms). */
  readonly seenAt: number;
  /** Some listed pod is terminating (its slice keeps it until the pod is gone). */
  readonly terminating?: boolean;
}

/** The data plane of a Service routes only to one revision's pods, or how long until it may. */
export type Settled =
  | { readonly settled: true }
  /** `inMs`: the settle delay still to run; undefined while the slices still list other pods (a watch event ends it). */
  | { readonly settled: false; readonly inMs: number | undefined };

const SETTLED: Settled = { settled: true };

/**
 * Whether calls through `service` reach only `replicaSet`'s pods: its slices list those pods alone,
 * one of them ready, and have done so for `settleMs` (the time the nodes take to follow a slice).
 * A Service without any slice in the cache is not observable (no endpointslice controller, a
 * selector-less Service): the Service object decides, as it always did.
 */
export function servesOnly(endpoints: ServiceEndpoints | undefined, replicaSet: string, now: number, settleMs: number): Settled {
  if (!endpoints) return SETTLED;
  if (!endpoints.ready || endpoints.replicaSets.some((rs) => rs !== replicaSet)) return { settled: false, inMs: undefined };
  const left = endpoints.seenAt + settleMs - now;
  return left <= 0 ? SETTLED : { settled: false, inMs: left };
}

/**
 * Whether a member's `role` Service lists no terminating pod. With no ready pod, kube-proxy sends a
 * Service's calls to its terminating pods, some of which may have stopped answering: Argo's basic
 * canary scales its last stable pod down a reconcile before it switches the stable Service, so its
 * final promotion waits until the pods earlier steps scaled down are gone (docs/design.md).
 */
export function memberDrained(
  view: RolloutView | undefined,
  role: ServiceRole,
  o: { readonly endpoints?: ReadonlyMap<string, ServiceEndpoints> | undefined },
): boolean {
  const name = view ? serviceNameOf(view.rollout, role) : undefined;
  return !name || o.endpoints?.get(name)?.terminating !== true;
}

/**
 * `servesOnly` for a member's `role` Service and one of its revisions, from what plan() observed.
 * A revision without a ReplicaSet has no pods to serve: settled (nothing better can come).
 */
export function memberServesOnly(
  view: RolloutView | undefined,
  role: ServiceRole,
  revision: string,
  o: { readonly replicaSets: readonly ReplicaSet[]; readonly services: ReadonlyMap<string, Service>; readonly endpoints?: ReadonlyMap<string, ServiceEndpoints> | undefined; readonly now: number },
  settleMs: number,
): Settled {
  const name = view ? serviceNameOf(view.rollout, role) : undefined;
  const rs = view ? replicaSetOf(o.replicaSets, view.rollout.metadata.name, revision) : undefined;
  if (!name || !rs || !o.services.has(name)) return SETTLED;
  return servesOnly(o.endpoints?.get(name), rs.metadata.name, o.now, settleMs);
}

