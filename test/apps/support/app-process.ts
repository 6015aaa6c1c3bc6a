/** A demo app as a real process on 127.0.0.1, its JSON log lines kept for assertions. */
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from '../../e2e/support/wait.ts';

export interface LogLine {
  msg: string;
  [field: string]: unknown;
}

export class AppProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly port: number;
  private readonly child: ChildProcess;

  private constructor(child: ChildProcess, port: number, lines: LogLine[], stderr: string[]) {
    this.child = child;
    this.port = port;
    this.lines = lines;
    this.stderr = stderr;
  }

  /** Starts examples/apps/<app> on an ephemeral loopback port and waits until it listens. */
  static async start(app: string, env: Record<string, string>): Promise<AppProcess> {
    const lines: LogLine[] = [];
    const stderr: string[] = [];
    const child = spawn(process.execPath, [`examples/apps/${app}/src/main.ts`], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as LogLine);
    });
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const listening = await waitFor(`${app} listening`, async () => {
      if (child.exitCode !== null) throw new Error(`${app} exited ${child.exitCode}: ${stderr.join('')}`);
      return lines.find((l) => l.msg === 'listening');
    }, { timeoutMs: 20_000, dump: async () => stderr.join('') });
    return new AppProcess(child, listening['port'] as number, lines, stderr);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async get(path: string): Promise<{ status: number; body: any }> {
    const res = await fetch(this.url(path));
    return { status: res.status, body: await res.json() };
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill('SIGTERM');
    return exited;
  }
}
