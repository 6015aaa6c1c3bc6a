import { POD_TEMPLATE_HASH, type ReplicaSet, type Rollout, type Service } from '../api/rollout.ts';
import { serviceNameOf } from '../api/rollout-roles.ts';

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
  /** The revision the active/stable Service selects (blue-green activeSelector; canary: its stable Service). */
  readonly activeRevision: string | undefined;
  /** Pods of the desired revision are up (its ReplicaSet has available replicas). */
  readonly desiredPodsUp: boolean;
  /** A person holds it: `spec.paused: true` (`kubectl argo rollouts pause`). */
  readonly held: boolean;
  /** A pause Argo made for a person, other than the strategy's own (an inconclusive analysis, say). */
  readonly foreignPause: string | undefined;
  readonly resourceVersion: string;
  readonly failed: boolean;
  readonly aborted: boolean;
  readonly phase: string | undefined;
  readonly message: string | undefined;
  /** How many barriers the member passes in a release: 1 for blue-green, its `pause: {}` steps for canary. */
  readonly barrierCount: number;
  /** The barrier (0-based) it is paused at, if any. */
  readonly atBarrier: number | undefined;
  /** Indexes into `canary.steps` of its barriers; empty for blue-green. */
  readonly barrierSteps: readonly number[];
  readonly stepIndex: number | undefined;
  readonly stableRevision: string | undefined;
  readonly desiredRevision: string | undefined;
  readonly images: readonly string[];
}

/** `services`: the namespace's Services by name; a canary is promoted only once its stable Service selects the new pods. */
/** Paused conditions were cleared (a promote) and Argo has not yet acted on it. */
const isUnpausing = ({ status }: Rollout): boolean => status.controllerPause === true && (status.pauseConditions ?? []).length === 0;

/**
 * Argo has yet to act on the Rollout's latest spec, promote or retry (`abort: false`, while the phase
 * still says the update was aborted): what its status says is not yet to be trusted.
 */
export function awaitingArgo(rollout: Rollout): boolean {
  const { status, metadata } = rollout;
  const retrying = status.abort !== true && status.phase === 'Degraded' && (status.message ?? '').startsWith('RolloutAborted');
  return status.observedGeneration !== String(metadata.generation) || isUnpausing(rollout) || retrying;
}

export function readMember(rollout: Rollout, replicaSets: readonly ReplicaSet[], services?: ReadonlyMap<string, Service>): MemberReading {
  const { spec, status, metadata } = rollout;
  const strategy = spec.strategy.blueGreen ? 'BlueGreen' : spec.strategy.canary ? 'Canary' : undefined;
  const pauses = status.pauseConditions ?? [];
  const unpausing = isUnpausing(rollout);
  const trusted = !awaitingArgo(rollout);
  const desired = status.currentPodHash || undefined;
  const stable = status.stableRS || undefined;
  const changed = desired !== undefined && stable !== undefined && desired !== stable;
  const aborted = status.abort === true;
  const failed = aborted || status.phase === 'Degraded';

  let promoted = desired !== undefined && stable === desired;
  let ready = false;
  let atGate = pauses.some((p) => p.reason === 'BlueGreenPause');
  let atBarrier: number | undefined = atGate ? 0 : undefined;
  const barrierSteps = barrierStepsOf(rollout);
  const stepIndex = status.currentStepIndex;
  const ownRs = replicaSetOf(replicaSets, metadata.name, desired);
  const ownPause = strategy === 'Canary' ? 'CanaryPauseStep' : 'BlueGreenPause';
  const foreignPause = pauses.find((p) => p.reason !== ownPause)?.reason;
  let activeRevision: string | undefined;
  if (strategy === 'Canary') {
    const barrier = stepIndex === undefined ? -1 : barrierSteps.indexOf(stepIndex);
    atGate = pauses.some((p) => p.reason === 'CanaryPauseStep') && barrier >= 0;
    atBarrier = atGate ? barrier : undefined;
    ready = changed && !failed && atGate && foreignPause === undefined && ownRs !== undefined && fullyAvailable(ownRs);
    // Argo moves the stable Service after it sets stableRS; until then stable traffic is still old.
    const stableService = serviceNameOf(rollout, 'active');
    const selected = stableService ? services?.get(stableService)?.spec.selector[POD_TEMPLATE_HASH] : desired;
    promoted &&= services === undefined || selected === desired;
    activeRevision = services === undefined ? stable : selected;
  }
  if (strategy === 'BlueGreen') {
    const bg = status.blueGreen ?? {};
    promoted &&= bg.activeSelector === desired;
    activeRevision = bg.activeSelector;
    // Without a preview Service Argo leaves previewSelector empty; the ReplicaSet still tells readiness.
    const previewSelected = bg.previewSelector === desired || !serviceNameOf(rollout, 'preview');
    ready =
      changed &&
      !failed &&
      atGate &&
      foreignPause === undefined &&
      previewSelected &&
      ownRs !== undefined &&
      fullyAvailable(ownRs);
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
    activeRevision,
    desiredPodsUp: ownRs !== undefined && ownRs.spec.replicas > 0 && ownRs.status.availableReplicas > 0,
    held: spec.paused === true,
    foreignPause,
    resourceVersion: metadata.resourceVersion,
    failed,
    aborted,
    phase: status.phase,
    message: status.message,
    barrierCount: strategy === 'Canary' ? barrierSteps.length : 1,
    atBarrier,
    barrierSteps,
    stepIndex,
    stableRevision: stable,
    desiredRevision: desired,
    images: (spec.template?.spec?.containers ?? []).flatMap((c) => (c.image ? [c.image] : [])),
  };
}

/** Indexes of the canary steps that are barriers: an indefinite `pause: {}` (a timed pause moves on by itself). */
export function barrierStepsOf(rollout: Rollout): number[] {
  const steps = rollout.spec.strategy.canary?.steps ?? [];
  return steps.flatMap((step, i) => (step.pause && step.pause.duration === undefined ? [i] : []));
}

/** The member has moved on past its barrier `i`: resumed from it, or promoted altogether. */
export function hasPassed(r: MemberReading, i: number): boolean {
  if (r.promoted) return true;
  if (r.strategy !== 'Canary') return false;
  const step = r.barrierSteps[i];
  return step !== undefined && r.stepIndex !== undefined && r.stepIndex > step;
}

/** The ReplicaSet of a Rollout's revision (pod-template-hash). */
export const replicaSetOf = (replicaSets: readonly ReplicaSet[], rollout: string, hash: string | undefined): ReplicaSet | undefined =>
  replicaSets.find((rs) => rs.metadata.labels[POD_TEMPLATE_HASH] === hash && rs.metadata.ownerReferences.some((o) => o.kind === 'Rollout' && o.name === rollout));

/**
 * Its pods are all up. A status behind the spec (observedGeneration) is trusted when it counts the
 * replicas the spec asks for: a ReplicaSet's template changes only in its metadata (Tandem's pins,
 * Argo's ephemeral metadata), which restarts no pod; waiting for the ReplicaSet controller to observe
 * a pin held each handoff of a storm for 7–10 s (docs/performance.md). A scale it has yet to observe
 * still reads as not available.
 */
const fullyAvailable = (rs: ReplicaSet): boolean =>
  rs.spec.replicas > 0 &&
  (rs.status.observedGeneration >= rs.metadata.generation || rs.status.replicas === rs.spec.replicas) &&
  rs.status.availableReplicas >= rs.spec.replicas;

/** A target of the release in flight whose Rollout is gone: it can only fail the release. */
export const missingReading = (name: string): MemberReading => ({
  name,
  strategy: undefined,
  trusted: true,
  unpausing: false,
  changed: false,
  ready: false,
  atGate: false,
  promoted: false,
  activeRevision: undefined,
  desiredPodsUp: false,
  held: false,
  foreignPause: undefined,
  resourceVersion: '',
  failed: true,
  aborted: false,
  phase: undefined,
  message: 'its Rollout is gone',
  barrierCount: 1,
  atBarrier: undefined,
  barrierSteps: [],
  stepIndex: undefined,
  stableRevision: undefined,
  desiredRevision: undefined,
  images: [],
});
