/** DESIGN §6: /metrics, /healthz and /readyz of a controller that ran a release. */
import { afterEach, describe, expect, it } from 'vitest';
import { sample } from './support/metrics-text.ts';
import { Scenario } from './support/scenario.ts';
import { waitFor } from './support/wait.ts';

let s: Scenario | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

describe('metrics and health', () => {
  it('counts reconciles, queue work, the release and its cutover', async () => {
    s = await Scenario.create('metrics', 'loans', ['interest', 'loan']);
    const sc = s;
    for (const f of ['interest', 'loan', 'group']) await sc.kube.applyFile(sc.ns, `examples/loan-interest/${f}.yaml`);
    const c = sc.startController();
    expect((await c.get('health', '/healthz')).status).toBe(200);
    await sc.waitSteady();
    expect(await c.get('health', '/readyz')).toEqual({ status: 200, body: 'ok\n' });

    const before = (await c.get('metrics', '/metrics')).body;
    expect(sample(before, 'tandem_release_duration_seconds_count', { outcome: 'completed' }) ?? 0).toBe(0);

    for (const m of sc.members) await sc.kube.setImage(sc.ns, m, `ghcr.io/acme/${m}:2.0`);
    const paused = await sc.waitPhase('Paused');
    // The group's own series: its phase, and since when (the stage's readiness, from its status).
    const group = { namespace: sc.ns, name: 'loans' };
    // The series come from the informer cache, which may show the Paused status a moment after the API.
    const atGate = await waitFor('the group Paused in its series', async () => {
      const t = (await c.get('metrics', '/metrics')).body;
      return sample(t, 'tandem_group_info', { ...group, strategy: 'Lockstep', phase: 'Paused' }) === 1 ? t : undefined;
    });
    expect(sample(atGate, 'tandem_group_info', { ...group, phase: 'Healthy' })).toBeUndefined();
    expect(sample(atGate, 'tandem_group_phase_since_seconds', { ...group, phase: 'Paused' })).toBe(Date.parse(paused.status!.release!.readyAt!) / 1000);
    await sc.kube.annotateGroup(sc.ns, 'loans', { 'tandem.dev/promote': paused.status!.release!.id });
    await sc.waitGroup('Healthy after the release', (g) => g.status?.phase === 'Healthy' && !g.status.release, 120_000);

    const rg = { controller: 'rolloutgroup' };
    const q = { name: 'rolloutgroup', controller: 'rolloutgroup' };
    // A scrape at a quiet moment: the release recorded and no reconcile running (follow-ups still come).
    const text = await waitFor('release histogram, workers idle', async () => {
      const t = (await c.get('metrics', '/metrics')).body;
      const recorded = (sample(t, 'tandem_release_duration_seconds_count', { outcome: 'completed' }) ?? 0) >= 1;
      return recorded && sample(t, 'controller_runtime_active_workers', rg) === 0 && sample(t, 'workqueue_depth', q) === 0 ? t : undefined;
    });
    expect(sample(text, 'tandem_release_duration_seconds_count', { outcome: 'completed' })).toBe(1);
    expect(sample(text, 'tandem_group_info', { ...group, strategy: 'Lockstep', phase: 'Healthy' })).toBe(1);
    expect(sample(text, 'tandem_group_info', { ...group, phase: 'Paused' })).toBeUndefined();
    expect(sample(text, 'tandem_release_duration_seconds_sum', { outcome: 'completed' })).toBeGreaterThan(0);
    expect(sample(text, 'tandem_cutover_seconds_count')).toBe(1);
    expect(sample(text, 'tandem_cutover_seconds_sum')).toBeGreaterThan(0);
    // Cutover is part of the release.
    expect(sample(text, 'tandem_cutover_seconds_sum')!).toBeLessThanOrEqual(sample(text, 'tandem_release_duration_seconds_sum', { outcome: 'completed' })!);
    // Two promotions, the first wiring, and the dependent's pin set and removed, each timed.
    expect(sample(text, 'tandem_action_latency_seconds_count', { action: 'Promote' })).toBe(2);
    expect(sample(text, 'tandem_action_latency_seconds_count', { action: 'ApplyMetadata' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'tandem_action_latency_seconds_count', { action: 'Pin' })).toBe(2);
    expect(sample(text, 'tandem_action_latency_seconds_count', { action: 'UpdateStatus' })).toBeGreaterThanOrEqual(4);

    const successes = sample(text, 'controller_runtime_reconcile_total', { ...rg, result: 'success' })!;
    expect(successes).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'controller_runtime_reconcile_time_seconds_count', rg)).toBeGreaterThanOrEqual(successes);
    expect(sample(text, 'controller_runtime_reconcile_errors_total', rg)).toBe(0);
    // Every reconcile that read its caches planned, timed without its writes.
    expect(sample(text, 'tandem_plan_seconds_count')).toBeGreaterThanOrEqual(successes);
    expect(sample(text, 'controller_runtime_max_concurrent_reconciles', rg)).toBe(16); // the default --concurrency
    expect(sample(text, 'controller_runtime_active_workers', rg)).toBe(0);
    expect(sample(text, 'workqueue_depth', q)).toBe(0);
    expect(sample(text, 'workqueue_adds_total', q)).toBeGreaterThanOrEqual(successes);
    expect(sample(text, 'workqueue_queue_duration_seconds_count', q)).toBeGreaterThanOrEqual(successes);
    expect(sample(text, 'workqueue_work_duration_seconds_count', q)).toBeGreaterThanOrEqual(successes);
    // Present (a missing sample is undefined and fails these).
    expect(sample(text, 'workqueue_retries_total', q)).toBeDefined();
    expect(sample(text, 'workqueue_longest_running_processor_seconds', q)).toBeDefined();
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect((await c.get('metrics', '/nothing')).status).toBe(404);
  });
});
