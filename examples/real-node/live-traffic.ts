// Runs examples/traffic.ts inside the real node's network namespace and collects its answers: which
// (loan, interest) version pair answered each request. Used by the demo and the real-node e2e test.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Answer {
  /** When the request was sent, ms since the epoch. */
  readonly t: number;
  readonly loan?: string;
  readonly interest?: string;
  /** The backend address the answering loan pod used (from its Downward API volume). */
  readonly url?: string;
  readonly error?: string;
}

const script = fileURLToPath(new URL('../traffic.ts', import.meta.url));

export const pairOf = (a: Answer): string => (a.error ? 'error' : `${a.loan}→${a.interest}`);

export class LiveTraffic {
  readonly answers: Answer[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private stderr = '';

  private constructor(netns: string, url: string, rate: number, maxSeconds: number, onAnswer?: (a: Answer) => void) {
    this.child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', process.execPath, script, url, String(rate), String(maxSeconds)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const a = JSON.parse(line) as Answer;
      this.answers.push(a);
      onAnswer?.(a);
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  /** Starts calling `url` `rate` times a second from inside `netns`; it ends by itself after `maxSeconds`. */
  static start(netns: string, url: string, options: { rate?: number; maxSeconds?: number; onAnswer?: (a: Answer) => void } = {}): LiveTraffic {
    return new LiveTraffic(netns, url, options.rate ?? 25, options.maxSeconds ?? 600, options.onAnswer);
  }

  /** Stops sending and waits for the answers still in flight. */
  async stop(): Promise<void> {
    this.child.stdin!.end();
    const code = await this.exited;
    if (code !== 0) throw new Error(`traffic generator exited with ${code}: ${this.stderr.trim()}`);
  }
}

/** Per second of sending time: how many requests each pair (or `error`) answered. */
export function pairsBySecond(answers: readonly Answer[]): { second: number; pairs: Map<string, number> }[] {
  const out = new Map<number, Map<string, number>>();
  for (const a of answers) {
    const s = Math.floor(a.t / 1000);
    const m = out.get(s) ?? new Map<string, number>();
    m.set(pairOf(a), (m.get(pairOf(a)) ?? 0) + 1);
    out.set(s, m);
  }
  return [...out.entries()].sort(([a], [b]) => a - b).map(([second, pairs]) => ({ second, pairs }));
}

/** `1.0→1.0 ×25  2.0→2.0 ×3`: one second's answers, for printing. */
export const formatPairs = (pairs: ReadonlyMap<string, number>): string =>
  [...pairs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([p, n]) => `${p} ×${n}`).join('  ');
