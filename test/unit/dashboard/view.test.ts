import { describe, expect, it } from 'vitest';
import { dashboardState } from '../../../src/dashboard/view.ts';
import { event, group, NS, release, snapshot } from './fixtures.ts';

describe('dashboard state', () => {
  it('a release at its gate: members in promotion order with revisions and Services, wiring preview → preview and active → active', () => {
    const state = dashboardState(snapshot([group(release())]), NS);
    expect(state.namespace).toBe(NS);
    const [g] = state.groups;
    expect(g).toMatchObject({ key: 'shop/loans', phase: 'Paused', releaseId: 'r1', releaseState: 'Gating', readyMembers: '2/2', memberCount: 2, observed: true });
    // Lockstep: dependents first.
    expect(g!.members.map((m) => [m.rollout, m.promotionIndex, m.state, m.inRelease])).toEqual([
      ['interest', 2, 'Ready', true],
      ['loan', 1, 'Ready', true],
    ]);
    expect(g!.members[1]!.services).toEqual([
      { role: 'active', name: 'loan-active', exists: true, selects: 'l1' },
      { role: 'preview', name: 'loan-preview', exists: true, selects: 'l2' },
    ]);
    expect(g!.edges).toEqual([
      {
        from: 'loan',
        to: 'interest',
        annotation: 'tandem.dev/interest-url',
        newSide: { role: 'preview', url: 'http://interest-preview.shop.svc.cluster.local:8080', service: 'interest-preview', targetRole: 'preview' },
        liveSide: { role: 'active', url: 'http://interest-active.shop.svc.cluster.local:8080', service: 'interest-active', targetRole: 'active' },
        repointed: false,
      },
    ]);
  });

  it('the release’s group analysis: each run’s name, point, stage, phase and the measurements that decided', () => {
    const runs = [
      { name: 'loans-r1-pre-1', point: 'prePromotion', stage: 0, phase: 'Successful' },
      { name: 'loans-r1-post-1', point: 'postPromotion', stage: 0, phase: 'Failed', message: 'metric error-ratio Failed (last value 0.31)' },
      { name: 'loans-r1-pre-2', point: 'prePromotion', stage: 1, phase: 'Inconclusive', accepted: true },
    ];
    const [g] = dashboardState(snapshot([group(release({ analysisRuns: runs }))]), NS).groups;
    expect(g!.release!.analysisRuns).toEqual([
      { name: 'loans-r1-pre-1', point: 'prePromotion', stage: 1, phase: 'Successful', accepted: false },
      { name: 'loans-r1-post-1', point: 'postPromotion', stage: 1, phase: 'Failed', message: 'metric error-ratio Failed (last value 0.31)', accepted: false },
      { name: 'loans-r1-pre-2', point: 'prePromotion', stage: 2, phase: 'Inconclusive', accepted: true },
    ]);
    const [none] = dashboardState(snapshot([group(release())]), NS).groups;
    expect(none!.release!.analysisRuns).toEqual([]);
  });

  it('during cutover the live side pointed at the preview is the repoint', () => {
    const g = dashboardState(snapshot([group(release({ state: 'CuttingOver', promotedAt: '2026-01-01T10:01:00Z', openedBy: 'promote request' }))], { preview: 'interest-preview', active: 'interest-preview' }), NS).groups[0]!;
    expect(g.edges[0]).toMatchObject({ repointed: true, liveSide: { targetRole: 'preview' } });
    expect(g.timeline.find((t) => t.what === 'Gate opened')).toEqual({ at: '2026-01-01T10:01:00Z', what: 'Gate opened', detail: 'by promote request', tone: 'good' });
  });

  it('an edge without a written address says so instead of guessing', () => {
    const raw = snapshot([group(release())]);
    raw.rollouts[1] = { ...raw.rollouts[1]!, spec: { strategy: { blueGreen: { activeService: 'loan-active', previewService: 'loan-preview' } } } } as never;
    expect(dashboardState(raw, NS).groups[0]!.edges[0]).toMatchObject({ newSide: { role: 'preview' }, liveSide: { role: 'active' }, repointed: false });
    expect(dashboardState(raw, NS).groups[0]!.edges[0]!.newSide.url).toBeUndefined();
  });

  it('actions are the plugin’s requests: promote bound to the release (and stage), abort to the release, retry only after an abort', () => {
    const gate = dashboardState(snapshot([group(release())]), NS).groups[0]!.actions;
    expect(gate.promote).toEqual({ available: true, summary: 'promote of release r1 requested', annotation: 'tandem.dev/promote', value: 'r1' });
    expect(gate.abort).toMatchObject({ available: true, annotation: 'tandem.dev/abort', value: 'r1' });
    expect(gate.retry).toEqual({ available: false, why: 'release r1 of rolloutgroup loans was not aborted; nothing to retry' });
    const staged = dashboardState(snapshot([group(release({ stage: 1, stages: 3 }))]), NS).groups[0]!.actions;
    expect(staged.promote).toMatchObject({ available: true, value: 'r1/2' });
    const aborted = dashboardState(snapshot([group(release({ state: 'Aborted', abortedAt: '2026-01-01T10:02:00Z', abortReason: 'bad rates' }))]), NS).groups[0]!;
    expect(aborted.actions.promote).toMatchObject({ available: false });
    expect(aborted.actions.retry).toMatchObject({ available: true, value: 'r1' });
    expect(aborted.release).toMatchObject({ state: 'Aborted', abortReason: 'bad rates' });
    const healthy = dashboardState(snapshot([group()]), NS).groups[0]!.actions;
    expect([healthy.promote.available, healthy.abort.available, healthy.retry.available]).toEqual([false, false, false]);
  });

  it('events: only the group’s, newest first; the timeline merges them with the release’s milestones in time order', () => {
    const events = [event('ReleaseStarted', '2026-01-01T10:00:01Z'), event('ReleaseReady', '2026-01-01T10:00:21Z'), event('ReleaseStarted', '2026-01-01T10:00:05Z', 'Normal', 'other')];
    const g = dashboardState(snapshot([group(release())], undefined, events), NS).groups[0]!;
    expect(g.events.map((e) => e.reason)).toEqual(['ReleaseReady', 'ReleaseStarted']);
    expect(g.timeline.map((t) => t.what)).toEqual(['Release r1 started', 'ReleaseStarted', 'Every changed member ready', 'ReleaseReady']);
    expect(g.timeline[0]!.detail).toBe('interest → i2, loan → l2');
  });

  it('pending requests are the request annotations not yet handled', () => {
    const g = group(release());
    g.metadata.annotations = { 'tandem.dev/promote': 'r1', 'example.com/other': 'x' } as never;
    expect(dashboardState(snapshot([g]), NS).groups[0]!.pending).toEqual({ 'tandem.dev/promote': 'r1' });
  });

  it('a group that does not parse is left out; a missing Rollout is shown as missing', () => {
    const raw = snapshot([group(release()), { metadata: { name: 'broken', namespace: NS }, spec: {} }]);
    raw.rollouts = [raw.rollouts[1]!];
    const state = dashboardState(raw, undefined);
    expect(state.namespace).toBeUndefined();
    expect(state.groups.map((g) => g.name)).toEqual(['loans']);
    expect(state.groups[0]!.members.find((m) => m.rollout === 'interest')).toMatchObject({ missing: true, services: [] });
  });
});
