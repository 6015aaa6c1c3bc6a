import type { MemberStatus, RolloutGroup } from '../api/rolloutgroup.ts';
import type { Rollout } from '../api/rollout.ts';
import type { SideName } from '../api/rollout-roles.ts';
import { plain, toneOf, type Paint } from './paint.ts';
import { promotionOrder } from './promotion-order.ts';

/** One Service a member's Rollout names, and the pod-template-hash its selector holds now. */
export interface ServicePointer {
  readonly role: SideName;
  readonly name: string;
  /** false when the Service does not exist. */
  readonly exists: boolean;
  /** The `rollouts-pod-template-hash` in its selector; undefined when it selects no revision. */
  readonly selects: string | undefined;
}

export interface MemberLive {
  /** The member's Rollout as read now; undefined when it does not exist. */
  readonly rollout: Rollout | undefined;
  readonly services: readonly ServicePointer[];
}

const ICON: Record<string, string> = {
  Healthy: '✔',
  Progressing: '◌',
  Paused: '॥',
  Promoting: '⇡',
  Degraded: '✖',
};

/**
 * The `kubectl rolloutgroup get` view: the group, then its members in promotion order with their
 * strategy, phase, revisions, images and where their Services point. Pure: the caller reads the world
 * and says whether to colour (phases and states by meaning).
 */
/** An AnalysisRun phase in the tones of the group's phases. */
const ANALYSIS_PHASE: Record<string, string> = { Successful: 'Healthy', Failed: 'Degraded', Error: 'Degraded', Inconclusive: 'Paused', Pending: 'Progressing', Running: 'Progressing' };

export function renderTree(group: RolloutGroup, live: ReadonlyMap<string, MemberLive>, paint: Paint = plain): string {
  const { metadata, spec, status } = group;
  const out: string[] = [];
  const field = (k: string, v: string) => out.push(`${`${k}:`.padEnd(14)}${v}`);
  field('Name', metadata.name);
  field('Namespace', metadata.namespace);
  const promotion = spec.promotion.auto ? `auto after ${spec.promotion.soakSeconds}s soak` : 'on promote request';
  field('Strategy', `${spec.strategy}, promotion ${promotion}${spec.paused ? ', PAUSED (observing only)' : ''}`);
  const observed = status?.observedGeneration === metadata.generation;
  const phase = status?.phase ?? 'Unknown';
  const painted = paint(toneOf(phase), `${ICON[phase] ?? '?'} ${phase}`);
  field('Phase', `${painted}${status && !observed ? paint('dim', ' (spec change not yet observed)') : ''}`);
  if (status?.message) field('Message', status.message);
  const release = status?.release;
  if (release) {
    const milestones = [
      `started ${release.startedAt}`,
      ...(release.readyAt ? [`ready ${release.readyAt}`] : []),
      ...(release.promotedAt ? [`promoted ${release.promotedAt}`] : []),
      ...(release.abortedAt ? [`aborted ${release.abortedAt}`] : []),
    ];
    const stage = (release.stages ?? 1) > 1 ? `stage ${(release.stage ?? 0) + 1}/${release.stages}, ` : '';
    const retries = release.retries ? `, retried ${release.retries}×` : '';
    field('Release', `${release.id} (${release.state}, ${stage}${milestones.join(', ')}${retries})`);
    if (release.promotedMembers.length > 0) field('Moved on', release.promotedMembers.join(', '));
    if (release.rolledBack?.length) field('Rolled back', release.rolledBack.join(', '));
    // α as in Argo's own tree: the group's AnalysisRuns, their phase and what decided (docs/analysis.md).
    for (const a of release.analysisRuns ?? []) {
      field('Analysis', `α ${a.name} (${a.point}) ${paint(toneOf(ANALYSIS_PHASE[a.phase] ?? 'Progressing'), a.phase)}${a.accepted ? ' accepted by a promote' : ''}${a.message ? `: ${a.message}` : ''}`);
    }
  } else {
    field('Release', '-');
  }
  if (status?.readyMembers) field('Ready', status.readyMembers);
  out.push('');

  const order = promotionOrder(spec);
  const known = new Map((status?.members ?? []).map((m) => [m.rollout, m]));
  const deps = new Map(spec.members.map((m) => [m.rollout, m.dependsOn.map((d) => d.rollout)]));
  out.push(`⟳ ${paint('bold', metadata.name)}  RolloutGroup  ${paint(toneOf(phase), phase)}`);
  order.forEach((name, i) => {
    const last = i === order.length - 1;
    const branch = last ? '└── ' : '├── ';
    const pad = last ? '    ' : '│   ';
    out.push(...renderMember(i + 1, name, deps.get(name) ?? [], known.get(name), live.get(name), paint).map((l, j) => (j === 0 ? `${branch}${l}` : `${pad}${l}`)));
  });
  return `${out.join('\n')}\n`;
}

function renderMember(position: number, name: string, dependsOn: readonly string[], reported: MemberStatus | undefined, live: MemberLive | undefined, paint: Paint): string[] {
  const rollout = live?.rollout;
  const state = (s: string) => paint(toneOf(s), s);
  if (!rollout) return [`${position}. ${name}  ${paint('bad', 'Rollout not found')}  ${state(reported?.state ?? 'Missing')}`];
  const strategy = rollout.spec.strategy.blueGreen ? 'BlueGreen' : rollout.spec.strategy.canary ? 'Canary' : '?';
  const phase = rollout.status.phase ?? 'Unknown';
  const stable = rollout.status.stableRS || undefined;
  const desired = rollout.status.currentPodHash || undefined;
  const images = (rollout.spec.template?.spec?.containers ?? []).flatMap((c) => (c.image ? [c.image] : []));
  const lines = [`${position}. ${paint('bold', name)}  ${strategy}  ${state(phase)}  ${reported ? state(reported.state) : '-'}`];
  const revision = (hash: string | undefined) => {
    if (!hash) return '-';
    const roles = [...(hash === stable ? ['stable'] : []), ...(hash === desired ? ['desired'] : [])];
    return roles.length > 0 ? `${hash} (${roles.join(', ')})` : `${hash} (old)`;
  };
  lines.push(`   revisions:  stable ${stable ?? '-'}  desired ${desired ?? '-'}${stable !== undefined && stable === desired ? '  (promoted)' : ''}`);
  lines.push(`   images:     ${images.length > 0 ? images.join(', ') : '-'}`);
  for (const s of live.services) {
    const target = s.exists ? revision(s.selects) : paint('bad', 'Service not found');
    lines.push(`   ${`${s.role}:`.padEnd(12)}${s.name} → ${target}`);
  }
  if (dependsOn.length > 0) lines.push(`   depends on: ${dependsOn.join(', ')}`);
  if (rollout.status.message && phase !== 'Healthy') lines.push(`   message:    ${rollout.status.message}`);
  return lines;
}
