import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GroupMetrics, phaseSinceHint } from '../../../src/controller/group-metrics.ts';
import { RolloutGroup } from '../../../src/api/rolloutgroup.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
const group = (name: string, status?: Record<string, unknown>, spec: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: 'shop', creationTimestamp: iso(0) },
  spec: { members: [{ rollout: 'a' }], ...spec },
  ...(status ? { status } : {}),
});
const ready = (status: 'True' | 'False', at: number) => [{ type: 'Ready', status, reason: 'r', message: 'm', lastTransitionTime: iso(at) }];
const release = (extra: Record<string, unknown>) => ({ id: 'r1', targets: [], startedAt: iso(100), stageStartedAt: iso(100), ...extra });

describe('per-group metrics', () => {
  it('phaseSinceHint: the persisted time each phase began', () => {
    const hint = (status: Record<string, unknown>, spec?: Record<string, unknown>) => phaseSinceHint(RolloutGroup.parse(group('g', status, spec)));
    expect(hint({ phase: 'Paused', release: release({ readyAt: iso(160) }), conditions: ready('False', 100) })).toBe(iso(160));
    expect(hint({ phase: 'Paused', conditions: ready('False', 50) }, { paused: true })).toBe(iso(50));
    expect(hint({ phase: 'Promoting', release: release({ readyAt: iso(160), promotedAt: iso(200) }) })).toBe(iso(200));
    expect(hint({ phase: 'Degraded', release: release({ abortedAt: iso(300) }) })).toBe(iso(300));
    expect(hint({ phase: 'Progressing', release: release({ stageStartedAt: iso(120) }) })).toBe(iso(120));
    expect(hint({ phase: 'Healthy', conditions: ready('True', 400) })).toBe(iso(400));
    expect(hint({ phase: 'Healthy' })).toBeUndefined();
  });

  it('tandem_group_info and tandem_group_phase_since_seconds, one series per group, from the acting process only', async () => {
    const registry = new Registry();
    let groups: unknown[] = [
      group('loans', { phase: 'Paused', release: release({ readyAt: iso(160) }) }),
      group('orders', { phase: 'Healthy' }, { strategy: 'Ordered' }),
      group('fresh'),
      { metadata: { name: 'broken' } },
    ];
    let acting = false;
    let now = T0 + 1000_000;
    new GroupMetrics(registry, () => groups, () => acting, () => now);
    expect(await registry.metrics()).not.toMatch(/^tandem_group_info\{/m);

    acting = true;
    const text = await registry.metrics();
    expect(text).toContain('tandem_group_info{namespace="shop",name="loans",strategy="Lockstep",phase="Paused"} 1');
    expect(text).toContain('tandem_group_info{namespace="shop",name="orders",strategy="Ordered",phase="Healthy"} 1');
    expect(text).toContain('tandem_group_info{namespace="shop",name="fresh",strategy="Lockstep",phase="Unknown"} 1');
    expect(text).toContain(`tandem_group_phase_since_seconds{namespace="shop",name="loans",phase="Paused"} ${(T0 + 160_000) / 1000}`);
    expect(text).toContain(`tandem_group_phase_since_seconds{namespace="shop",name="fresh",phase="Unknown"} ${T0 / 1000}`);
    // No time in the status: the first scrape that saw the phase, kept while it lasts.
    expect(text).toContain(`tandem_group_phase_since_seconds{namespace="shop",name="orders",phase="Healthy"} ${now / 1000}`);
    expect(text).not.toContain('broken');
    const first = now;
    now += 60_000;
    expect(await registry.metrics()).toContain(`tandem_group_phase_since_seconds{namespace="shop",name="orders",phase="Healthy"} ${first / 1000}`);

    // A phase change replaces the series (no stale phase label); a deleted group disappears.
    groups = [group('loans', { phase: 'Promoting', release: release({ readyAt: iso(160), promotedAt: iso(900) }) })];
    const after = await registry.metrics();
    expect(after).toContain('tandem_group_info{namespace="shop",name="loans",strategy="Lockstep",phase="Promoting"} 1');
    expect(after).not.toContain('phase="Paused"');
    expect(after).not.toContain('name="orders"');
    expect(after).toContain(`tandem_group_phase_since_seconds{namespace="shop",name="loans",phase="Promoting"} ${(T0 + 900_000) / 1000}`);
  });
});
