/**
 * A model of what the Argo Rollouts controller does to a Rollout (reference notes §1–§4), small
 * enough to run thousands of times. Blue-green: observe a spec change, create the preview ReplicaSet
 * with preview metadata, pause once the preview is available, switch the active Service after a
 * promote, then mark the revision stable. Canary: steps [setWeight, pause {}] × barriers, each pause
 * reached once the canary is available and left on a promote; after the last, the revision becomes
 * stable. A failed analysis is an abort. Ephemeral metadata follows stableRS and is re-synced every
 * step. For a canary, "active"/"preview" below stand for its stable/canary Service and metadata.
 */
import { EPHEMERAL_METADATA, ReplicaSet, Rollout, Service, type OwnedKeys } from '../../src/api/rollout.ts';
import { AnalysisRun, AnalysisTemplate } from '../../src/api/analysis.ts';
import type { ServiceEndpoints } from '../../src/planner/data-plane.ts';

export const NS = 'shop';

export interface ModelReplicaSet {
  available: boolean;
  /** Scaled to zero (an aborted revision after abortScaleDownDelaySeconds). */
  scaledDown?: boolean;
  /** Tandem's pins on the pod template (new pods get them) and on the pods there are; Argo never touches them. */
  templatePins?: Record<string, string>;
  podPins?: Record<string, string>;
  /** Since when no Service or role uses it (model time): Argo scales it down after scaleDownDelaySeconds. */
  unusedSince?: number;
  /** The role metadata Argo injected into the template (and recorded on the ReplicaSet): written first. */
  injected: Record<string, string>;
  /** The annotations its pods carry: Argo updates them from `injected` just after the template (reference §1.3). */
  podAnnotations: Record<string, string>;
  /** The last annotations Argo stripped from its pods (syncEphemeralMetadata): what their files may still hold. */
  lastAnnotations?: Record<string, string>;
  /** `metadata.generation`: every write of its spec (template metadata, scale) bumps it; 1 if never written. */
  generation?: number;
  /**
   * What the ReplicaSet controller last observed, while it has yet to observe the latest spec
   * (`replicaSetsLag`): its status's observedGeneration and replica count. undefined: in sync.
   */
  observed?: { generation: number; replicas: number };
}

export interface ModelRollout {
  readonly name: string;
  generation: number;
  observedGeneration: number;
  /** The revision the spec asks for (the pod template hash). */
  template: string;
  currentPodHash: string;
  stableRS: string;
  activeSelector: string;
  previewSelector: string;
  paused: boolean;
  controllerPause: boolean;
  /** `spec.paused`: a person's hold (`kubectl argo rollouts pause`); Argo moves nothing while it is set. */
  specPaused?: boolean;
  /** An inconclusive analysis paused it for a person (pause condition InconclusiveAnalysisRun). */
  inconclusive?: boolean;
  /** Has a post-promotion analysis: once switched it is live, and stable only when that passes. */
  postPromotionAnalysis?: boolean;
  /** Its post-promotion analysis runs now: live (active switched), not yet stable. */
  analysisRunning?: boolean;
  /** When it was aborted (model time), for abortScaleDownDelaySeconds. */
  abortedAt?: number;
  abort: boolean;
  /** 0: blue-green; n ≥ 1: canary with n barriers. */
  readonly barriers: number;
  /** Canary: index into its steps (2 per barrier); 2 × barriers once complete. */
  stepIndex: number;
  previewMetadata: Record<string, string>;
  activeMetadata: Record<string, string>;
  owned: OwnedKeys;
  resourceVersion: number;
  readonly replicaSets: Map<string, ModelReplicaSet>;
  /** A basic canary's previous stable ReplicaSet is scaled down as the new one completes (see canaryStep). */
  scaleDownAtCompletion?: boolean;
  /** The data plane of its two Services (see ModelDataPlane). */
  readonly dataPlane: Record<'active' | 'preview', ModelDataPlane>;
  /**
   * The address keys its pods need to be ready (docs/wiring.md: an app with no address for a
   * dependency is not ready). A pod without one is not available, so a canary Service never
   * switches to its ReplicaSet (see becomeAvailable).
   */
  needs?: readonly string[];
  /**
   * The ReplicaSet controller observes its ReplicaSets' spec writes only at `replicaSetsSync` (under
   * load kube-controller-manager took 7–10 s: docs/performance.md); without it, at once.
   */
  replicaSetsLag?: boolean;
}

/**
 * One Service as the nodes see it: the endpointslice controller lists the ready pods the selector
 * selects a moment after it changed (`slice`, written at `sliceAt`), and kube-proxy routes calls
 * by the slice a moment after that (`routed`): within the settle delay, the model's one assumption
 * (docs/design.md). undefined: no pod listed, calls are refused.
 */
export interface ModelDataPlane {
  slice: string | undefined;
  sliceAt: number;
  routed: string | undefined;
  /** Pods a canary's setWeight scaled down are still listed, terminating, until they are gone (`podsGone`). */
  terminating?: boolean;
}

/** The terminating pods of a Rollout's Services are gone (their grace period ended). */
export function podsGone(r: ModelRollout) {
  for (const dp of Object.values(r.dataPlane)) delete dp.terminating;
}

export function newRollout(name: string, revision: string, active: Record<string, string>, preview: Record<string, string>, owned: OwnedKeys, barriers = 0): ModelRollout {
  return {
    name,
    generation: 1,
    observedGeneration: 1,
    template: revision,
    currentPodHash: revision,
    stableRS: revision,
    activeSelector: revision,
    previewSelector: revision,
    paused: false,
    controllerPause: false,
    abort: false,
    barriers,
    stepIndex: 2 * barriers,
    previewMetadata: preview,
    activeMetadata: active,
    owned,
    resourceVersion: 1,
    replicaSets: new Map([[revision, { available: true, injected: { ...active }, podAnnotations: { ...active } }]]),
    dataPlane: { active: { slice: revision, sliceAt: 0, routed: revision }, preview: { slice: revision, sliceAt: 0, routed: revision } },
  };
}

/** Its pods have an address (a pin, or their role metadata) for every key they need. */
export const podsReady = (r: ModelRollout, rs: ModelReplicaSet): boolean => (r.needs ?? []).every((k) => podAddress(rs, k) !== undefined);

/** The readiness probes of a revision's pods pass: it becomes available if its pods have every address they need. */
export function becomeAvailable(r: ModelRollout, revision: string) {
  const rs = r.replicaSets.get(revision);
  if (rs && !rs.scaledDown && podsReady(r, rs)) rs.available = true;
}

/** The replicas a ReplicaSet's spec asks for. */
const specReplicas = (rs: ModelReplicaSet) => (rs.scaledDown ? 0 : 1);

/** A write of a ReplicaSet's spec, made by `change`: its generation goes up; a lagging controller has yet to observe it. */
function writeSpec(r: ModelRollout, rs: ModelReplicaSet, change: () => void) {
  const generation = rs.generation ?? 1;
  if (r.replicaSetsLag) rs.observed ??= { generation, replicas: specReplicas(rs) };
  change();
  rs.generation = generation + 1;
}

/** The ReplicaSet controller catches up with every ReplicaSet of the Rollout. */
export function replicaSetsSync(r: ModelRollout) {
  for (const rs of r.replicaSets.values()) delete rs.observed;
}

const selectorOf = (r: ModelRollout, role: 'active' | 'preview') => (role === 'active' ? r.activeSelector : r.previewSelector);

/** The endpointslice controller: each Service's slice lists the ready pods its selector selects now. */
export function syncSlices(r: ModelRollout, now: number) {
  for (const role of ['active', 'preview'] as const) {
    const sel = selectorOf(r, role);
    const listed = r.replicaSets.get(sel)?.available && !r.replicaSets.get(sel)?.scaledDown ? sel : undefined;
    const dp = r.dataPlane[role];
    if (dp.slice !== listed) {
      dp.slice = listed;
      dp.sliceAt = now;
    }
  }
}

/** kube-proxy syncs: calls through each Service go where its slice says. */
export function syncProxy(r: ModelRollout) {
  for (const dp of Object.values(r.dataPlane)) dp.routed = dp.slice;
}

/** The assumption the settle delay stands for: a node has followed a slice within settleMs of its write. */
export function settleDataPlane(r: ModelRollout, now: number, settleMs: number) {
  for (const dp of Object.values(r.dataPlane)) if (now - dp.sliceAt >= settleMs) dp.routed = dp.slice;
}

/** The EndpointSlices of every Service, as the gateway gives them to the planner. */
export function endpointObjects(rollouts: ReadonlyMap<string, ModelRollout>): Map<string, ServiceEndpoints> {
  return new Map(
    [...rollouts.values()].flatMap((r) =>
      (['active', 'preview'] as const).map((role) => {
        const dp = r.dataPlane[role];
        return [`${r.name}-${role}`, { replicaSets: dp.slice ? [`${r.name}-${dp.slice}`] : [], ready: dp.slice !== undefined, seenAt: dp.sliceAt, ...(dp.terminating ? { terminating: true } : {}) }] as const;
      }),
    ),
  );
}

/** The revision calls to an address reach in the data plane; undefined: refused, or an unknown address. */
export function revisionRouted(url: string, rollouts: ReadonlyMap<string, ModelRollout>): string | undefined {
  const host = /^http:\/\/([^.]+)\./.exec(url)?.[1];
  const m = host ? /^(.*)-(active|preview)$/.exec(host) : null;
  const r = m ? rollouts.get(m[1]!) : undefined;
  if (!r || !m) return undefined;
  return r.dataPlane[m[2] as 'active' | 'preview'].routed;
}

/** Argo's abort (by hand, or a failed analysis): the pause ends, the active Service goes back to the stable revision. */
export function abort(r: ModelRollout, now?: number) {
  r.abort = true;
  r.analysisRunning = false;
  if (now !== undefined) r.abortedAt = now;
  r.activeSelector = r.stableRS;
  r.paused = false;
  r.controllerPause = false;
  r.resourceVersion++;
}

/** The revision a pod template (as the planner restores it) stands for. */
export const revisionOfTemplate = (template: Record<string, unknown>): string => {
  const image = (template as { spec?: { containers?: { image?: string }[] } }).spec?.containers?.[0]?.image ?? '';
  return image.slice(image.lastIndexOf(':') + 1);
};

/** The user (or Git) asks for a new revision. */
export function pushRevision(r: ModelRollout, revision: string) {
  r.template = revision;
  r.generation++;
  r.resourceVersion++;
}

/**
 * One reconcile of the Argo controller for this Rollout. `podsLag`: the planner reads the world
 * after Argo rewrote the ReplicaSets' templates and before it updated their pods (it does the pods
 * next, in the same reconcile: they catch up at the next step).
 */
export function argoStep(r: ModelRollout, podsLag = false) {
  const before = JSON.stringify(r);
  // Argo syncs role metadata after switching Services but before it writes a new stableRS, so pods
  // get the active metadata one reconcile after the revision is called stable (reference §1.5).
  const stableAtStart = r.stableRS;
  if ((r.specPaused || r.inconclusive) && r.observedGeneration === r.generation) {
    // Held by a person, or paused for one by an inconclusive analysis: Argo keeps everything where it is.
  } else if (r.observedGeneration !== r.generation) {
    r.observedGeneration = r.generation;
    if (r.template !== r.currentPodHash) {
      r.currentPodHash = r.template;
      r.abort = false;
      r.analysisRunning = false;
      r.inconclusive = false;
      delete r.abortedAt;
      r.paused = false;
      r.controllerPause = false;
      // A canary Service moves to the new ReplicaSet only once it has an available pod (below).
      if (r.barriers === 0 || r.template === r.stableRS) r.previewSelector = r.template;
      r.stepIndex = r.template === r.stableRS ? 2 * r.barriers : 0;
      const existing = r.replicaSets.get(r.template);
      if (!existing || existing.scaledDown) {
        // Created, or scaled up from zero: its status counts no replica until the controller observes it.
        const rs: ModelReplicaSet = { available: false, injected: { ...r.previewMetadata }, podAnnotations: { ...r.previewMetadata }, generation: (existing?.generation ?? 0) + 1 };
        if (r.replicaSetsLag) rs.observed = { generation: existing?.generation ?? 0, replicas: 0 };
        r.replicaSets.set(r.template, rs);
      }
      else if (r.barriers === 0 && r.replicaSets.get(r.template)!.available && r.activeSelector !== r.template) {
        // Back to a ReplicaSet still up within scaleDownDelaySeconds: a fast rollback, no pause (reference §4).
        // Argo calls it stable a reconcile later; until then its pods carry the preview metadata.
        r.activeSelector = r.template;
      }
    }
  } else if (r.abort) {
    // Aborted: Argo drops the pause and keeps the stable revision active; a canary starts its steps over.
    r.paused = false;
    r.controllerPause = false;
    if (r.barriers > 0 && r.stableRS !== r.currentPodHash) r.stepIndex = 0;
  } else if (r.barriers > 0) {
    canaryStep(r);
  } else if (r.controllerPause && !r.paused) {
    r.activeSelector = r.currentPodHash; // the user resumed: switch the active Service
    r.controllerPause = false;
    if (r.postPromotionAnalysis) r.analysisRunning = true;
  } else if (!r.abort && !r.analysisRunning && r.activeSelector === r.currentPodHash && r.stableRS !== r.currentPodHash) {
    r.stableRS = r.currentPodHash;
  } else if (
    !r.abort &&
    r.stableRS !== r.currentPodHash &&
    r.activeSelector !== r.currentPodHash &&
    !r.paused &&
    r.replicaSets.get(r.currentPodHash)?.available
  ) {
    r.paused = true;
    r.controllerPause = true;
  }
  if (r.barriers > 0 && !r.abort && !(r.specPaused || r.inconclusive)) {
    // Argo's ensureSVCTargets: a basic canary's canary Service follows the desired ReplicaSet once
    // that has an available pod. (Aborted, Argo points it back at the stable pods; not modelled:
    // a live dependent pinned to it would then reach the previous revision, a rollback window this
    // model does not cover yet.)
    const desired = r.replicaSets.get(r.currentPodHash);
    if (desired?.available && !desired.scaledDown) r.previewSelector = r.currentPodHash;
  }
  syncEphemeralMetadata(r, stableAtStart, podsLag);
  if (JSON.stringify(r) !== before) r.resourceVersion++;
}

function canaryStep(r: ModelRollout) {
  const last = 2 * r.barriers;
  if (r.controllerPause && !r.paused) {
    // The user resumed: the pause step is done.
    r.stepIndex++;
    r.controllerPause = false;
  } else if (r.stepIndex >= last && r.stableRS !== r.currentPodHash) {
    // All steps done: a later reconcile (the canary scaled to full) makes it stable, Service and all.
    // A basic canary (no traffic routing) scales the previous stable ReplicaSet down with it: no
    // scaleDownDelaySeconds. Its pods still answer what the nodes send them while they terminate
    // (a preStop sleep), which the data plane's `routed` stands for.
    const previous = r.replicaSets.get(r.stableRS);
    if (r.scaleDownAtCompletion && previous && r.stableRS !== r.currentPodHash) {
      writeSpec(r, previous, () => (previous.scaledDown = true));
      previous.available = false;
    }
    r.stableRS = r.currentPodHash;
    r.activeSelector = r.currentPodHash;
  } else if (r.stableRS !== r.currentPodHash && !r.paused && r.stepIndex % 2 === 0 && r.stepIndex < last && r.replicaSets.get(r.currentPodHash)?.available) {
    // setWeight done (the canary is available): on to the pause step, which pauses. The stable
    // pods it scaled down terminate, still listed by the stable Service's slices for a while.
    r.dataPlane.active.terminating = true;
    r.stepIndex++;
    r.paused = true;
    r.controllerPause = true;
  }
}

/**
 * The desired ReplicaSet gets the preview metadata (the active one once it is stable), the stable one
 * the active metadata, every other one none: also one still behind the active Service, when Git moved
 * on from it before Argo called it stable (reference §1.3: `otherRSs` are synced with nil).
 */
function syncEphemeralMetadata(r: ModelRollout, stableRS: string, podsLag: boolean) {
  const fullyRolledOut = stableRS === r.currentPodHash;
  for (const [hash, rs] of r.replicaSets) {
    const injected = { ...(hash === r.currentPodHash ? (fullyRolledOut ? r.activeMetadata : r.previewMetadata) : hash === stableRS ? r.activeMetadata : {}) };
    if (JSON.stringify(injected) !== JSON.stringify(rs.injected)) writeSpec(r, rs, () => (rs.injected = injected));
    if (podsLag) continue;
    // The kubelet rewrites a pod's Downward API files a while later: until then a stripped pod holds what was there.
    if (Object.keys(rs.injected).length === 0 && Object.keys(rs.podAnnotations).length > 0) rs.lastAnnotations = rs.podAnnotations;
    rs.podAnnotations = { ...rs.injected };
    // The desired revision's pods fail their readiness probe once an address they need is gone. (A
    // retiring revision's would too; the model keeps those available, as their preStop keeps them answering.)
    if (hash === r.currentPodHash && hash !== stableRS && !podsReady(r, rs)) rs.available = false;
  }
}

/** A post-promotion analysis ends: passed, the revision becomes stable next; failed, Argo aborts it. */
export function analysisEnds(r: ModelRollout, passed: boolean, now: number) {
  if (!r.analysisRunning) return;
  if (passed) r.analysisRunning = false;
  else abort(r, now);
  r.resourceVersion++;
}

/** `kubectl argo rollouts promote` by a person: the pause conditions and the hold go. */
export function promoteByHand(r: ModelRollout) {
  r.paused = false;
  r.inconclusive = false;
  r.specPaused = false;
  r.generation++;
  r.resourceVersion++;
}

/** Argo scales an aborted revision's ReplicaSet to zero once abortScaleDownDelaySeconds have passed. */
export function scaleDownAborted(r: ModelRollout) {
  const rs = r.replicaSets.get(r.currentPodHash);
  if (r.abort && rs && r.currentPodHash !== r.stableRS && !rs.scaledDown) {
    writeSpec(r, rs, () => (rs.scaledDown = true));
    rs.available = false;
    r.resourceVersion++;
  }
}

/**
 * A merge patch of pins (null removes); `half`: a crash between the template write and the pods';
 * `podsOnly`: the template untouched; `templateOnly`: the pods untouched. A key that is no pin is
 * Argo's own (a pin handing its address over): Tandem may only write there what Argo injected.
 */
export function pin(r: ModelRollout, rs: ModelReplicaSet, annotations: Readonly<Record<string, string | null>>, half = false, podsOnly = false, templateOnly = false) {
  const pins = Object.entries(annotations).filter(([k]) => k.startsWith('pin.'));
  const merge = (into: Record<string, string> = {}) => {
    const out = { ...into };
    for (const [k, v] of pins) if (v === null) delete out[k];
    else out[k] = v;
    return out;
  };
  const own = Object.entries(annotations).filter(([k]) => !k.startsWith('pin.'));
  for (const [k, v] of own) if (v !== rs.injected[k]) throw new Error(`Tandem wrote ${k}=${v} where Argo injected ${rs.injected[k]}`);
  if (!podsOnly && JSON.stringify(merge(rs.templatePins)) !== JSON.stringify(rs.templatePins ?? {})) writeSpec(r, rs, () => (rs.templatePins = merge(rs.templatePins)));
  if (!half && !templateOnly) {
    rs.podPins = merge(rs.podPins);
    for (const [k, v] of own) rs.podAnnotations[k] = v!;
  }
}

/** The address a pod of this ReplicaSet uses for `key`: its pin first (as @tandem/podinfo reads it). */
export const podAddress = (rs: ModelReplicaSet, key: string): string | undefined => rs.podPins?.[`pin.${key}`] ?? rs.podAnnotations[key];

/** Argo scales a ReplicaSet nothing uses any more to zero once scaleDownDelaySeconds (30 s) have passed. */
export function scaleDownUnused(r: ModelRollout, now: number) {
  for (const [hash, rs] of r.replicaSets) {
    const used = hash === r.stableRS || hash === r.activeSelector || hash === r.currentPodHash || hash === r.previewSelector;
    if (used || rs.scaledDown) {
      delete rs.unusedSince;
      continue;
    }
    rs.unusedSince ??= now;
    if (now - rs.unusedSince >= 30_000) {
      writeSpec(r, rs, () => (rs.scaledDown = true));
      rs.available = false;
      r.resourceVersion++;
    }
  }
}

/** Its pods are up as far as its status says: what the ReplicaSet controller has observed of them (`replicaSetsLag`). */
export const reportedUp = (r: ModelRollout, revision: string): boolean => hasPods(r, revision) && (r.replicaSets.get(revision)!.observed?.replicas ?? 1) > 0;

/** The pods of a revision run (its ReplicaSet has available replicas). */
export const hasPods = (r: ModelRollout, revision: string): boolean => {
  const rs = r.replicaSets.get(revision);
  return rs !== undefined && rs.available && !rs.scaledDown;
};

export const isPromoted = (r: ModelRollout) => r.stableRS === r.currentPodHash && r.activeSelector === r.currentPodHash;

// ---- how the planner sees the model ----

export function rolloutObject(r: ModelRollout) {
  const strategy =
    r.barriers > 0
      ? {
          canary: {
            canaryService: `${r.name}-preview`,
            stableService: `${r.name}-active`,
            steps: Array.from({ length: r.barriers }, () => [{ setWeight: 50 }, { pause: {} }]).flat(),
            canaryMetadata: { annotations: { ...r.previewMetadata } },
            stableMetadata: { annotations: { ...r.activeMetadata } },
          },
        }
      : {
          blueGreen: {
            activeService: `${r.name}-active`,
            previewService: `${r.name}-preview`,
            autoPromotionEnabled: false,
            previewMetadata: { annotations: { ...r.previewMetadata } },
            activeMetadata: { annotations: { ...r.activeMetadata } },
          },
        };
  return Rollout.parse({
    metadata: { name: r.name, namespace: NS, generation: r.generation, resourceVersion: String(r.resourceVersion) },
    spec: {
      replicas: 1,
      ...(r.specPaused ? { paused: true } : {}),
      strategy,
      template: { spec: { containers: [{ image: `example/${r.name}:${r.template}` }] } },
    },
    status: {
      observedGeneration: String(r.observedGeneration),
      currentPodHash: r.currentPodHash,
      stableRS: r.stableRS,
      controllerPause: r.controllerPause,
      pauseConditions: [...(r.paused ? [{ reason: r.barriers > 0 ? 'CanaryPauseStep' : 'BlueGreenPause' }] : []), ...(r.inconclusive ? [{ reason: 'InconclusiveAnalysisRun' }] : [])],
      abort: r.abort,
      phase: r.abort ? 'Degraded' : r.paused ? 'Paused' : isPromoted(r) ? 'Healthy' : 'Progressing',
      ...(r.barriers > 0 ? { currentStepIndex: r.stepIndex } : { blueGreen: { activeSelector: r.activeSelector, previewSelector: r.previewSelector } }),
    },
  });
}

export function replicaSetObjects(r: ModelRollout) {
  return [...r.replicaSets].map(([hash, rs]) =>
    ReplicaSet.parse({
      metadata: {
        name: `${r.name}-${hash}`,
        namespace: NS,
        generation: rs.generation ?? 1,
        labels: { 'rollouts-pod-template-hash': hash },
        // What Argo injected into the template (and so the pods): its role metadata.
        annotations: { [EPHEMERAL_METADATA]: JSON.stringify({ annotations: rs.injected }) },
        ownerReferences: [{ kind: 'Rollout', name: r.name }],
      },
      spec: {
        replicas: specReplicas(rs),
        template: { metadata: { labels: { 'rollouts-pod-template-hash': hash }, annotations: { ...rs.injected, ...rs.templatePins } }, spec: { containers: [{ image: `example/${r.name}:${hash}` }] } },
      },
      // A lagging controller's status: the replicas it last observed, of which the available ones.
      status: {
        observedGeneration: rs.observed?.generation ?? rs.generation ?? 1,
        replicas: rs.observed?.replicas ?? specReplicas(rs),
        availableReplicas: Math.min(rs.observed?.replicas ?? 1, rs.available && !rs.scaledDown ? 1 : 0),
      },
    }),
  );
}

/** Each Rollout's active/stable and preview/canary Services, selecting what the model says. */
export function serviceObjects(rollouts: ReadonlyMap<string, ModelRollout>) {
  return new Map(
    [...rollouts.values()].flatMap((r) =>
      (['active', 'preview'] as const).map((role) => {
        const hash = role === 'active' ? r.activeSelector : r.previewSelector;
        const svc = Service.parse({ metadata: { name: `${r.name}-${role}`, namespace: NS }, spec: { selector: { 'rollouts-pod-template-hash': hash }, ports: [{ port: 80 }] } });
        return [`${r.name}-${role}`, svc] as const;
      }),
    ),
  );
}

/** The revision the Service behind an address selects, or undefined for an unknown address. */
export function revisionBehind(url: string, rollouts: ReadonlyMap<string, ModelRollout>): string | undefined {
  const host = /^http:\/\/([^.]+)\./.exec(url)?.[1];
  const m = host ? /^(.*)-(active|preview)$/.exec(host) : null;
  const r = m ? rollouts.get(m[1]!) : undefined;
  if (!r || !m) return undefined;
  return m[2] === 'active' ? r.activeSelector : r.previewSelector;
}

// ---- group AnalysisRuns (docs/analysis.md) ----

/**
 * A group AnalysisRun as the Argo controller runs it: Pending until it starts, Running, then the
 * phase its metrics reach. Argo never changes a run's phase once it has concluded.
 */
export interface ModelAnalysisRun {
  readonly name: string;
  readonly release: string;
  phase: 'Pending' | 'Running' | 'Successful' | 'Failed' | 'Error' | 'Inconclusive';
  /** `spec.terminate`, and why Tandem set it (its annotation). */
  terminatedBy?: string;
  /** When it was created (model time), and the metrics Tandem gave it (their timing bounds it). */
  readonly createdAt: number;
  readonly metrics: readonly Record<string, unknown>[];
}

export const concluded = (run: ModelAnalysisRun): boolean => run.phase !== 'Pending' && run.phase !== 'Running';

/** Argo measures a run's metric and concludes (or starts it: Running); a terminated run it concludes Successful ("Run Terminated"). */
export function measure(run: ModelAnalysisRun, phase: ModelAnalysisRun['phase']) {
  if (!concluded(run)) run.phase = run.terminatedBy !== undefined ? 'Successful' : phase;
}

export function analysisRunObject(run: ModelAnalysisRun) {
  const decided = run.phase === 'Failed' || run.phase === 'Error' || run.phase === 'Inconclusive';
  return AnalysisRun.parse({
    metadata: { name: run.name, namespace: NS, creationTimestamp: new Date(run.createdAt).toISOString(), labels: { 'tandem.dev/group': 'g', 'tandem.dev/release': run.release }, ...(run.terminatedBy !== undefined ? { annotations: { 'tandem.dev/terminated': run.terminatedBy } } : {}) },
    spec: { metrics: run.metrics, ...(run.terminatedBy !== undefined ? { terminate: true } : {}) },
    ...(run.phase === 'Pending' ? {} : { status: { phase: run.phase, metricResults: [{ name: 'ok', phase: run.phase, ...(decided ? { measurements: [{ value: 'false' }] } : {}) }] } }),
  });
}

/** How long the model's template measures: 5 measurements a minute apart. */
export const OK_RUN_MS = 4 * 60_000;

/** The template the model's groups name: one metric, one arg filled from the release. */
export const okTemplate = AnalysisTemplate.parse({
  kind: 'AnalysisTemplate',
  metadata: { name: 'ok', namespace: NS },
  spec: { args: [{ name: 'preview' }], metrics: [{ name: 'ok', interval: '1m', count: 5, successCondition: 'result == true', provider: { web: { url: 'http://127.0.0.1/{{args.preview}}' } } }] },
});
