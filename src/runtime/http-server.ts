import { createServer, type Server } from 'node:http';
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

/** Serves GET routes (plain text) on one address; anything else is 404. */
export async function serve(what: string, address: string, routes: Routes, log: Logger): Promise<RunningServer | undefined> {
  const bind = parseBindAddress(address);
  if (!bind) return undefined;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = req.method === 'GET' ? routes[path] : undefined;
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    Promise.resolve()
      .then(route)
      .then(
        (r) => res.writeHead(r.status, { 'content-type': r.contentType }).end(r.body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ListenError(`${what} cannot listen on ${address}`, { cause: err })));
    server.listen(bind.port, bind.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ server: what, address: bind.host ?? '*', port }, 'serving');
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
