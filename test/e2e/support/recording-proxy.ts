/**
 * A loopback HTTP proxy in front of the API server that records every request a client makes, as
 * the RBAC attributes the authorizer sees (verb, API group, resource, subresource, namespace).
 * The client speaks plain HTTP to 127.0.0.1; the proxy speaks TLS to the API server.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly status: number;
  readonly method: string;
  readonly path: string;
}

/** Maps a request to RBAC attributes the way kube-apiserver's RequestInfoFactory does (resource requests only). */
export function rbacAttributes(method: string, url: string): Omit<RecordedRequest, 'status' | 'method' | 'path'> | undefined {
  const u = new URL(url, 'http://x');
  const parts = u.pathname.split('/').filter(Boolean);
  let rest: string[];
  let group: string;
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1]!;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (!resource) return undefined;
  const watch = ['true', '1'].includes(u.searchParams.get('watch') ?? '');
  const verb =
    method === 'GET' ? (name ? 'get' : watch ? 'watch' : 'list')
    : method === 'POST' ? 'create'
    : method === 'PUT' ? 'update'
    : method === 'PATCH' ? 'patch'
    : method === 'DELETE' ? (name ? 'delete' : 'deletecollection')
    : method.toLowerCase();
  return { verb, group, resource: subresource ? `${resource}/${subresource}` : resource, namespace };
}

export class RecordingProxy {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  readonly url: string;

  private constructor(server: Server, url: string) {
    this.server = server;
    this.url = url;
  }

  static async start(upstream: { server: string; ca: Buffer }): Promise<RecordingProxy> {
    const target = new URL(upstream.server);
    let proxy!: RecordingProxy;
    const server = createServer((req: IncomingMessage, res) => {
      const up = httpsRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, ca: upstream.ca },
        (upRes) => {
          const attrs = rbacAttributes(req.method ?? 'GET', req.url ?? '/');
          if (attrs) proxy.requests.push({ ...attrs, status: upRes.statusCode ?? 0, method: req.method ?? '', path: req.url ?? '' });
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.flushHeaders(); // a watch answers with headers long before its first event
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new RecordingProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  /** A proxy in front of a kubeconfig's API server, and a kubeconfig file that goes through it with the same credentials. */
  static async inFrontOf(kubeconfigPath: string): Promise<{ proxy: RecordingProxy; kubeconfig: string }> {
    const proxy = await RecordingProxy.start(upstreamOf(kubeconfigPath));
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'tandem-proxied-')), 'proxied.kubeconfig');
    writeFileSync(kubeconfig, proxy.kubeconfigFor(kubeconfigPath), { mode: 0o600 });
    return { proxy, kubeconfig };
  }

  /** A kubeconfig that sends the given one's credentials through this proxy. */
  kubeconfigFor(kubeconfigPath: string): string {
    const kc = JSON.parse(readFileSync(kubeconfigPath, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
    // Plain HTTP on loopback; client-node accepts it only with TLS verification marked off.
    kc.clusters[0]!.cluster = { server: this.url, 'insecure-skip-tls-verify': true };
    return JSON.stringify(kc);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The upstream API server and CA of a kubeconfig written by service-account.ts. */
export function upstreamOf(kubeconfigPath: string): { server: string; ca: Buffer } {
  const kc = JSON.parse(readFileSync(kubeconfigPath, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string } }[] };
  const c = kc.clusters[0]!.cluster;
  const ca = c['certificate-authority-data'] ? Buffer.from(c['certificate-authority-data'], 'base64') : readFileSync(c['certificate-authority']!);
  return { server: c.server, ca };
}
