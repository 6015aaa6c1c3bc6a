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
      // Ephemeral loopback ports: many controllers run at once; serverPort() reads them from the log.
      [CLI, 'controller', '--kubeconfig', kubeconfig, '--namespace', namespace, '--log-level', 'debug', '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0', ...extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    return new ControllerProcess(child, logFile);
  }

  /** A controller started some other way (the image under runc), its output already written to `logFile`. */
  static adopt(child: ChildProcess, logFile: string): ControllerProcess {
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

  /** The JSON log records with this message. */
  records(msg: string): Record<string, any>[] {
    return this.logLines().flatMap((l) => {
      try {
        const r = JSON.parse(l) as Record<string, any>;
        return r['msg'] === msg ? [r] : [];
      } catch {
        return [];
      }
    });
  }

  /** Resolves with the port the named server ('metrics' or 'health') listens on. */
  async serverPort(server: 'metrics' | 'health'): Promise<number> {
    // A generous bound: on a loaded 2-core machine (CI, load 15–20) Node took over 10 s to log anything.
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      const r = this.records('serving').find((x) => x['server'] === server);
      if (r) return r['port'] as number;
      if (this.child.exitCode !== null || this.child.signalCode !== null) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`controller never logged its ${server} port:\n${this.tail()}`);
  }

  /** GET on one of the controller's servers. */
  async get(server: 'metrics' | 'health', path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${await this.serverPort(server)}${path}`);
    return { status: res.status, body: await res.text() };
  }

  /** Its leader-election identity, from the start-up log line. */
  identity(): string | undefined {
    return this.records('controller starting')[0]?.['identity'] as string | undefined;
  }

  tail(n = 40): string {
    return this.logLines().slice(-n).join('\n');
  }
}
