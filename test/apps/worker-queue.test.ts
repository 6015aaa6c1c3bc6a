/**
 * worker against a real RabbitMQ on 127.0.0.1: it follows the queue its role annotation names. The
 * preview worker never touches the production queue until the annotation says so, and every message
 * is processed exactly once across the switch.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDownwardApi } from '../../packages/podinfo/src/index.ts';
import { KubeletAtomicWriter } from '../../packages/podinfo/test/support/kubelet-atomic-writer.ts';
import { waitFor } from '../e2e/support/wait.ts';
import { AppProcess } from './support/app-process.ts';

const KEY = 'tandem.dev/queue';
const suffix = randomBytes(3).toString('hex');
const PROD = `loans-${suffix}`;
const PREVIEW = `loans-preview-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'worker-podinfo-'));
const volume = new KubeletAtomicWriter(dir);
const setQueue = (queue: string | undefined) =>
  volume.write({ annotations: formatDownwardApi(new Map(queue ? [[KEY, queue]] : [['kubernetes.io/config.seen', 'x']])) });
const rabbit = (cmd: string) => execFileSync('bash', ['test/apps/rabbitmq.sh', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;

let amqp: ChannelModel;
let channel: ConfirmChannel;
let worker: AppProcess;

async function publish(queue: string, ids: string[]) {
  for (const id of ids) channel.sendToQueue(queue, Buffer.from(id), { messageId: id, persistent: true });
  await channel.waitForConfirms();
}
const ids = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}-${from + i}`);
const processed = (queue?: string) =>
  worker.lines.filter((l) => l.msg === 'processed' && (queue === undefined || l['queue'] === queue)).map((l) => l['id'] as string);
const depth = async (queue: string) => {
  const q = await channel.checkQueue(queue);
  return { messages: q.messageCount, consumers: q.consumerCount };
};

beforeAll(async () => {
  rabbit('install');
  const url = rabbit('start');
  amqp = await connect(url);
  channel = await amqp.createConfirmChannel();
  for (const q of [PROD, PREVIEW]) await channel.assertQueue(q, { durable: true });
  await setQueue(PREVIEW);
  worker = await AppProcess.start('worker', { AMQP_URL: url, PODINFO_DIR: dir, WORK_MS: '3' });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  for (const q of [PROD, PREVIEW]) await channel?.deleteQueue(q).catch(() => undefined);
  await amqp?.close();
  rabbit('stop');
  rmSync(dir, { recursive: true, force: true });
});

describe('worker and its role annotation', () => {
  it('as a preview pod, reads only the preview queue', async () => {
    await waitFor('worker consuming the preview queue', async () => worker.lines.some((l) => l.msg === 'consuming' && l['queue'] === PREVIEW));
    await publish(PROD, ids('p', 0, 50));
    await publish(PREVIEW, ids('q', 0, 30));
    await waitFor('30 preview messages processed', async () => processed(PREVIEW).length === 30);
    await new Promise((r) => setTimeout(r, 500));
    expect(await depth(PROD)).toEqual({ messages: 50, consumers: 0 });
    expect(processed(PROD)).toEqual([]);
    expect((await worker.get('/stats')).body).toEqual({ queue: PREVIEW, processed: 30, byQueue: { [PREVIEW]: 30 } });
  });

  it('switches to the production queue when the annotation changes, processing every message exactly once', async () => {
    // Publish to production while the switch happens.
    const publishing = (async () => {
      for (let i = 50; i < 150; i += 10) {
        await publish(PROD, ids('p', i, i + 10));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await setQueue(PROD);
    await waitFor('worker left the preview queue', async () => worker.lines.some((l) => l.msg === 'left queue' && l['queue'] === PREVIEW));
    await publish(PREVIEW, ids('q', 30, 40)); // after the switch: no longer this worker's
    await publishing;
    await waitFor('all 150 production messages processed', async () => processed(PROD).length >= 150, { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    const prod = processed(PROD);
    expect(prod).toHaveLength(150);
    expect(new Set(prod)).toEqual(new Set(ids('p', 0, 150)));
    expect(processed(PREVIEW).sort()).toEqual(ids('q', 0, 30).sort());
    expect(await depth(PROD)).toEqual({ messages: 0, consumers: 1 });
    expect(await depth(PREVIEW)).toEqual({ messages: 10, consumers: 0 });
    // Never both at once: every 'consuming' comes after the previous queue was left.
    const moves = worker.lines.filter((l) => l.msg === 'consuming' || l.msg === 'left queue').map((l) => `${l.msg}:${String(l['queue'])}`);
    expect(moves).toEqual([`consuming:${PREVIEW}`, `left queue:${PREVIEW}`, `consuming:${PROD}`]);
  });

  it('goes idle when the annotation is removed', async () => {
    await setQueue(undefined);
    await waitFor('worker idle', async () => worker.lines.some((l) => l.msg === 'idle: no queue annotation'));
    await publish(PROD, ids('p', 150, 155));
    await new Promise((r) => setTimeout(r, 500));
    expect(await depth(PROD)).toEqual({ messages: 5, consumers: 0 });
    expect((await worker.get('/stats')).body.queue).toBeNull();
    expect(processed()).toHaveLength(180);
  });
});
