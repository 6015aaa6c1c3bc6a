import { API_VERSION, KIND, RolloutGroup } from '../api/rolloutgroup.ts';
import { Rollout, Service, type RolloutView } from '../api/rollout.ts';
import type { Observed, PeerGroup } from '../planner/observed.ts';
import { validate, type InvalidReason } from '../planner/validation.ts';
import type { ManifestDoc } from './manifests.ts';

/** Objects without a namespace are applied to one namespace together; lint calls it this. */
const UNSET_NAMESPACE = 'default';

export type LintReason = InvalidReason | 'SchemaInvalid' | 'DuplicateGroup';

export interface LintProblem {
  readonly file: string;
  /** The object the problem is about, e.g. `rolloutgroup shop/loans`. */
  readonly object: string;
  readonly reason: LintReason;
  readonly message: string;
}

export interface LintResult {
  readonly groups: number;
  readonly problems: readonly LintProblem[];
}

interface Located<T> {
  readonly doc: ManifestDoc;
  readonly namespace: string;
  readonly value: T;
}

const kindOf = (o: unknown): { apiVersion?: unknown; kind?: unknown } => (typeof o === 'object' && o !== null ? (o as { apiVersion?: unknown; kind?: unknown }) : {});

function withNamespace(o: unknown): { namespace: string; object: Record<string, unknown> } {
  const object = o as Record<string, unknown>;
  const metadata = (typeof object['metadata'] === 'object' && object['metadata'] !== null ? object['metadata'] : {}) as Record<string, unknown>;
  const namespace = typeof metadata['namespace'] === 'string' && metadata['namespace'] ? metadata['namespace'] : UNSET_NAMESPACE;
  return { namespace, object: { ...object, metadata: { ...metadata, namespace } } };
}

const issuesText = (issues: readonly { path: PropertyKey[]; message: string }[]) =>
  issues.map((i) => `${i.path.map(String).join('.') || 'object'}: ${i.message}`).join('; ');

/**
 * Validates the RolloutGroups in a set of manifests against the Rollouts and Services in the same set,
 * with the controller's own rules (`validate`), as if they were applied to a cluster together.
 * Kinds other than RolloutGroup, Rollout and Service are ignored. Pure.
 */
export function lintManifests(docs: readonly ManifestDoc[]): LintResult {
  const problems: LintProblem[] = [];
  const groups: Located<RolloutGroup>[] = [];
  const rollouts: Located<Rollout>[] = [];
  const services: Located<Service>[] = [];
  for (const doc of docs) {
    const { apiVersion, kind } = kindOf(doc.object);
    if (kind === KIND && typeof apiVersion === 'string' && apiVersion.startsWith('tandem.dev/')) {
      const { namespace, object } = withNamespace(doc.object);
      const name = String((object['metadata'] as { name?: unknown }).name ?? `(document ${doc.index})`);
      const parsed = apiVersion === API_VERSION ? RolloutGroup.safeParse(object) : undefined;
      if (!parsed?.success) {
        const message = parsed ? issuesText(parsed.error.issues) : `apiVersion ${apiVersion} is not served; use ${API_VERSION}`;
        problems.push({ file: doc.file, object: `rolloutgroup ${namespace}/${name}`, reason: 'SchemaInvalid', message });
        continue;
      }
      groups.push({ doc, namespace, value: parsed.data });
    } else if (kind === 'Rollout' && apiVersion === 'argoproj.io/v1alpha1') {
      const { namespace, object } = withNamespace(doc.object);
      const parsed = Rollout.safeParse(object);
      if (!parsed.success) {
        const name = String((object['metadata'] as { name?: unknown }).name ?? `(document ${doc.index})`);
        problems.push({ file: doc.file, object: `rollout ${namespace}/${name}`, reason: 'SchemaInvalid', message: issuesText(parsed.error.issues) });
        continue;
      }
      rollouts.push({ doc, namespace, value: parsed.data });
    } else if (kind === 'Service' && apiVersion === 'v1') {
      const { namespace, object } = withNamespace(doc.object);
      const parsed = Service.safeParse(object);
      if (parsed.success) services.push({ doc, namespace, value: parsed.data });
    }
  }

  // Without creationTimestamps, a group earlier in the files counts as older (it keeps a shared member).
  const peerOf = (g: Located<RolloutGroup>, position: number): PeerGroup => ({
    name: g.value.metadata.name,
    creationTimestamp: g.value.metadata.creationTimestamp ?? new Date(position * 1000).toISOString(),
    members: g.value.spec.members.map((m) => m.rollout),
  });
  const peers = groups.map((g, i) => ({ namespace: g.namespace, peer: peerOf(g, i) }));

  const seen = new Set<string>();
  groups.forEach((g, i) => {
    const id = `rolloutgroup ${g.namespace}/${g.value.metadata.name}`;
    if (seen.has(id)) {
      problems.push({ file: g.doc.file, object: id, reason: 'DuplicateGroup', message: `${id} is defined more than once; keep one` });
      return;
    }
    seen.add(id);
    const inNamespace = <T>(xs: readonly Located<T>[]) => xs.filter((x) => x.namespace === g.namespace).map((x) => x.value);
    const observed: Observed = {
      now: 0,
      clusterDomain: 'cluster.local',
      group: { ...g.value, metadata: { ...g.value.metadata, creationTimestamp: peers[i]!.peer.creationTimestamp } },
      rollouts: new Map<string, RolloutView>(inNamespace(rollouts).map((r) => [r.metadata.name, { rollout: r, owned: {} }])),
      replicaSets: [],
      services: new Map(inNamespace(services).map((s) => [s.metadata.name, s])),
      peers: peers.filter((p, j) => j !== i && p.namespace === g.namespace).map((p) => p.peer),
    };
    const result = validate(observed);
    if (result.valid) return;
    for (const p of result.problems) {
      // Offline, "not found" means "not in these files": say so, since the cluster may well have it.
      const offline = p.reason === 'MemberNotFound' || / does not exist/.test(p.message);
      problems.push({ file: g.doc.file, object: id, reason: p.reason, message: offline ? `${p.message} (lint looks only in the files given)` : p.message });
    }
  });
  return { groups: groups.length, problems };
}

export const formatProblem = (p: LintProblem): string => `${p.file}: ${p.object}: ${p.reason}: ${p.message}`;
