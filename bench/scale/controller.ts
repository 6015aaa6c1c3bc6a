/** The built controller as a child process: its ports from its log, its memory from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Memory {
  /** Resident set now, MiB. */
  readonly rssMiB: number;
  /** Peak resident set of the process so far (VmHWM), MiB. */
  readonly peakMiB: number;
}

export class BenchController {
  readonly startedAt = performance.now();
  private readonly child: ChildProcess;
  private readonly ports = new Map<string, number>();
  private readonly exited: Promise<void>;

  constructor(cli: string, kubeconfig: string, logFile: string, nodeArgs: readonly string[], controllerArgs: readonly string[] = []) {
    this.child = spawn(
      process.execPath,
      [...nodeArgs, cli, 'controller', '--kubeconfig', kubeconfig, '--log-level', 'info', '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0', ...controllerArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = createWriteStream(logFile);
    this.child.stderr!.pipe(log);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      log.write(`${line}\n`);
      if (!line.includes('"serving"')) return;
      try {
        const r = JSON.parse(line) as { msg?: string; server?: string; port?: number };
        if (r.msg === 'serving' && r.server && r.port) this.ports.set(r.server, r.port);
      } catch {
        // not JSON
      }
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  memory(): Memory {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
  }

  private async get(server: 'health' | 'metrics', path: string): Promise<{ status: number; body: string } | undefined> {
    const port = this.ports.get(server);
    if (!port) return undefined;
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: await res.text() };
    } catch {
      return undefined;
    }
  }

  /** Polls /readyz every 20 ms; resolves with the time it first answered 200. */
  async ready(timeoutMs = 600_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if ((await this.get('health', '/readyz'))?.status === 200) return performance.now();
      if (this.child.exitCode !== null) throw new Error(`controller exited with ${this.child.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('controller never became ready');
  }

  async metrics(): Promise<string> {
    const r = await this.get('metrics', '/metrics');
    if (r?.status !== 200) throw new Error('metrics not served');
    return r.body;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}
