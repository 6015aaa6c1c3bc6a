import { describe, expect, it } from 'vitest';
import { RolloutGroup } from '../../../src/api/rolloutgroup.ts';
import { abortRequest, promoteRequest, retryRequest } from '../../../src/plugin/requests.ts';
import { statusVerdict } from '../../../src/plugin/status-verdict.ts';

const group = (status?: Record<string, unknown>, generation = 2) =>
  RolloutGroup.parse({ metadata: { name: 'loans', namespace: 'shop', generation }, spec: { members: [{ rollout: 'a' }] }, ...(status ? { status } : {}) });
const release = (extra: Record<string, unknown> = {}) => ({ id: 'r1', targets: [{ rollout: 'a', revision: 'h2' }], startedAt: '2026-01-01T00:00:00Z', ...extra });

describe('request annotations', () => {
  it('promote names the release in flight, or the pinned one', () => {
    expect(promoteRequest(group({ release: release() }))).toEqual({ ok: true, annotations: { 'tandem.dev/promote': 'r1' }, summary: 'promote of release r1 requested' });
    expect(promoteRequest(group({ release: release() }), 'r0')).toMatchObject({ ok: true, annotations: { 'tandem.dev/promote': 'r0' } });
    expect(promoteRequest(group({}), 'r9')).toMatchObject({ ok: true, annotations: { 'tandem.dev/promote': 'r9' } });
  });

  it('promote refuses without a release, after an abort, and while promoting', () => {
    expect(promoteRequest(group({ phase: 'Healthy' }))).toEqual({ ok: false, problem: 'rolloutgroup loans has no release in flight; nothing to promote' });
    expect(promoteRequest(group(undefined))).toMatchObject({ ok: false });
    expect(promoteRequest(group({ release: release({ abortedAt: 't' }) }))).toEqual({ ok: false, problem: 'release r1 of rolloutgroup loans was aborted; retry it or change a member' });
    expect(promoteRequest(group({ release: release({ promotedAt: 't' }) }))).toEqual({ ok: false, problem: 'release r1 of rolloutgroup loans is already promoting' });
    expect(promoteRequest(group({ release: release({ promotedAt: 't', stage: 1, stages: 2 }) }))).toMatchObject({ ok: false });
  });

  it('promote names the gate of a multi-stage release: the current one, or the next while promoting', () => {
    expect(promoteRequest(group({ release: release({ stage: 1, stages: 3 }) }))).toEqual({ ok: true, annotations: { 'tandem.dev/promote': 'r1/2' }, summary: 'promote of release r1 (stage 2/3) requested' });
    expect(promoteRequest(group({ release: release({ promotedAt: 't', stage: 0, stages: 2 }) }))).toMatchObject({ ok: true, annotations: { 'tandem.dev/promote': 'r1/2' } });
  });

  it('abort carries the reason; only with a release in flight', () => {
    expect(abortRequest(group({ release: release() }), 'bad data')).toEqual({ ok: true, annotations: { 'tandem.dev/abort': 'bad data' }, summary: 'abort of release r1 requested' });
    expect(abortRequest(group({}), 'x')).toEqual({ ok: false, problem: 'rolloutgroup loans has no release in flight; nothing to abort' });
  });

  it('retry names the aborted release', () => {
    expect(retryRequest(group({ release: release({ abortedAt: 't' }) }))).toEqual({ ok: true, annotations: { 'tandem.dev/retry': 'r1' }, summary: 'retry of release r1 requested' });
    expect(retryRequest(group({ release: release() }))).toEqual({ ok: false, problem: 'release r1 of rolloutgroup loans was not aborted; nothing to retry' });
    expect(retryRequest(group({}))).toMatchObject({ ok: false });
  });
});

describe('statusVerdict', () => {
  it('does not trust a phase before the current generation is observed', () => {
    expect(statusVerdict(group({ observedGeneration: 1, phase: 'Healthy' }), 'Healthy')).toEqual({ done: false, message: 'waiting for the controller to observe generation 2' });
    expect(statusVerdict(group({ observedGeneration: 1, phase: 'Degraded' }), 'Healthy')).toMatchObject({ done: false });
    expect(statusVerdict(group(undefined), 'Healthy')).toEqual({ done: false, message: 'waiting for the controller to report a status' });
  });

  it('is done at the target phase, fails on Degraded, waits otherwise', () => {
    const at = (phase: string) => group({ observedGeneration: 2, phase, message: 'm' });
    expect(statusVerdict(at('Healthy'), 'Healthy')).toEqual({ done: true, ok: true, message: 'Healthy: m' });
    expect(statusVerdict(at('Paused'), 'Paused')).toEqual({ done: true, ok: true, message: 'Paused: m' });
    expect(statusVerdict(at('Degraded'), 'Healthy')).toEqual({ done: true, ok: false, message: 'Degraded: m' });
    expect(statusVerdict(at('Degraded'), 'Paused')).toMatchObject({ done: true, ok: false });
    for (const p of ['Progressing', 'Promoting', 'Paused']) expect(statusVerdict(at(p), 'Healthy')).toMatchObject({ done: false });
    expect(statusVerdict(at('Healthy'), 'Paused')).toMatchObject({ done: false });
  });
});
