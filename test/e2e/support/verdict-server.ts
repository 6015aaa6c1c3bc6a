/** The endpoint a `web` analysis metric asks (support/apps.ts webAnalysis): the test sets its verdict. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VerdictServer {
  readonly url: string;
  set(ok: boolean): void;
  /** How many times the analysis asked. */
  asked(): number;
  /** The query strings it asked with, in order. */
  queries(): URLSearchParams[];
  close(): Promise<void>;
}

/**
 * Listens on loopback: Argo's controller runs on this machine, so it reaches it there. With `answers`,
 * only that many questions are answered; the later ones are left hanging (a stuck measurement).
 */
export async function verdictServer(options: { answers?: number } = {}): Promise<VerdictServer> {
  let ok = true;
  const queries: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    queries.push(new URL(req.url ?? '/', 'http://verdict').searchParams);
    if (options.answers !== undefined && queries.length > options.answers) return;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/verdict`,
    set: (v) => (ok = v),
    asked: () => queries.length,
    queries: () => [...queries],
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections(); // a hanging question would hold the close
      }),
  };
}
