import { REQUEST, RolloutGroup, defaultAddressAnnotation } from '../api/rolloutgroup.ts';
import { POD_TEMPLATE_HASH, Rollout, Service } from '../api/rollout.ts';
import { abortRequest, promoteRequest, retryRequest, type RequestResult } from '../plugin/requests.ts';
import { promotionOrder } from '../plugin/promotion-order.ts';
import type { ClusterSnapshot } from '../kube/cluster-watch.ts';
import type { ActionName, ActionView, AddressView, DashboardState, EdgeView, EventView, GroupView, MemberView, ServiceView, TimelineEntry } from './view-types.ts';

/** The most events kept per group: the page shows the latest, the API server keeps the rest. */
const MAX_EVENTS = 50;

interface RawEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
  metadata?: { creationTimestamp?: string };
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string };
}

const key = (ns: string, name: string) => `${ns}/${name}`;

/** The whole page's data from what the watches hold. Pure, so it is tested without a cluster. */
export function dashboardState(snap: ClusterSnapshot, namespace: string | undefined): DashboardState {
  const rollouts = new Map<string, Rollout>();
  for (const raw of snap.rollouts) {
    const r = Rollout.safeParse(raw);
    if (r.success) rollouts.set(key(r.data.metadata.namespace, r.data.metadata.name), r.data);
  }
  const services = new Map<string, Service>();
  for (const raw of snap.services) {
    const s = Service.safeParse(raw);
    if (s.success) services.set(key(s.data.metadata.namespace, s.data.metadata.name), s.data);
  }
  const events = new Map<string, RawEvent[]>();
  for (const e of snap.events as RawEvent[]) {
    const o = e.involvedObject;
    if (o?.kind !== 'RolloutGroup' || !o.name || !o.namespace) continue;
    const k = key(o.namespace, o.name);
    events.set(k, [...(events.get(k) ?? []), e]);
  }
  const groups = snap.groups
    .flatMap((raw) => {
      const g = RolloutGroup.safeParse(raw);
      return g.success ? [groupView(g.data, rollouts, services, events.get(key(g.data.metadata.namespace, g.data.metadata.name)) ?? [])] : [];
    })
    .sort((a, b) => a.key.localeCompare(b.key));
  return { ...(namespace !== undefined ? { namespace } : {}), groups, problems: snap.problems };
}

const eventTime = (e: RawEvent) => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? '';

function actionView(result: RequestResult, annotation: string, value: (annotations: Readonly<Record<string, string>>) => string): ActionView {
  if (!result.ok) return { available: false, why: result.problem };
  return { available: true, summary: result.summary, annotation, value: value(result.annotations) };
}

/** What each action would write now: the plugin's own request logic, so the page and `kubectl rolloutgroup` agree. */
export function actionsOf(group: RolloutGroup): Record<ActionName, ActionView> {
  const id = group.status?.release?.id ?? '';
  return {
    promote: actionView(promoteRequest(group), REQUEST.promote, (a) => a[REQUEST.promote]!),
    // The reason is typed at confirmation; what is confirmed is the release it aborts.
    abort: actionView(abortRequest(group, ''), REQUEST.abort, () => id),
    retry: actionView(retryRequest(group), REQUEST.retry, (a) => a[REQUEST.retry]!),
  };
}

function servicesOf(r: Rollout | undefined, ns: string, services: ReadonlyMap<string, Service>): ServiceView[] {
  const { blueGreen, canary } = r?.spec.strategy ?? {};
  const named: [ServiceView['role'], string | undefined][] = blueGreen
    ? [['active', blueGreen.activeService], ['preview', blueGreen.previewService]]
    : [['stable', canary?.stableService], ['canary', canary?.canaryService]];
  return named.flatMap(([role, name]) => {
    if (!name) return [];
    const svc = services.get(key(ns, name));
    const selects = svc?.spec.selector[POD_TEMPLATE_HASH];
    return [{ role, name, exists: svc !== undefined, ...(selects ? { selects } : {}) }];
  });
}

/** The role of the dependency's Service a URL's host names (`svc.ns.svc…`). */
function addressView(role: AddressView['role'], url: string | undefined, dependency: Rollout | undefined): AddressView {
  if (!url) return { role };
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return { role, url };
  }
  const service = host.split('.')[0] ?? host;
  const { blueGreen, canary } = dependency?.spec.strategy ?? {};
  const roles: [NonNullable<AddressView['targetRole']>, string | undefined][] = [
    ['preview', blueGreen?.previewService],
    ['active', blueGreen?.activeService],
    ['canary', canary?.canaryService],
    ['stable', canary?.stableService],
  ];
  const targetRole = roles.find(([, name]) => name === service)?.[0] ?? 'other';
  return { role, url, service, targetRole };
}

function edgesOf(group: RolloutGroup, rollouts: ReadonlyMap<string, Rollout>): EdgeView[] {
  const ns = group.metadata.namespace;
  return group.spec.members.flatMap((m) => {
    const self = rollouts.get(key(ns, m.rollout));
    const bg = self?.spec.strategy.blueGreen;
    const can = self?.spec.strategy.canary;
    // Canary members carry the addresses in canary/stable metadata, blue-green in preview/active.
    const [newRole, liveRole, newMeta, liveMeta] = can && !bg
      ? (['canary', 'stable', can.canaryMetadata, can.stableMetadata] as const)
      : (['preview', 'active', bg?.previewMetadata, bg?.activeMetadata] as const);
    return m.dependsOn.map((d): EdgeView => {
      const annotation = d.annotation ?? defaultAddressAnnotation(d.rollout);
      const dependency = rollouts.get(key(ns, d.rollout));
      const newSide = addressView(newRole, newMeta?.annotations?.[annotation], dependency);
      const liveSide = addressView(liveRole, liveMeta?.annotations?.[annotation], dependency);
      return { from: m.rollout, to: d.rollout, annotation, newSide, liveSide, repointed: liveSide.targetRole === 'preview' || liveSide.targetRole === 'canary' };
    });
  });
}

function timelineOf(group: RolloutGroup, events: readonly EventView[]): TimelineEntry[] {
  const r = group.status?.release;
  const out: TimelineEntry[] = [];
  if (r) {
    out.push({ at: r.startedAt, what: `Release ${r.id} started`, detail: r.targets.map((t) => `${t.rollout} → ${t.revision}`).join(', '), tone: 'info' });
    if (r.firstReadyAt && r.firstReadyAt !== r.readyAt) out.push({ at: r.firstReadyAt, what: 'Every changed member ready (first time)', tone: 'good' });
    if (r.readyAt) out.push({ at: r.readyAt, what: 'Every changed member ready', tone: 'good' });
    if (r.promotedAt) out.push({ at: r.promotedAt, what: 'Gate opened', ...(r.openedBy ? { detail: `by ${r.openedBy}` } : {}), tone: 'good' });
    if (r.abortedAt) out.push({ at: r.abortedAt, what: `Release ${r.state === 'RollingBack' ? 'rolling back' : 'aborted'}`, ...(r.abortReason ? { detail: r.abortReason } : {}), tone: 'bad' });
  }
  for (const e of events) {
    out.push({ at: e.last, what: e.reason, detail: e.message, tone: e.type === 'Warning' ? 'warn' : 'info' });
  }
  return out.filter((e) => e.at !== '').sort((a, b) => a.at.localeCompare(b.at));
}

export function groupView(group: RolloutGroup, rollouts: ReadonlyMap<string, Rollout>, services: ReadonlyMap<string, Service>, rawEvents: readonly RawEvent[]): GroupView {
  const { metadata, spec, status } = group;
  const ns = metadata.namespace;
  const release = status?.release;
  const order = promotionOrder(spec);
  const inRelease = new Set(release?.targets.map((t) => t.rollout) ?? []);
  const members = spec.members.map((m): MemberView => {
    const r = rollouts.get(key(ns, m.rollout));
    const st = status?.members.find((s) => s.rollout === m.rollout);
    const images = st?.images.length ? st.images : (r?.spec.template?.spec?.containers ?? []).flatMap((c) => (c.image ? [c.image] : []));
    const strategy = st?.strategy ?? (r ? (r.spec.strategy.blueGreen ? 'BlueGreen' : 'Canary') : undefined);
    const phase = st?.phase ?? r?.status.phase;
    const stable = st?.stableRevision ?? r?.status.stableRS;
    const desired = st?.desiredRevision ?? r?.status.currentPodHash;
    return {
      rollout: m.rollout,
      ...(strategy ? { strategy } : {}),
      ...(phase ? { phase } : {}),
      ...(stable ? { stableRevision: stable } : {}),
      ...(desired ? { desiredRevision: desired } : {}),
      images,
      state: st?.state ?? 'Unknown',
      promotionIndex: order.indexOf(m.rollout) + 1,
      inRelease: inRelease.has(m.rollout),
      services: servicesOf(r, ns, services),
      missing: r === undefined,
    };
  });
  const events = [...rawEvents]
    .map((e): EventView => ({ type: e.type ?? 'Normal', reason: e.reason ?? '', message: e.message ?? '', count: e.count ?? 1, last: eventTime(e) }))
    .sort((a, b) => b.last.localeCompare(a.last))
    .slice(0, MAX_EVENTS);
  const requestKeys = new Set<string>(Object.values(REQUEST));
  const pending = Object.fromEntries(Object.entries(metadata.annotations).filter(([k]) => requestKeys.has(k)));
  return {
    key: key(ns, metadata.name),
    namespace: ns,
    name: metadata.name,
    strategy: spec.strategy,
    ...(spec.order ? { order: spec.order } : {}),
    phase: status?.phase ?? 'Unknown',
    message: status?.message ?? '',
    ...(release ? { releaseId: release.id, releaseState: release.state } : {}),
    readyMembers: status?.readyMembers ?? '-',
    ...(metadata.creationTimestamp ? { createdAt: metadata.creationTimestamp } : {}),
    memberCount: spec.members.length,
    paused: spec.paused,
    autoPromotion: spec.promotion.auto,
    observed: status?.observedGeneration === metadata.generation,
    ...(release
      ? {
          release: {
            id: release.id,
            state: release.state,
            stage: (release.stage ?? 0) + 1,
            stages: release.stages ?? 1,
            startedAt: release.startedAt,
            ...(release.readyAt ? { readyAt: release.readyAt } : {}),
            ...(release.promotedAt ? { promotedAt: release.promotedAt } : {}),
            ...(release.openedBy ? { openedBy: release.openedBy } : {}),
            ...(release.abortedAt ? { abortedAt: release.abortedAt } : {}),
            ...(release.abortReason ? { abortReason: release.abortReason } : {}),
            promotedMembers: release.promotedMembers,
            rolledBack: release.rolledBack ?? [],
            targets: release.targets.map((t) => ({ rollout: t.rollout, revision: t.revision, ...(t.from ? { from: t.from } : {}) })),
            analysisRuns: (release.analysisRuns ?? []).map((a) => ({ name: a.name, point: a.point, stage: a.stage + 1, phase: a.phase, ...(a.message ? { message: a.message } : {}), accepted: a.accepted === true })),
          },
        }
      : {}),
    members,
    edges: edgesOf(group, rollouts),
    conditions: (status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime })),
    events,
    timeline: timelineOf(group, events),
    pending,
    actions: actionsOf(group),
  };
}
