import { describe, expect, it } from 'vitest';
import { parseBindAddress } from '../../../src/runtime/http-server.ts';
import { parseDuration } from '../../../src/runtime/duration.ts';
import { ControllerMetrics } from '../../../src/runtime/metrics.ts';
import { WorkQueue } from '../../../src/runtime/work-queue.ts';
import { ExponentialBackoff } from '../../../src/runtime/backoff.ts';

const value = async (m: ControllerMetrics, name: string, labels: Record<string, string> = {}) => {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (metric?.values as { value: number; labels: Record<string, unknown>; metricName?: string }[] | undefined)?.find(
    (x) => (x.metricName ?? name) === name && Object.entries(labels).every(([k, l]) => x.labels[k] === l),
  );
  return v?.value;
};

describe('ControllerMetrics', () => {
  it('counts work-queue adds, depth, retries and durations under controller-runtime names', async () => {
    const m = new ControllerMetrics('rolloutgroup', 4);
    const q = new WorkQueue(new ExponentialBackoff(), Date.now, m.queue);
    q.add('a');
    q.add('b');
    q.add('a'); // de-duplicated: not an add
    expect(await value(m, 'workqueue_adds_total', { name: 'rolloutgroup' })).toBe(2);
    expect(await value(m, 'workqueue_depth', { name: 'rolloutgroup', controller: 'rolloutgroup' })).toBe(2);
    const k = await q.get();
    expect(await value(m, 'workqueue_depth')).toBe(1);
    q.addRateLimited(k!);
    q.done(k!);
    q.shutDown();
    expect(await value(m, 'workqueue_retries_total')).toBe(1);
    const text = await m.registry.metrics();
    expect(text).toContain('workqueue_queue_duration_seconds_count{name="rolloutgroup",controller="rolloutgroup"} 1');
    expect(text).toContain('workqueue_work_duration_seconds_count{name="rolloutgroup",controller="rolloutgroup"} 1');
    expect(text).toContain('controller_runtime_max_concurrent_reconciles{controller="rolloutgroup"} 4');
  });

  it('counts reconciles by result and active workers while a reconcile runs', async () => {
    const m = new ControllerMetrics('rolloutgroup', 2);
    let release!: () => void;
    const running = m.instrument(() => new Promise<void>((r) => (release = r)))();
    expect(await value(m, 'controller_runtime_active_workers')).toBe(1);
    // The gauge grows while the work is in progress (a monotonic clock: it cannot be less).
    await new Promise((r) => setTimeout(r, 30));
    expect(await value(m, 'workqueue_unfinished_work_seconds')).toBeGreaterThanOrEqual(0.025);
    release();
    await running;
    expect(await value(m, 'controller_runtime_active_workers')).toBe(0);
    m.reconciled('success', 0.01);
    m.reconciled('error', 0.02);
    m.reconciled('requeue_after', 0.01);
    expect(await value(m, 'controller_runtime_reconcile_total', { result: 'success' })).toBe(1);
    expect(await value(m, 'controller_runtime_reconcile_total', { result: 'error' })).toBe(1);
    expect(await value(m, 'controller_runtime_reconcile_total', { result: 'requeue' })).toBe(0);
    expect(await value(m, 'controller_runtime_reconcile_errors_total')).toBe(1);
    expect(await m.registry.metrics()).toContain('controller_runtime_reconcile_time_seconds_count{controller="rolloutgroup"} 3');
  });
});

describe('flags', () => {
  it('parses kubebuilder bind addresses', () => {
    expect(parseBindAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseBindAddress(':8081')).toEqual({ host: undefined, port: 8081 });
    expect(parseBindAddress('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(parseBindAddress('0')).toBeUndefined();
    expect(() => parseBindAddress('8080')).toThrow(RangeError);
  });

  it('parses durations', () => {
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('15')).toThrow(RangeError);
  });
});
