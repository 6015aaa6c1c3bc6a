import type { ReleaseStatus, RolloutGroup } from '../api/rolloutgroup.ts';
import { READY } from '../planner/reasons.ts';

/**
 * The triggers users subscribe to, named as Argo Rollouts names its own (`on-rollout-completed`, …).
 * Each is a milestone of a release that the group's persisted status shows, so a controller that
 * restarts derives the same ones again (level-triggered) and the record below says which were sent.
 */
export const TRIGGERS = ['on-release-started', 'on-release-waiting', 'on-release-promoted', 'on-release-aborted', 'on-release-rolled-back', 'on-release-completed'] as const;
export type Trigger = (typeof TRIGGERS)[number];
export const isTrigger = (t: string): t is Trigger => (TRIGGERS as readonly string[]).includes(t);

/** What a template may say about the release (`{{release.id}}`, `{{#release.targets}}…`). */
export interface ReleaseVars {
  readonly id: string;
  readonly state: ReleaseStatus['state'] | 'Completed';
  /** 1-based, for people; with `stages` only when the release has several (canary barriers, Ordered). */
  readonly stage?: number;
  readonly stages?: number;
  readonly retries?: number;
  readonly startedAt?: string;
  readonly targets: readonly { readonly rollout: string; readonly revision: string; readonly from?: string }[];
  readonly abortReason?: string;
  readonly openedBy?: string;
  readonly rolledBack?: readonly string[];
}

export interface Milestone {
  readonly trigger: Trigger;
  /** The release this milestone belongs to: its id, `#<retries>` after a retry. */
  readonly releaseKey: string;
  /** Unique within the release: `started`, `waiting/<stage>`, … */
  readonly key: string;
  readonly release: ReleaseVars;
}

/** The annotation recording what was delivered, as Argo's `notified.notifications.argoproj.io`. */
export const NOTIFIED_ANNOTATION = 'notifications.tandem.dev/notified';

/** Deliveries of one release: `<milestone key>@<destination>`. Older releases are forgotten. */
export interface NotifiedRecord {
  readonly release: string;
  readonly sent: readonly string[];
}

export function readRecord(annotations: Readonly<Record<string, string>>): NotifiedRecord | undefined {
  const raw = annotations[NOTIFIED_ANNOTATION];
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as { release?: unknown; sent?: unknown };
    if (typeof v.release !== 'string' || !Array.isArray(v.sent)) return undefined;
    return { release: v.release, sent: v.sent.filter((s): s is string => typeof s === 'string') };
  } catch {
    return undefined; // edited by hand into something else: start a fresh record
  }
}

export const releaseKeyOf = (r: Pick<ReleaseStatus, 'id' | 'retries'>): string => (r.retries ? `${r.id}#${r.retries}` : r.id);

function varsOf(r: ReleaseStatus): ReleaseVars {
  const several = (r.stages ?? 1) > 1;
  return {
    id: r.id,
    state: r.state,
    ...(several ? { stage: (r.stage ?? 0) + 1, stages: r.stages! } : {}),
    ...(r.retries ? { retries: r.retries } : {}),
    startedAt: r.startedAt,
    targets: r.targets.map((t) => ({ rollout: t.rollout, revision: t.revision, ...(t.from ? { from: t.from } : {}) })),
    ...(r.abortReason !== undefined ? { abortReason: r.abortReason } : {}),
    ...(r.openedBy !== undefined ? { openedBy: r.openedBy } : {}),
    ...(r.rolledBack ? { rolledBack: r.rolledBack } : {}),
  };
}

/**
 * The milestones the group's status shows now, in the order a release passes them. A release in
 * flight implies it started; a completed one has left the status, so its completion is recognised
 * from the Ready condition and named by the record (the release the notifier last saw).
 */
export function milestones(group: RolloutGroup, record: NotifiedRecord | undefined): Milestone[] {
  const status = group.status;
  const ready = status?.conditions.find((c) => c.type === 'Ready');
  const r = status?.release;
  if (!r) {
    if (!record || status?.phase !== 'Healthy' || ready?.reason !== READY.ReleaseCompleted) return [];
    const id = record.release.split('#')[0]!;
    return [{ trigger: 'on-release-completed', releaseKey: record.release, key: 'completed', release: { id, state: 'Completed', targets: [] } }];
  }
  const releaseKey = releaseKeyOf(r);
  const release = varsOf(r);
  const stage = r.stage ?? 0;
  const at = (trigger: Trigger, key: string): Milestone => ({ trigger, releaseKey, key, release });
  const out = [at('on-release-started', 'started')];
  // Waiting for a person: a gate without auto promotion (Soaking is not a wait for anyone).
  if (r.state === 'Gating' && status?.phase === 'Paused' && ready?.reason === READY.AwaitingPromotion) out.push(at('on-release-waiting', `waiting/${stage}`));
  if (r.state === 'CuttingOver') out.push(at('on-release-promoted', `promoted/${stage}`));
  if (r.state === 'RollingBack' || r.state === 'Aborted') out.push(at('on-release-aborted', 'aborted'));
  if (r.state === 'Aborted' && (r.rolledBack?.length ?? 0) > 0) out.push(at('on-release-rolled-back', 'rolled-back'));
  return out;
}
