import { createServer } from 'node:net';

/** A loopback port nothing listens on now, for a server that cannot report a port it chose itself (Prometheus). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
