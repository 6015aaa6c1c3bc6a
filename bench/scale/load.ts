/** The machine's load average over a run, sampled from /proc/loadavg and split by phase (the machine is shared). */
import { readFileSync } from 'node:fs';

export interface LoadSummary {
  /** 1-minute load average: mean and max of the samples taken in the phase. */
  readonly mean: number;
  readonly max: number;
  readonly samples: number;
}

export const readLoad1 = (text = readFileSync('/proc/loadavg', 'utf8')): number => Number(text.split(' ')[0]);

export class LoadSampler {
  private readonly samples: { phase: string; load: number }[] = [];
  private phase = 'setup';
  private readonly timer: NodeJS.Timeout;

  constructor(everyMs = 2000, read: () => number = readLoad1) {
    const sample = () => this.samples.push({ phase: this.phase, load: read() });
    sample();
    this.timer = setInterval(sample, everyMs);
    this.timer.unref();
  }

  /** Samples from now on count for `phase`. */
  mark(phase: string): void {
    this.phase = phase;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Per phase in the order first seen, and `all`. */
  summary(): Record<string, LoadSummary> {
    const by = new Map<string, number[]>([['all', []]]);
    for (const s of this.samples) {
      if (!by.has(s.phase)) by.set(s.phase, []);
      by.get(s.phase)!.push(s.load);
      by.get('all')!.push(s.load);
    }
    const out: Record<string, LoadSummary> = {};
    for (const [phase, xs] of by) {
      if (xs.length === 0) continue;
      out[phase] = { mean: Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 100) / 100, max: Math.max(...xs), samples: xs.length };
    }
    return out;
  }
}
