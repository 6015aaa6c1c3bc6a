// The memory of one or more controller builds over the same cluster state, one after the other: for
// before/after figures on identical caches (run `npm run bench:scale -- --keep …` first, so its
// groups stay). Each build is started, left until its work queue has been empty for --settle seconds,
// sampled every second for --sample seconds, and stopped.
//   node bench/rss.ts --kubeconfig K [--settle 20] [--sample 30] <label>=<cli.js>[,node-flag…][,ctl:controller-flag…] …
// (a flag written ctl:--x=1 goes to the controller, e.g. ctl:--list-page-size=0; the others to its node)
// See docs/performance.md.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchController } from './scale/controller.ts';

const { values: args, positionals } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    settle: { type: 'string', default: '20' },
    sample: { type: 'string', default: '30' },
    /** Sample anyway after this many seconds, saying it had not settled (Argo still bringing Rollouts up, say). */
    'settle-max': { type: 'string', default: '600' },
  },
  allowPositionals: true,
});
if (!args.kubeconfig || positionals.length === 0) throw new Error('usage: node bench/rss.ts --kubeconfig K <label>=<cli.js>[,node-flag…] …');
const LOGS = process.env['TANDEM_E2E_LOGS'] ?? '/tmp/tandem-bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gauge = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

for (const spec of positionals) {
  const at = spec.indexOf('=');
  const [label, rest] = [spec.slice(0, at), spec.slice(at + 1)];
  const [cli, ...flags] = rest.split(',');
  const ctl = flags.filter((f) => f.startsWith('ctl:')).map((f) => f.slice(4));
  const c = new BenchController(cli!, args.kubeconfig, join(LOGS, `rss-${label}-${Date.now()}.log`), flags.filter((f) => !f.startsWith('ctl:')), ctl);
  const ready = await c.ready();
  // Settled: nothing queued or in flight for --settle seconds in a row.
  let quietSince = performance.now();
  let settled = true;
  for (;;) {
    const m = await c.metrics();
    const busy = gauge(m, 'workqueue_depth') > 0 || gauge(m, 'controller_runtime_active_workers') > 0;
    if (busy) quietSince = performance.now();
    if (performance.now() - quietSince >= Number(args.settle) * 1000) break;
    if (performance.now() - ready >= Number(args['settle-max']) * 1000) {
      settled = false;
      break;
    }
    await sleep(500);
  }
  const settledS = (performance.now() - ready) / 1000;
  const rss: number[] = [];
  for (let i = 0; i < Number(args.sample); i++) {
    rss.push(c.memory().rssMiB);
    await sleep(1000);
  }
  const m = await c.metrics();
  const mib = (v: number) => Math.round(v / 1048576);
  const peak = c.memory().peakMiB;
  await c.stop();
  rss.sort((a, b) => a - b);
  console.log(
    `${label}: ready ${((ready - c.startedAt) / 1000).toFixed(1)} s, ${settled ? 'settled' : 'NOT settled, sampled'} ${settledS.toFixed(1)} s later; RSS median ${rss[rss.length >> 1]!.toFixed(0)} / max ${rss.at(-1)!.toFixed(0)} / peak ${peak.toFixed(0)} MiB; ` +
      `heap used ${mib(gauge(m, 'nodejs_heap_size_used_bytes'))} / total ${mib(gauge(m, 'nodejs_heap_size_total_bytes'))} MB, new space ${mib(gauge(m, 'nodejs_heap_space_size_total_bytes\\{space="new"\\}'))} MB`,
  );
}
