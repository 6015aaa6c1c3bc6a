import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = new URL('../../../dist/cli.js', import.meta.url).pathname;
export const LOG_DIR = join(process.env['TANDEM_E2E_LOGS'] ?? join(tmpdir(), 'tandem-e2e'));

/** The real `tandem controller` as a child process, its JSON logs kept in a file. */
export class ControllerProcess {
  readonly logFile: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, logFile: string) {
    this.child = child;
    this.logFile = logFile;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(kubeconfig: string, namespace: string, name = 'controller', extraArgs: string[] = [], env: Record<string, string> = {}): ControllerProcess {
    mkdirSync(LOG_DIR, { recursive: true });
    const logFile = join(LOG_DIR, `${namespace}-${name}-${Date.now()}.log`);
    const out = createWriteStream(logFile);
    const child = spawn(
      process.execPath,
      [CLI, 'controller', '--kubeconfig', kubeconfig, '--namespace', namespace, '--log-level', 'debug', ...extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    return new ControllerProcess(child, logFile);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves with the signal that ended the process, once it has exited. */
  async exit(): Promise<NodeJS.Signals | null> {
    await this.exited;
    return this.child.signalCode;
  }

  /** Sends the signal and waits for the process to exit; returns its exit code. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  logLines(): string[] {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  tail(n = 40): string {
    return this.logLines().slice(-n).join('\n');
  }
}
