import type { RolloutGroup } from '../api/rolloutgroup.ts';
import type { AuthorityPolicy } from './authority.ts';
import type { ReplicaSet, RolloutView, Service } from '../api/rollout.ts';
import type { AnalysisRun, AnalysisTemplate } from '../api/analysis.ts';
import type { ServiceEndpoints } from './data-plane.ts';

/** Another group in the same namespace, as far as claims on Rollouts go. */
export interface PeerGroup {
  readonly name: string;
  readonly creationTimestamp: string;
  readonly members: readonly string[];
}

/** Everything plan() may look at. Built from informer caches; no I/O happens after this. */
export interface Observed {
  /** Milliseconds since the epoch; the planner has no clock of its own. */
  readonly now: number;
  readonly clusterDomain: string;
  readonly group: RolloutGroup;
  /** The group's members and former members (status.members), by name; absent when not found. */
  readonly rollouts: ReadonlyMap<string, RolloutView>;
  /** ReplicaSets owned by those Rollouts. */
  readonly replicaSets: readonly ReplicaSet[];
  /** Services in the group's namespace, by name. */
  readonly services: ReadonlyMap<string, Service>;
  /** What the EndpointSlices of those Services list (data-plane.ts), by Service name; absent: not observable. */
  readonly endpoints?: ReadonlyMap<string, ServiceEndpoints>;
  readonly peers: readonly PeerGroup[];
  /** Members Argo has left unobserved or unacted on for too long (the reconciler's clock says so). */
  readonly nudgeDue?: ReadonlySet<string>;
  /** The AnalysisRuns this group created (owned by it), by name. */
  readonly analysisRuns?: ReadonlyMap<string, AnalysisRun>;
  /** The templates the group's analysis names, keyed by analysis.ts `templateKey`; absent when not found. */
  readonly analysisTemplates?: ReadonlyMap<string, AnalysisTemplate>;
  /** True for a controller watching one namespace: it cannot read ClusterAnalysisTemplates, so none is ever found. */
  readonly clusterTemplatesUnreadable?: boolean;
  /** The controller's flags on keys and consent (authority.ts); absent: the schema's rules only. */
  readonly authority?: AuthorityPolicy | undefined;
}
