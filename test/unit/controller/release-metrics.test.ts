import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ReleaseMetrics } from '../../../src/controller/release-metrics.ts';

const release = { state: 'CuttingOver' as const, id: 'r1', targets: [], promotedMembers: [], startedAt: '2026-01-01T00:00:00.000Z', promotedAt: '2026-01-01T00:01:00.000Z' };
const at = (iso: string) => Date.parse(iso);

describe('ReleaseMetrics', () => {
  it('observes release duration and cutover when a completion is recorded, from the previous status', async () => {
    const registry = new Registry();
    const m = new ReleaseMetrics(registry);
    m.recorded([{ type: 'Normal', reason: 'MemberPromoted', message: '' }], release, release, at('2026-01-01T00:01:30.000Z'));
    m.recorded([{ type: 'Normal', reason: 'ReleaseCompleted', message: '' }], release, undefined, at('2026-01-01T00:02:00.000Z'));
    const text = await registry.metrics();
    expect(text).toContain('tandem_release_duration_seconds_sum{outcome="completed"} 120');
    expect(text).toContain('tandem_release_duration_seconds_count{outcome="completed"} 1');
    expect(text).toContain('tandem_cutover_seconds_sum 60');
    expect(text).toContain('tandem_cutover_seconds_count 1');
  });

  it('observes an abort from the new status, with no cutover', async () => {
    const registry = new Registry();
    const m = new ReleaseMetrics(registry);
    const { promotedAt: _, ...unpromoted } = release;
    m.recorded([{ type: 'Warning', reason: 'ReleaseAborted', message: '' }], undefined, { ...unpromoted, state: 'Aborted', abortReason: 'x', abortedAt: '2026-01-01T00:00:10.000Z' }, at('2026-01-01T00:00:10.000Z'));
    const text = await registry.metrics();
    expect(text).toContain('tandem_release_duration_seconds_sum{outcome="aborted"} 10');
    expect(text).toContain('tandem_cutover_seconds_count 0');
  });

  it('times actions by kind', async () => {
    const registry = new Registry();
    const m = new ReleaseMetrics(registry);
    await m.action('Promote', async () => undefined);
    await expect(m.action('Abort', async () => Promise.reject(new Error('409')))).rejects.toThrow('409');
    const text = await registry.metrics();
    expect(text).toContain('tandem_action_latency_seconds_count{action="Promote"} 1');
    expect(text).toContain('tandem_action_latency_seconds_count{action="Abort"} 1');
  });

  it('times plans on their own, returning what the plan returned', async () => {
    const registry = new Registry();
    const m = new ReleaseMetrics(registry);
    expect(m.planned(() => 'plan')).toBe('plan');
    expect(() => m.planned(() => { throw new Error('unreadable'); })).toThrow('unreadable');
    const text = await registry.metrics();
    expect(text).toContain('tandem_plan_seconds_count 2');
  });
});
