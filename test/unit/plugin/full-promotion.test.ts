import { describe, expect, it } from 'vitest';
import { RolloutGroup } from '../../../src/api/rolloutgroup.ts';
import { fullPromotionStep } from '../../../src/plugin/full-promotion.ts';

const group = (status: Record<string, unknown> | undefined, annotations: Record<string, string> = {}) =>
  RolloutGroup.parse({ metadata: { name: 'loans', namespace: 'shop', generation: 2, annotations }, spec: { members: [{ rollout: 'a' }] }, ...(status ? { status: { observedGeneration: 2, ...status } } : {}) });
const release = (extra: Record<string, unknown> = {}) => ({ id: 'r1', targets: [{ rollout: 'a', revision: 'h2' }], startedAt: '2026-01-01T00:00:00Z', ...extra });

describe('promote --full', () => {
  it('walks the gates of a three-stage release one request at a time, to completion', () => {
    const at = (stage: number, extra: Record<string, unknown> = {}, annotations: Record<string, string> = {}) =>
      fullPromotionStep(group({ phase: 'Paused', release: release({ stage, stages: 3, ...extra }) }, annotations), 'r1');
    expect(at(0)).toEqual({ kind: 'request', annotations: { 'tandem.dev/promote': 'r1/1' }, summary: 'promote of release r1 (stage 1/3) requested' });
    // Not yet handled: no second request.
    expect(at(0, {}, { 'tandem.dev/promote': 'r1/1' })).toMatchObject({ kind: 'wait' });
    // Stage 1 moving: the request for stage 2 may be made early (the controller keeps it until that gate is ready).
    expect(at(0, { promotedAt: 't' })).toMatchObject({ kind: 'request', annotations: { 'tandem.dev/promote': 'r1/2' } });
    expect(at(2)).toMatchObject({ kind: 'request', annotations: { 'tandem.dev/promote': 'r1/3' } });
    // The last stage moving: nothing more to open.
    expect(at(2, { promotedAt: 't' })).toMatchObject({ kind: 'wait' });
    expect(fullPromotionStep(group({ phase: 'Healthy' }), 'r1')).toEqual({ kind: 'done', message: 'release r1 of rolloutgroup loans completed' });
  });

  it('stops on an abort, on Degraded, and when another release replaced it', () => {
    expect(fullPromotionStep(group({ phase: 'Degraded', message: 'interest failed', release: release({ abortedAt: 't' }) }), 'r1')).toEqual({
      kind: 'failed',
      message: 'release r1 of rolloutgroup loans is Degraded: interest failed',
    });
    expect(fullPromotionStep(group({ phase: 'Degraded', message: 'dependency cycle' }), 'r1')).toEqual({ kind: 'failed', message: 'rolloutgroup loans is Degraded: dependency cycle' });
    expect(fullPromotionStep(group({ phase: 'Progressing' }), 'r1')).toMatchObject({ kind: 'wait' });
    expect(fullPromotionStep(group({ phase: 'Paused', release: release({ id: 'r2' }) }), 'r1')).toEqual({
      kind: 'failed',
      message: 'rolloutgroup loans now runs release r2, not r1; promote it on its own',
    });
  });

  it('waits while the controller has not observed the group', () => {
    expect(fullPromotionStep(group(undefined), 'r1')).toMatchObject({ kind: 'wait' });
    expect(fullPromotionStep(group({ observedGeneration: 1, phase: 'Healthy' }), 'r1')).toMatchObject({ kind: 'wait' });
  });
});
