/** DESIGN §5 over a recorded history. Each function returns the violations it found, as sentences. */
import type { ClusterState, Recorder } from './recorder.ts';

export interface Edge {
  readonly dependent: string;
  readonly dependency: string;
  readonly annotation: string;
}

const HASH = 'rollouts-pod-template-hash';
const tag = (image: string | undefined) => image?.slice(image.lastIndexOf(':') + 1);
const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const ready = (pod: any) =>
  !pod.metadata.deletionTimestamp && (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

/** The image tag of the revision a Service selects, read from the dependency's ReplicaSets. */
function versionBehind(state: ClusterState, service: string, owner: string): string | undefined {
  const hash = state.Service.get(service)?.spec?.selector?.[HASH];
  if (!hash) return undefined;
  for (const rs of state.ReplicaSet.values()) {
    if (rs.metadata.labels?.[HASH] === hash && (rs.metadata.ownerReferences ?? []).some((o: any) => o.name === owner)) {
      return tag(rs.spec.template.spec.containers[0].image);
    }
  }
  return undefined;
}

/**
 * Each ready pod behind a dependent's active (stable) Service, at every recorded state, with the
 * address it uses for a dependency: the pin (`pin.<annotation>`) when it has one, as apps read it
 * (@tandem/podinfo), and the Service that address names.
 */
function* livePods(recorder: Recorder, edges: readonly Edge[], role: 'active' | 'preview' = 'active') {
  for (const { event, state } of recorder.states()) {
    for (const edge of edges) {
      const d = state.Rollout.get(edge.dependent);
      const bg = d?.spec?.strategy?.blueGreen;
      const can = d?.spec?.strategy?.canary;
      const activeSvc = state.Service.get(role === 'active' ? (bg?.activeService ?? can?.stableService) : (bg?.previewService ?? can?.canaryService));
      const selector = activeSvc?.spec?.selector;
      if (!selector?.[HASH]) continue;
      for (const pod of state.Pod.values()) {
        if (!ready(pod) || !selects(selector, pod.metadata.labels)) continue;
        const url: string | undefined = pod.metadata.annotations?.[`pin.${edge.annotation}`] ?? pod.metadata.annotations?.[edge.annotation];
        const where = `#${event.seq} ${event.kind} ${event.verb} ${event.object.metadata.name}: pod ${pod.metadata.name}`;
        yield { where, state, edge, d, activeSvc, pod, url, service: url ? /^[a-z]+:\/\/([^.]+)\./.exec(url)?.[1] : undefined };
      }
    }
  }
}

/**
 * Matched versions: each ready pod behind a dependent's active Service has, for each dependency, an
 * address whose Service selects the dependency revision of the same version. Versions match when
 * they are equal, or a pair the test says Git declared together. No other exception: with
 * addresses pinned to revisions, the outgoing revision never reaches a new dependency (DESIGN §4b).
 */
export function matchedVersionViolations(recorder: Recorder, edges: readonly Edge[], declared: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const { where, state, edge: e, d, activeSvc, pod, url, service } of livePods(recorder, edges)) {
    if (!url) {
      // Argo strips its metadata from a revision it retires (a rollback) before its Service lets go
      // of the pods; apps keep the last address they had (docs/wiring.md). Any other pod must have one.
      const retiring = pod.metadata.labels?.[HASH] !== d.status?.currentPodHash && pod.metadata.labels?.[HASH] !== d.status?.stableRS;
      if (!retiring) out.push(`${where} behind ${activeSvc.metadata.name} has no ${e.annotation}`);
      continue;
    }
    const theirs = versionBehind(state, service ?? '', e.dependency);
    const mine = tag(pod.spec.containers[0].image);
    // Same version, or a pair Git declared together (`mine→theirs`, given by the test).
    if (theirs === mine || declared.has(`${mine}→${theirs}`)) continue;
    out.push(`${where} (${e.dependent}:${mine}) reaches ${service ?? ''} (${e.dependency}:${theirs})`);
  }
  return out;
}

/**
 * The preview window (docs/real-node.md): each ready pod of a dependent's new revision behind its
 * preview (canary) Service that has an address for a dependency reaches, by it, the dependency's
 * revision of the same version (or a pair Git declared together). A pod without an address is
 * allowed: a real app is not ready without one (docs/wiring.md); kwok's pods are ready regardless.
 */
export function previewMatchedViolations(recorder: Recorder, edges: readonly Edge[], declared: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const { where, state, edge: e, d, activeSvc, pod, url, service } of livePods(recorder, edges, 'preview')) {
    if (!url || pod.metadata.labels?.[HASH] !== d.status?.currentPodHash || d.status?.currentPodHash === d.status?.stableRS) continue;
    const theirs = versionBehind(state, service ?? '', e.dependency);
    const mine = tag(pod.spec.containers[0].image);
    if (theirs === mine || declared.has(`${mine}→${theirs}`)) continue;
    out.push(`${where} (${e.dependent}:${mine}) behind ${activeSvc.metadata.name} reaches ${service ?? ''} (${e.dependency}:${theirs})`);
  }
  return out;
}

/**
 * Never an empty Service (DESIGN §4b): each ready pod behind a dependent's active Service calls, for
 * each dependency, an address (its pin first) whose Service selects at least one ready pod.
 */
export function emptyServiceViolations(recorder: Recorder, edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const { where, state, service } of livePods(recorder, edges)) {
    const target = service ? state.Service.get(service)?.spec?.selector : undefined;
    if (!target) continue; // no address (matchedVersionViolations reports it) or not a Service of the namespace
    if (![...state.Pod.values()].some((p) => ready(p) && selects(target, p.metadata.labels))) out.push(`${where} calls ${service}, which selects no ready pod`);
  }
  return out;
}

/** The order in which Rollouts switched their active Service, and how many times each did. */
export function activeSwitches(recorder: Recorder): { rollout: string; from: string; to: string; seq: number }[] {
  const last = new Map<string, string>();
  const out: { rollout: string; from: string; to: string; seq: number }[] = [];
  for (const { event } of recorder.states()) {
    if (event.kind !== 'Rollout') continue;
    const r = event.object;
    const active = r.status?.blueGreen?.activeSelector;
    const before = last.get(r.metadata.name);
    if (active && before && active !== before) out.push({ rollout: r.metadata.name, from: before, to: active, seq: event.seq });
    if (active) last.set(r.metadata.name, active);
  }
  return out;
}

/** Each change of a Service's selected revision, in order (what traffic follows; Argo writes it before the Rollout's status). */
export function selectorChanges(recorder: Recorder): { service: string; from: string; to: string; seq: number }[] {
  const last = new Map<string, string>();
  const out: { service: string; from: string; to: string; seq: number }[] = [];
  let first = true;
  for (const { event, state } of recorder.states()) {
    if (first) {
      // The initial lists: where each Service stood when recording began.
      for (const [name, svc] of state.Service) if (svc.spec?.selector?.[HASH]) last.set(name, svc.spec.selector[HASH]);
      first = false;
      continue;
    }
    if (event.kind !== 'Service') continue;
    const name: string = event.object.metadata.name;
    const hash = event.object.spec?.selector?.[HASH];
    const before = last.get(name);
    if (hash && before && hash !== before) out.push({ service: name, from: before, to: hash, seq: event.seq });
    if (hash) last.set(name, hash);
  }
  return out;
}

/** The first event at which each Rollout's canary step index reached `step` or beyond. */
export function firstAtStep(recorder: Recorder, step: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const { event } of recorder.states()) {
    if (event.kind !== 'Rollout' || out.has(event.object.metadata.name)) continue;
    if ((event.object.status?.currentStepIndex ?? -1) >= step && event.object.status?.currentPodHash !== event.object.status?.stableRS) {
      out.set(event.object.metadata.name, event.seq);
    }
  }
  return out;
}

/** The event at which each Rollout's stable revision changed, in order. */
export function stableChanges(recorder: Recorder): { rollout: string; to: string; seq: number }[] {
  const last = new Map<string, string>();
  const out: { rollout: string; to: string; seq: number }[] = [];
  for (const { event } of recorder.states()) {
    if (event.kind !== 'Rollout') continue;
    const stable = event.object.status?.stableRS;
    const before = last.get(event.object.metadata.name);
    if (stable && before && stable !== before) out.push({ rollout: event.object.metadata.name, to: stable, seq: event.seq });
    if (stable) last.set(event.object.metadata.name, stable);
  }
  return out;
}

/** The first event at which each Rollout was paused with BlueGreenPause on the given revision. */
export function firstReady(recorder: Recorder): Map<string, number> {
  const out = new Map<string, number>();
  for (const { event } of recorder.states()) {
    if (event.kind !== 'Rollout' || out.has(event.object.metadata.name)) continue;
    const s = event.object.status ?? {};
    if ((s.pauseConditions ?? []).some((p: any) => p.reason === 'BlueGreenPause')) out.set(event.object.metadata.name, event.seq);
  }
  return out;
}
