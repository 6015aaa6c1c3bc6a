// loan: the frontend of the loans demo. It calls interest at the address Tandem writes into the pod's
// annotations, read from a Downward API volume and reloaded when the kubelet updates it.
import { createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { watchPodInfo } from '@tandem/podinfo';

const version = process.env['VERSION'] ?? '1.0';
const key = process.env['BACKEND_ANNOTATION'] ?? 'tandem.dev/interest-url';
const log = (msg: string, fields: Record<string, unknown> = {}) => console.log(JSON.stringify({ app: 'loan', version, msg, ...fields }));

const podinfo = watchPodInfo(process.env['PODINFO_DIR'] ?? '/etc/podinfo', { files: { annotations: 'annotations', labels: null } });
await podinfo.ready;
log('backend address', { url: podinfo.address(key) ?? null });
podinfo.on('change', (c) => {
  if (c.changed.annotations.includes(key)) log('backend address changed', { from: c.previous.annotations.get(key) ?? null, to: c.annotations.get(key) ?? null });
});
podinfo.on('error', (err) => log('podinfo error', { error: err.message }));

/**
 * The address to call: the current one, or, once it is gone, the last one this pod had. Argo strips
 * its metadata from a revision's pods as it retires them, while a data plane (kube-proxy) may still
 * send them a last few requests; those keep the backend this revision was wired to.
 */
let lastAddress: string | undefined;
function address(): string | undefined {
  const now = podinfo.address(key);
  if (now) lastAddress = now;
  return now ?? lastAddress;
}

/**
 * GET on a connection of its own (`agent: false`, no keep-alive): a Service routes connections,
 * not requests, so a connection kept alive stays with the backend pod it first reached after its
 * Service, or the address Tandem gave, moved on (seen on the real node: new loan answered through
 * an old interest for as long as that pod lived). Node's fetch keeps connections alive, hence this.
 */
function get(url: URL): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { agent: false, timeout: 2_000, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url.origin} did not answer within 2 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** GETs JSON from the backend the annotation names right now (or last named). */
async function backend(path: string): Promise<{ url: string; body: unknown }> {
  const base = address();
  if (!base) throw new Error(`annotation ${key} is not set`);
  const res = await get(new URL(path, base.endsWith('/') ? base : `${base}/`));
  if (res.status !== 200) throw new Error(`${base} answered ${res.status}`);
  return { url: base, body: JSON.parse(res.body) as unknown };
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const json = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (err: unknown) => json(502, { version, backend: podinfo.address(key) ?? null, error: (err as Error).message });
  switch (url.pathname) {
    case '/healthz':
      return json(200, { ok: true });
    case '/readyz':
      return podinfo.address(key) ? json(200, { ok: true }) : json(503, { error: `waiting for annotation ${key}` });
    case '/version':
      return json(200, { app: 'loan', version });
    case '/':
    case '/api/v1/status':
      // What this pod is wired to: its own version, the backend address and the backend's version.
      return void backend('version').then(
        ({ url: at, body }) => json(200, { app: 'loan', version, backend: { url: at, version: (body as { version?: string }).version } }),
        fail,
      );
    case '/api/v1/loan': {
      const q = `api/v1/interest?amount=${encodeURIComponent(url.searchParams.get('amount') ?? '0')}&years=${encodeURIComponent(url.searchParams.get('years') ?? '1')}`;
      return void backend(q).then(({ body }) => json(200, { version, quote: body }), fail);
    }
    default:
      return json(404, { error: `no route ${url.pathname}` });
  }
});

server.listen(Number(process.env['PORT'] ?? '8080'), process.env['HOST'] ?? '0.0.0.0', () => {
  const address = server.address();
  log('listening', { port: typeof address === 'object' && address ? address.port : undefined });
});
process.once('SIGTERM', () => {
  podinfo.close();
  server.close(() => process.exit(0));
});
