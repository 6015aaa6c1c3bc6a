// Load generator for the real node: calls loan's /api/v1/status at a fixed rate and prints one JSON
// line per response: {"t": ms since epoch, "loan": "1.0", "interest": "1.0", "url": loan's backend
// address} or {"t", "error"}.
// Run it inside the node's network namespace (the Service's ClusterIP exists only there):
//   nsenter --net=/run/netns/<netns> node examples/traffic.ts <url> [requests/s] [max seconds]
// It stops by itself after max seconds (default 600), on SIGTERM, or when stdin closes.
import { request } from 'node:http';

const [url, rateArg = '25', maxArg = '600'] = process.argv.slice(2);
if (!url) {
  console.error('usage: traffic.ts <url> [requests/s] [max seconds]');
  process.exit(2);
}
const rate = Number(rateArg);
const deadline = Date.now() + Number(maxArg) * 1000;

interface Status {
  version?: string;
  backend?: { version?: string; url?: string };
  error?: string;
}

/** One request on a fresh connection (no keep-alive), so every request is routed by kube-proxy anew. */
function once(): void {
  const t = Date.now();
  const out = (fields: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t, ...fields })}\n`);
  const req = request(url!, { agent: false, timeout: 3_000, headers: { connection: 'close' } }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body += c));
    res.on('end', () => {
      try {
        const s = JSON.parse(body) as Status;
        if (res.statusCode === 200 && s.version && s.backend?.version) out({ loan: s.version, interest: s.backend.version, url: s.backend.url });
        else out({ error: `HTTP ${res.statusCode}: ${s.error ?? body.slice(0, 200)}`, loan: s.version });
      } catch {
        out({ error: `HTTP ${res.statusCode}: unparsable body ${body.slice(0, 200)}` });
      }
    });
  });
  // Whether the connection was made tells a stalled pod from a packet routed nowhere.
  let connected: number | undefined;
  req.on('socket', (socket) => socket.once('connect', () => (connected = Date.now() - t)));
  req.on('timeout', () => req.destroy(new Error(`timed out after 3 s (${connected === undefined ? 'never connected' : `connected after ${connected} ms`})`)));
  req.on('error', (err) => out({ error: err.message }));
  req.end();
}

// Open loop on an absolute schedule: a late timer (a busy machine) sends every request that is due,
// so the rate holds on average instead of drifting below it.
const start = Date.now();
let sent = 0;
const timer = setInterval(() => {
  if (Date.now() > deadline) return stop();
  const due = Math.floor(((Date.now() - start) * rate) / 1000) + 1;
  for (; sent < due; sent++) once();
}, Math.max(1, Math.floor(1000 / rate / 2)));
function stop(): void {
  clearInterval(timer);
  // Let the requests in flight answer (each times out after 3 s at most).
  setTimeout(() => process.exit(0), 3_500).unref();
}
process.once('SIGTERM', stop);
process.stdin.on('end', stop).resume();
