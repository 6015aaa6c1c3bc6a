import { FIELD_MANAGER } from '../api/rolloutgroup.ts';
import { ReplicaSet, Rollout, Service, type OwnedKeys } from '../api/rollout.ts';
import { ownedAnnotationKeys } from './managed-fields.ts';
import { project } from './schema-projection.ts';

/**
 * Informer transforms (client-go's SetTransform): what the caches keep of each object. A cached
 * Rollout, ReplicaSet or Service holds only what its schema in src/api/rollout.ts reads, plus the
 * metadata the list-watch itself needs; managedFields go, Tandem's own annotation keys are read off
 * them on the way in. Whole objects with managedFields made up most of the controller's memory.
 */

type Raw = { metadata?: Record<string, unknown> } & Record<string, unknown>;

/** Where a transformed Rollout keeps the annotation keys Tandem owned when it arrived. */
const OWNED = Symbol('tandem.owned');

/** Every cached object keeps what the list-watch and change notifications read. */
function withBookkeeping(raw: Raw, projected: unknown): Raw {
  const out = projected as Raw;
  const m = raw.metadata ?? {};
  out.metadata = {
    ...out.metadata,
    ...pick(m, ['name', 'namespace', 'uid', 'resourceVersion', 'generation']),
  };
  return out;
}

const pick = (o: Record<string, unknown>, keys: readonly string[]) => Object.fromEntries(keys.flatMap((k) => (o[k] === undefined ? [] : [[k, o[k]]])));

export function transformRollout(raw: Raw): Raw {
  const out = withBookkeeping(raw, project(Rollout, raw));
  (out as Record<symbol, unknown>)[OWNED] = ownedAnnotationKeys(raw.metadata?.['managedFields'] as never, FIELD_MANAGER);
  return out;
}

/** The keys Tandem owned on a Rollout the cache transformed (see transformRollout). */
export const ownedKeysOf = (cached: object): OwnedKeys => ((cached as Record<symbol, unknown>)[OWNED] as OwnedKeys | undefined) ?? {};

/** The pod template stays whole: restoring a revision (Argo's `undo`) writes it back. */
const RS_WHOLE = new Set(['spec.template']);
export const transformReplicaSet = (raw: Raw): Raw => withBookkeeping(raw, project(ReplicaSet, raw, RS_WHOLE));

export const transformService = (raw: Raw): Raw => withBookkeeping(raw, project(Service, raw));

/** Groups are read whole (their schema lives with the planner); only the managedFields go. */
export function transformGroup(raw: Raw): Raw {
  if (!raw.metadata?.['managedFields']) return raw;
  const { managedFields: _dropped, ...metadata } = raw.metadata;
  return { ...raw, metadata };
}

/** Templates are read whole (a run is built from them); only the managedFields go. */
export const transformAnalysisTemplate = transformGroup;

/**
 * Of an AnalysisRun the planner reads its metadata, status, `spec.terminate`, its args and how long
 * its metrics measure (docs/analysis.md, the deadline): the providers and conditions go.
 */
export function transformAnalysisRun(raw: Raw): Raw {
  const { spec, ...rest } = transformGroup(raw) as Raw & { spec?: Record<string, unknown> };
  if (!spec) return rest;
  const metrics = Array.isArray(spec['metrics'])
    ? (spec['metrics'] as Record<string, unknown>[]).map((m) => Object.fromEntries(['name', 'initialDelay', 'interval', 'count'].filter((k) => m[k] !== undefined).map((k) => [k, m[k]])))
    : undefined;
  const kept = { terminate: spec['terminate'], args: spec['args'], metrics };
  return { ...rest, spec: Object.fromEntries(Object.entries(kept).filter(([, v]) => v !== undefined)) };
}

/** The label the endpointslice controller names a slice's Service with. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Where a transformed EndpointSlice keeps when this cache received it (the controller's clock). */
const SEEN_AT = Symbol('tandem.seenAt');

/**
 * Of an EndpointSlice the planner reads only which ReplicaSets its pods belong to and whether one is
 * ready (data-plane.ts): each endpoint becomes its pod's ReplicaSet name, deduplicated, so a slice
 * of a hundred pods of one revision is kept as one string. Stamped with the time it arrived: the
 * settle delay counts from when the nodes, watching the same slice, could first have seen it.
 */
export function transformEndpointSlice(raw: Raw, now: () => number = Date.now): Raw {
  const m = raw.metadata ?? {};
  const endpoints = Array.isArray(raw['endpoints']) ? (raw['endpoints'] as { targetRef?: { kind?: string; name?: string }; conditions?: { ready?: boolean; terminating?: boolean } }[]) : [];
  const replicaSets = [...new Set(endpoints.map((e) => (e.targetRef?.kind === 'Pod' && e.targetRef.name ? replicaSetOfPod(e.targetRef.name) : '')))].sort();
  const labels = m['labels'] as Record<string, string> | undefined;
  const out: Raw = {
    metadata: { ...pick(m, ['name', 'namespace', 'uid', 'resourceVersion']), labels: { [SERVICE_NAME_LABEL]: labels?.[SERVICE_NAME_LABEL] ?? '' } },
    replicaSets,
    // kube-proxy routes to a ready endpoint, or (none ready) to one terminating but still serving.
    ready: endpoints.some((e) => e.conditions?.ready !== false),
    terminating: endpoints.some((e) => e.conditions?.terminating === true),
  };
  (out as Record<symbol, unknown>)[SEEN_AT] = now();
  return out;
}

/** The ReplicaSet a pod's name says it belongs to: `<replicaset>-<5 random characters>` (the ReplicaSet's generateName). */
export const replicaSetOfPod = (pod: string): string => pod.slice(0, Math.max(0, pod.lastIndexOf('-')));

/** When the cache received a transformed EndpointSlice (see transformEndpointSlice). */
export const seenAtOf = (cached: object): number => ((cached as Record<symbol, unknown>)[SEEN_AT] as number | undefined) ?? 0;
