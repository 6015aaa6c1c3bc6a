// worker: reads a queue whose name comes from a role annotation Tandem writes (roleAnnotations):
// a preview pod reads the preview queue, a live pod the production queue. When the annotation
// changes it finishes the message in hand, leaves the old queue and subscribes to the new one; with
// no annotation it stays idle.
import { createServer } from 'node:http';
import { connect, type ConsumeMessage } from 'amqplib';
import { watchPodInfo } from '@tandem/podinfo';

const version = process.env['VERSION'] ?? '1.0';
const key = process.env['QUEUE_ANNOTATION'] ?? 'tandem.dev/queue';
const workMs = Number(process.env['WORK_MS'] ?? '0');
// Optional: a queue that gets one record per processed message, before its ack, so that a test can
// count who processed what even after the pod is gone (a redelivered message shows up twice).
const resultsQueue = process.env['RESULTS_QUEUE'];
const pod = process.env['POD_NAME'] ?? null;
const log = (msg: string, fields: Record<string, unknown> = {}) => console.log(JSON.stringify({ app: 'worker', version, msg, ...fields }));

const connection = await connect(process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672');
const channel = await connection.createChannel();
await channel.prefetch(1);
if (resultsQueue) await channel.assertQueue(resultsQueue, { durable: true });

let current: { queue: string; consumerTag: string } | undefined;
let inFlight = Promise.resolve();
let processed = 0;
const byQueue: Record<string, number> = {};

function onMessage(msg: ConsumeMessage | null, queue: string) {
  if (!msg) return; // the broker cancelled the consumer (queue deleted)
  inFlight = inFlight.then(async () => {
    if (workMs > 0) await new Promise((r) => setTimeout(r, workMs));
    processed++;
    byQueue[queue] = (byQueue[queue] ?? 0) + 1;
    const id = msg.properties.messageId ?? null;
    log('processed', { queue, id });
    if (resultsQueue) channel.sendToQueue(resultsQueue, Buffer.from(JSON.stringify({ id, queue, version, pod, t: Date.now() })), { persistent: true });
    channel.ack(msg);
  });
}

/** Moves to the queue the annotation names (or to none); never consumes from two queues at once. */
async function follow(queue: string | undefined) {
  if (current?.queue === queue) return;
  if (current) {
    await channel.cancel(current.consumerTag);
    await inFlight; // finish and ack what was delivered before the cancel
    log('left queue', { queue: current.queue });
    current = undefined;
  }
  if (!queue) return log('idle: no queue annotation', { annotation: key });
  await channel.assertQueue(queue, { durable: true });
  const { consumerTag } = await channel.consume(queue, (m) => onMessage(m, queue), { noAck: false });
  current = { queue, consumerTag };
  log('consuming', { queue });
}

const podinfo = watchPodInfo(process.env['PODINFO_DIR'] ?? '/etc/podinfo', { files: { annotations: 'annotations', labels: null } });
await podinfo.ready;
let switching = follow(podinfo.annotation(key));
podinfo.on('change', () => {
  switching = switching.then(() => follow(podinfo.annotation(key))).catch((err: Error) => log('switch failed', { error: err.message }));
});
podinfo.on('error', (err) => log('podinfo error', { error: err.message }));

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const json = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (path === '/healthz' || path === '/readyz') return json(200, { ok: true });
  if (path === '/stats') return json(200, { queue: current?.queue ?? null, processed, byQueue });
  return json(404, { error: `no route ${path}` });
});
server.listen(Number(process.env['PORT'] ?? '8080'), process.env['HOST'] ?? '0.0.0.0', () => {
  const address = server.address();
  log('listening', { port: typeof address === 'object' && address ? address.port : undefined });
});
process.once('SIGTERM', async () => {
  podinfo.close();
  await switching;
  await follow(undefined);
  await channel.close();
  await connection.close();
  server.close(() => process.exit(0));
});
