// Summarises a V8 profile the scale benchmark's controller wrote (--node-arg=--cpu-prof / --heap-prof):
// self time (CPU) or live sampled bytes (heap) by function and by package, the figures docs/performance.md cites.
//   node bench/profile-summary.ts <file.cpuprofile|file.heapprofile> [--top 25] [--under tls]
// --under tls: also the CPU time spent inside connection set-up (a new TLS connection: its
// SecureContext, handshake and certificate checks), counted with everything those functions call.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, under: { type: 'string' } } });
const file = positionals[0];
if (!file) throw new Error('usage: node bench/profile-summary.ts <file.cpuprofile|file.heapprofile> [--top N]');
const top = Number(values.top);

/** A package (node_modules/<name>), a file of this repository (src/…), or node's own. */
export function packageOf(url: string): string {
  if (url === '') return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const own = /\/(src|dist)\/(.+)$/.exec(url);
  if (own) return `tandem ${own[2]}`;
  if (url.startsWith('node:')) return 'node core';
  return url;
}
const fnName = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${packageOf(f.url)}:${f.lineNumber + 1}`;

function table(title: string, rows: Map<string, number>, total: number, unit: (v: number) => string): void {
  console.log(`\n${title}`);
  for (const [k, v] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${unit(v).padStart(10)}  ${k}`);
}
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

const data = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | { head: HeapNode };
if ('head' in data) {
  const bySite = new Map<string, number>();
  const byPkg = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode) => {
    total += n.selfSize;
    if (n.selfSize > 0) {
      add(bySite, fnName(n.callFrame), n.selfSize);
      add(byPkg, packageOf(n.callFrame.url), n.selfSize);
    }
    n.children.forEach(walk);
  };
  walk(data.head);
  const mib = (v: number) => `${(v / 1048576).toFixed(1)} MiB`;
  console.log(`${file}: ${mib(total)} sampled live at exit`);
  table('by package', byPkg, total, mib);
  table('by allocation site', bySite, total, mib);
} else {
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  data.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (data.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, number>();
  const byPkg = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    add(byFn, fnName(f), us);
    add(byPkg, f.functionName === '(garbage collector)' ? '(garbage collector)' : packageOf(f.url), us);
  }
  const s = (us: number) => `${(us / 1e6).toFixed(2)} s`;
  console.log(`${file}: ${s(data.endTime - data.startTime)} profiled: ${s(total)} busy (running, or ready and waiting for a core on a loaded machine), ${s(idle)} idle`);
  if (values.under === 'tls') {
    const parent = new Map<number, number>();
    for (const n of data.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const setUp = /^(SecureContext|createSecureContext|configSecureContext|getPeerCertificate|setKey|setCert|addCACert|TLSSocket\._start|TLSSocket\._init|TLSSocket\._wrapHandle|TLSSocket\._finishInit|onConnectSecure|tlsConnect|checkServerIdentity|connect)$/;
    let under = 0;
    for (const [id, us] of self) {
      for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
        if (setUp.test(byId.get(x)!.callFrame.functionName)) {
          under += us;
          break;
        }
      }
    }
    console.log(`inside TLS connection set-up: ${s(under)} (${((under / total) * 100).toFixed(0)}% of the busy time)`);
  }
  table('self time by package', byPkg, total, s);
  table('self time by function', byFn, total, s);
}
