import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { REQUEST, RolloutGroup } from '../api/rolloutgroup.ts';
import type { ClusterSnapshot } from '../kube/cluster-watch.ts';
import { CliClientError, ForbiddenError, ObjectNotFoundError } from '../kube/cli-client.ts';
import { actionsOf, dashboardState } from './view.ts';
import type { ActionName, ActionRequest, ActionResponse } from './view-types.ts';

/** The watched world: ClusterWatch in production, a fake in the server's unit test. */
export interface DashboardSource {
  snapshot(): ClusterSnapshot;
  onChange(listener: () => void): void;
}

/** Reads and request writes with the user's own credentials: CliClient. */
export interface DashboardClient {
  getGroup(name: string, namespace: string): Promise<unknown>;
  annotateGroup(name: string, annotations: Readonly<Record<string, string>>, namespace: string): Promise<unknown>;
}

export interface DashboardOptions {
  readonly source: DashboardSource;
  readonly client: DashboardClient;
  /** The namespace served; undefined: all. */
  readonly namespace: string | undefined;
  readonly address: string;
  readonly port: number;
  /** The built web UI (index.html and assets/). */
  readonly staticDir: string;
}

export interface RunningDashboard {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;
const MAX_REASON = 1024;
/** State pushes are coalesced: at most one per this long, always after the latest change. */
const PUSH_EVERY_MS = 150;
/** A comment on an idle stream, so proxies and the browser keep it open. */
const HEARTBEAT_MS = 15_000;

/** Strict by default: only this origin's scripts, styles and connections; no frames, no forms, no inline code. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

const ACTIONS: readonly ActionName[] = ['promote', 'abort', 'retry'];
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The built UI, read once: index.html with the CSRF token in a meta tag, and the hashed assets. */
function loadStatic(dir: string, csrf: string): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  let index: string;
  try {
    index = readFileSync(join(dir, 'index.html'), 'utf8');
  } catch (err) {
    throw new Error(`the dashboard's web UI is not built (${join(dir, 'index.html')} missing): run npm run build`, { cause: err });
  }
  files.set('/', { body: Buffer.from(index.replace('%TANDEM_CSRF%', csrf)), type: TYPES['.html']! });
  const assets = join(dir, 'assets');
  for (const f of readdirSync(assets)) files.set(`/assets/${f}`, { body: readFileSync(join(assets, f)), type: TYPES[extname(f)] ?? 'application/octet-stream' });
  return files;
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, body: ActionResponse | { message: string }) => send(res, status, JSON.stringify(body), 'application/json');

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The dashboard's HTTP server: the built UI, one server-sent-events stream of the whole state
 * (pushed from the watches, never polled), and POSTs that write request annotations with the
 * user's credentials. node:http rather than a framework: five routes, and every header is ours.
 */
export async function startDashboard(o: DashboardOptions): Promise<RunningDashboard> {
  const csrf = randomBytes(32).toString('base64url');
  const files = loadStatic(o.staticDir, csrf);
  const streams = new Set<ServerResponse>();
  let state = JSON.stringify(dashboardState(o.source.snapshot(), o.namespace));
  let timer: NodeJS.Timeout | undefined;
  let pushedAt = 0;
  const push = () => {
    timer = undefined;
    pushedAt = Date.now();
    const next = JSON.stringify(dashboardState(o.source.snapshot(), o.namespace));
    if (next === state) return;
    state = next;
    for (const s of streams) s.write(`event: state\ndata: ${state}\n\n`);
  };
  o.source.onChange(() => {
    timer ??= setTimeout(push, Math.max(0, pushedAt + PUSH_EVERY_MS - Date.now()));
  });
  const heartbeat = setInterval(() => {
    for (const s of streams) s.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  let allowedHosts = new Set<string>();
  const loopbackOnly = LOOPBACK.has(o.address);

  const stream = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(`retry: 1000\nevent: state\ndata: ${state}\n\n`);
    streams.add(res);
    req.on('close', () => streams.delete(res));
  };

  const act = async (req: IncomingMessage, res: ServerResponse, ns: string, name: string, action: ActionName) => {
    // CSRF: a same-origin page holds the token (in its HTML, never in a cookie); a cross-site form cannot set the header.
    const token = Buffer.from(String(req.headers['x-tandem-csrf'] ?? ''));
    const want = Buffer.from(csrf);
    if (token.length !== want.length || !timingSafeEqual(token, want)) return sendJson(res, 403, { ok: false, message: 'missing or wrong CSRF token: reload the page' });
    const origin = req.headers.origin;
    // Same origin: the page's Origin names the host it was loaded from (checked above on loopback).
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) return sendJson(res, 403, { ok: false, message: `cross-origin request from ${origin} refused` });
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return sendJson(res, 415, { ok: false, message: 'expected application/json' });
    if (o.namespace !== undefined && ns !== o.namespace) return sendJson(res, 404, { ok: false, message: `this dashboard serves namespace ${o.namespace} only` });
    let body: ActionRequest;
    try {
      body = JSON.parse(await readBody(req)) as ActionRequest;
    } catch (err) {
      return sendJson(res, 400, { ok: false, message: `bad request body: ${(err as Error).message}` });
    }
    if (typeof body.expect !== 'string' || body.expect === '') return sendJson(res, 400, { ok: false, message: 'the request names no release (expect)' });
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (action === 'abort' && (reason === '' || reason.length > MAX_REASON)) return sendJson(res, 400, { ok: false, message: `an abort needs a reason of 1 to ${MAX_REASON} characters` });
    try {
      // Decided on a fresh read, not the page's copy: the release may have moved since it was drawn.
      const parsed = RolloutGroup.safeParse(await o.client.getGroup(name, ns));
      if (!parsed.success) return sendJson(res, 502, { ok: false, message: `rolloutgroup ${ns}/${name} cannot be read: ${parsed.error.issues[0]?.message ?? 'bad shape'}` });
      const view = actionsOf(parsed.data)[action];
      if (!view.available) return sendJson(res, 409, { ok: false, message: view.why });
      if (view.value !== body.expect) {
        return sendJson(res, 409, { ok: false, message: `the release changed since the page showed it: you confirmed ${action} of ${body.expect}, it would now be ${view.value}; nothing was written` });
      }
      const value = action === 'abort' ? reason : view.value;
      await o.client.annotateGroup(name, { [REQUEST[action]]: value }, ns);
      return sendJson(res, 200, { ok: true, message: `rolloutgroup ${ns}/${name}: ${view.summary}` });
    } catch (err) {
      if (err instanceof ForbiddenError) return sendJson(res, 403, { ok: false, message: err.message });
      if (err instanceof ObjectNotFoundError) return sendJson(res, 404, { ok: false, message: err.message });
      if (err instanceof CliClientError) return sendJson(res, 502, { ok: false, message: err.message });
      throw err;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // A page on another site resolving its own name to 127.0.0.1 (DNS rebinding) sends its own Host.
    if (loopbackOnly && !allowedHosts.has(req.headers.host ?? '')) return send(res, 421, 'unexpected Host header', 'text/plain');
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (url.pathname === '/api/stream') return stream(req, res);
      const file = files.get(url.pathname);
      if (!file) return send(res, 404, 'not found', 'text/plain');
      // Hashed asset names change with their content; index.html is read on every load.
      return send(res, 200, file.body, file.type, url.pathname === '/' ? {} : { 'Cache-Control': 'public, max-age=31536000, immutable' });
    }
    const m = /^\/api\/groups\/([a-z0-9-.]+)\/([a-z0-9-.]+)\/(promote|abort|retry)$/.exec(url.pathname);
    if (req.method === 'POST' && m && ACTIONS.includes(m[3] as ActionName)) return act(req, res, m[1]!, m[2]!, m[3] as ActionName);
    return send(res, 405, 'method not allowed', 'text/plain');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      process.stderr.write(`dashboard: ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}\n`);
      if (!res.headersSent) sendJson(res, 500, { ok: false, message: 'internal error; see the dashboard’s log' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.address, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = o.address.includes(':') ? `[${o.address}]` : o.address;
  allowedHosts = new Set([`${hostPart}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
  return {
    url: `http://${hostPart}:${port}/`,
    close: async () => {
      clearInterval(heartbeat);
      clearTimeout(timer);
      for (const s of streams) s.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
