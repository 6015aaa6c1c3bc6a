/**
 * PooledKubeConfig against a loopback HTTPS server: requests share one TLS connection (client-node's
 * own KubeConfig opens one per request), and the per-request parts (the bearer token) are still sent.
 */
import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { PooledKubeConfig } from '../../../src/kube/pooled-kubeconfig.ts';

let server: Server;
let port: number;
let ca: string;
let connections = 0;
const authorizations: (string | undefined)[] = [];

beforeAll(async () => {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  ca = pems.cert;
  server = createServer({ cert: pems.cert, key: pems.private }, (req, res) => {
    authorizations.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: [] }));
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const load = (kc: KubeConfig, token: string) =>
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: `https://127.0.0.1:${port}`, caData: Buffer.from(ca).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'dev', token }],
    contexts: [{ name: 'local', cluster: 'local', user: 'dev' }],
    currentContext: 'local',
  });

/** Sequential lists; returns how many TLS connections the server accepted meanwhile. */
async function connectionsFor(kc: KubeConfig, requests: number): Promise<number> {
  const before = connections;
  const api = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < requests; i++) await api.listNamespace();
  return connections - before;
}

describe('PooledKubeConfig', () => {
  it("client-node's own KubeConfig opens a TLS connection per request (why the pool exists)", async () => {
    const kc = new KubeConfig();
    load(kc, 'plain');
    expect(await connectionsFor(kc, 5)).toBe(5);
  });

  it('sends the requests of one cluster and user over a pool whose connections are reused', async () => {
    const kc = new PooledKubeConfig();
    load(kc, 'pooled');
    authorizations.length = 0;
    // undici may open a second connection while the first is being released; never one per request.
    const opened = await connectionsFor(kc, 5);
    expect(opened).toBeGreaterThanOrEqual(1);
    expect(opened).toBeLessThanOrEqual(2);
    expect(await connectionsFor(kc, 20)).toBe(0);
    expect(kc.poolCount).toBe(1);
    // Headers are still applied per request.
    expect(authorizations).toEqual(Array(25).fill('Bearer pooled'));
  });

  it('requests in flight at once open connections as they need, bounded by how many are in flight, not by how many are made', async () => {
    const kc = new PooledKubeConfig();
    load(kc, 'pooled');
    const api = kc.makeApiClient(CoreV1Api);
    const before = connections;
    for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 4 }, () => api.listNamespace()));
    // 40 requests, 4 at a time: a connection each would be 40.
    expect(connections - before).toBeLessThanOrEqual(8);
  });
});
