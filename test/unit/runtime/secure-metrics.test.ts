/** --metrics-secure in one process: HTTPS with a self-signed certificate, 401 / 403 / 200 by token. */
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { serve, text, type RunningServer } from '../../../src/runtime/http-server.ts';
import { metricsGuard, type Caller } from '../../../src/runtime/secure-metrics.ts';
import { servingCert } from '../../../src/runtime/serving-cert.ts';

const log = pino({ level: 'silent' });
const callers: Record<string, Caller> = {
  'reader-token': { username: 'system:serviceaccount:monitoring:prometheus', groups: ['system:serviceaccounts'], extra: {} },
  'other-token': { username: 'system:serviceaccount:shop:app', groups: ['system:serviceaccounts'], extra: {} },
};
const reviews: { user: string; verb: string; path: string }[] = [];

const get = (port: number, path: string, token?: string) =>
  new Promise<{ status: number; body: string; cert: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      const cert = (res.socket as TLSSocket).getPeerCertificate().fingerprint256 ?? '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body, cert }));
    });
    req.on('error', reject);
    req.end();
  });

let server: RunningServer | undefined;
afterAll(() => server?.close());

describe('secure metrics', () => {
  it('serves over TLS only to a token TokenReview accepts and SubjectAccessReview allows to get /metrics', { timeout: 30_000 }, async () => {
    const tls = await servingCert(undefined);
    expect(tls.selfSigned).toBe(true);
    const guard = metricsGuard({
      authenticate: async (t) => callers[t],
      authorize: async (c, verb, path) => {
        reviews.push({ user: c.username, verb, path });
        return c.username.endsWith(':prometheus') && verb === 'get' && path === '/metrics';
      },
    });
    server = await serve('metrics', '127.0.0.1:0', { '/metrics': () => text(200, 'controller_runtime_reconcile_total 1\n') }, log, { tls, guard });
    const port = server!.port;
    expect((await get(port, '/metrics')).status).toBe(401);
    expect((await get(port, '/metrics', 'forged')).status).toBe(401);
    const denied = await get(port, '/metrics', 'other-token');
    expect(denied.status).toBe(403);
    expect(denied.body).toBe('Forbidden: user system:serviceaccount:shop:app may not get /metrics\n');
    const ok = await get(port, '/metrics?x=1', 'reader-token');
    expect(ok).toMatchObject({ status: 200, body: 'controller_runtime_reconcile_total 1\n' });
    expect(ok.cert).toBe(new X509Certificate(tls.cert).fingerprint256);
    expect(reviews).toEqual([
      { user: 'system:serviceaccount:shop:app', verb: 'get', path: '/metrics' },
      { user: 'system:serviceaccount:monitoring:prometheus', verb: 'get', path: '/metrics' },
    ]);
  });
});
