/** The endpoint a `web` analysis metric asks (support/apps.ts webAnalysis): the test sets its verdict. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VerdictServer {
  readonly url: string;
  set(ok: boolean): void;
  /** How many times the analysis asked. */
  asked(): number;
  close(): Promise<void>;
}

/** Listens on loopback: Argo's controller runs on this machine, so it reaches it there. */
export async function verdictServer(): Promise<VerdictServer> {
  let ok = true;
  let asked = 0;
  const server = createServer((_req, res) => {
    asked++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/verdict`,
    set: (v) => (ok = v),
    asked: () => asked,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
