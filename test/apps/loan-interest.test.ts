/** loan against interest as real processes: loan follows the address in its annotation file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDownwardApi } from '../../packages/podinfo/src/index.ts';
import { KubeletAtomicWriter } from '../../packages/podinfo/test/support/kubelet-atomic-writer.ts';
import { waitFor } from '../e2e/support/wait.ts';
import { AppProcess } from './support/app-process.ts';

const KEY = 'tandem.dev/interest-url';
const dir = mkdtempSync(join(tmpdir(), 'loan-podinfo-'));
const volume = new KubeletAtomicWriter(dir);
const annotate = (annotations: Record<string, string>) => volume.write({ annotations: formatDownwardApi(new Map(Object.entries(annotations))) });
let v1: AppProcess, v2: AppProcess, loan: AppProcess;

beforeAll(async () => {
  v1 = await AppProcess.start('interest', { VERSION: '1.0', RATE_PERCENT: '4' });
  v2 = await AppProcess.start('interest', { VERSION: '2.0', RATE_PERCENT: '5' });
  await annotate({ [KEY]: v1.url(''), 'kubernetes.io/config.seen': '2026-11-22T10:00:00Z' });
  loan = await AppProcess.start('loan', { VERSION: '2.0', PODINFO_DIR: dir });
});

afterAll(async () => {
  for (const p of [loan, v1, v2]) await p?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('loan wired to interest through its annotations', () => {
  it('calls the backend its annotation names', async () => {
    expect(await loan.get('/api/v1/status')).toEqual({ status: 200, body: { app: 'loan', version: '2.0', backend: { url: v1.url(''), version: '1.0' } } });
    expect((await loan.get('/api/v1/loan?amount=1000&years=2')).body).toEqual({
      version: '2.0',
      quote: { version: '1.0', ratePercent: 4, amount: 1000, years: 2, interest: 80 },
    });
  });

  it('follows a new address without restarting, as Tandem repoints it', async () => {
    const pid = loan.pid;
    await annotate({ [KEY]: v2.url(''), 'kubernetes.io/config.seen': '2026-11-22T10:00:00Z' });
    const status = await waitFor('loan reaches interest 2.0', async () => {
      const s = await loan.get('/api/v1/status');
      return s.body.backend?.version === '2.0' ? s : undefined;
    }, { timeoutMs: 10_000 });
    expect(status.body.backend.url).toBe(v2.url(''));
    expect(loan.pid).toBe(pid);
    expect(loan.lines).toContainEqual(expect.objectContaining({ msg: 'backend address changed', from: v1.url(''), to: v2.url('') }));
  });

  it('survives many swaps and ends on the last address', async () => {
    for (let i = 0; i < 50; i++) await annotate({ [KEY]: (i % 2 === 0 ? v1 : v2).url(''), n: String(i) });
    await waitFor('loan on the last address', async () => (await loan.get('/api/v1/status')).body.backend?.version === '2.0', { timeoutMs: 10_000 });
  });

  it('is not ready and says why when the annotation is gone, but still serves a last request through the address it had', async () => {
    const before = (await loan.get('/api/v1/status')).body.backend?.url;
    await annotate({ 'kubernetes.io/config.seen': '2026-11-22T10:00:00Z' });
    const r = await waitFor('loan not ready', async () => {
      const s = await loan.get('/readyz');
      return s.status === 503 ? s : undefined;
    }, { timeoutMs: 10_000 });
    expect(r.body.error).toBe(`waiting for annotation ${KEY}`);
    // Argo strips its metadata from a retiring revision's pods while kube-proxy may still route a few
    // requests to them: those keep the backend this pod was wired to.
    const last = await loan.get('/api/v1/status');
    expect(last.status).toBe(200);
    expect(last.body.backend.url).toBe(before);
  });
});
