// interest: the backend of the loans demo. Reports its version and computes interest.
import { createServer } from 'node:http';

const version = process.env['VERSION'] ?? '1.0';
const rate = Number(process.env['RATE_PERCENT'] ?? '4.5');
const log = (msg: string, fields: Record<string, unknown> = {}) => console.log(JSON.stringify({ app: 'interest', version, msg, ...fields }));

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const json = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  switch (url.pathname) {
    case '/healthz':
    case '/readyz':
      return json(200, { ok: true });
    case '/version':
      return json(200, { app: 'interest', version });
    case '/api/v1/interest': {
      const amount = Number(url.searchParams.get('amount') ?? '0');
      const years = Number(url.searchParams.get('years') ?? '1');
      if (!Number.isFinite(amount) || !Number.isFinite(years) || amount < 0 || years < 0) return json(400, { error: 'amount and years must be non-negative numbers' });
      return json(200, { version, ratePercent: rate, amount, years, interest: Math.round(amount * (rate / 100) * years * 100) / 100 });
    }
    default:
      return json(404, { error: `no route ${url.pathname}` });
  }
});

server.listen(Number(process.env['PORT'] ?? '8080'), process.env['HOST'] ?? '0.0.0.0', () => {
  const address = server.address();
  log('listening', { port: typeof address === 'object' && address ? address.port : undefined });
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
