import { POD_TEMPLATE_HASH, type ReplicaSet, type Rollout } from '../api/rollout.ts';

/** What a member's Rollout says about it (DESIGN §2). */
export interface MemberReading {
  readonly name: string;
  readonly strategy: 'BlueGreen' | 'Canary' | undefined;
  /** Argo has observed the current spec and is not in the middle of unpausing. */
  readonly trusted: boolean;
  /** Paused conditions were cleared and Argo has not yet acted on it. */
  readonly unpausing: boolean;
  readonly changed: boolean;
  readonly ready: boolean;
  /** Paused at the blue-green gate (BlueGreenPause), whether or not its preview is available. */
  readonly atGate: boolean;
  readonly promoted: boolean;
  readonly failed: boolean;
  readonly aborted: boolean;
  readonly phase: string | undefined;
  readonly message: string | undefined;
  readonly stableRevision: string | undefined;
  readonly desiredRevision: string | undefined;
  readonly images: readonly string[];
}

export function readMember(rollout: Rollout, replicaSets: readonly ReplicaSet[]): MemberReading {
  const { spec, status, metadata } = rollout;
  const strategy = spec.strategy.blueGreen ? 'BlueGreen' : spec.strategy.canary ? 'Canary' : undefined;
  const pauses = status.pauseConditions ?? [];
  const unpausing = status.controllerPause === true && pauses.length === 0;
  const trusted = status.observedGeneration === String(metadata.generation) && !unpausing;
  const desired = status.currentPodHash || undefined;
  const stable = status.stableRS || undefined;
  const changed = desired !== undefined && stable !== undefined && desired !== stable;
  const aborted = status.abort === true;
  const failed = aborted || status.phase === 'Degraded';

  let promoted = desired !== undefined && stable === desired;
  let ready = false;
  const atGate = pauses.some((p) => p.reason === 'BlueGreenPause');
  if (strategy === 'BlueGreen') {
    const bg = status.blueGreen ?? {};
    promoted &&= bg.activeSelector === desired;
    const previewRs = replicaSets.find(
      (rs) => rs.metadata.labels[POD_TEMPLATE_HASH] === desired && ownedBy(rs, metadata.name),
    );
    // Without a preview Service Argo leaves previewSelector empty; the ReplicaSet still tells readiness.
    const previewSelected = bg.previewSelector === desired || !spec.strategy.blueGreen?.previewService;
    ready =
      changed &&
      !failed &&
      atGate &&
      previewSelected &&
      previewRs !== undefined &&
      fullyAvailable(previewRs);
  }
  return {
    name: metadata.name,
    strategy,
    trusted,
    unpausing,
    changed,
    ready,
    atGate,
    promoted,
    failed,
    aborted,
    phase: status.phase,
    message: status.message,
    stableRevision: stable,
    desiredRevision: desired,
    images: (spec.template?.spec?.containers ?? []).flatMap((c) => (c.image ? [c.image] : [])),
  };
}

const ownedBy = (rs: ReplicaSet, rollout: string): boolean =>
  rs.metadata.ownerReferences.some((o) => o.kind === 'Rollout' && o.name === rollout);

const fullyAvailable = (rs: ReplicaSet): boolean =>
  rs.spec.replicas > 0 &&
  rs.status.observedGeneration >= rs.metadata.generation &&
  rs.status.availableReplicas >= rs.spec.replicas;
