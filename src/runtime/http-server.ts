import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export interface Response {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export type Routes = Readonly<Record<string, () => Response | Promise<Response>>>;

/** A server could not listen on its address. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Parses a kubebuilder-style bind address: "host:port", ":port" (every interface) or "0" (off).
 * Returns undefined for "0".
 */
export function parseBindAddress(address: string): { host: string | undefined; port: number } | undefined {
  if (address === '0') return undefined;
  const m = /^(.*):(\d{1,5})$/.exec(address);
  if (!m) throw new RangeError(`bind address "${address}" is not host:port, :port or 0`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? undefined : host, port: Number(m[2]) };
}

export interface ServeOptions {
  /** PEM certificate and key: serve HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** Runs before a route; a response it returns (401, 403) is sent instead. */
  readonly guard?: ((req: IncomingMessage) => Promise<Response | undefined>) | undefined;
}

/** Serves GET routes (plain text) on one address; anything else is 404. */
export async function serve(what: string, address: string, routes: Routes, log: Logger, options: ServeOptions = {}): Promise<RunningServer | undefined> {
  const bind = parseBindAddress(address);
  if (!bind) return undefined;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = req.method === 'GET' ? routes[path] : undefined;
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const { guard } = options;
    Promise.resolve()
      .then(async () => (guard ? ((await guard(req)) ?? route()) : route()))
      .then(
        (r) => res.writeHead(r.status, { 'content-type': r.contentType }).end(r.body),
        (err: unknown) => {
          log.error({ err, server: what }, 'request failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`);
        },
      );
  };
  const server: Server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ListenError(`${what} cannot listen on ${address}`, { cause: err })));
    server.listen(bind.port, bind.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ server: what, address: bind.host ?? '*', port, tls: options.tls !== undefined }, 'serving');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const text = (status: number, body: string): Response => ({ status, contentType: 'text/plain; charset=utf-8', body });
