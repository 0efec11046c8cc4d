import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './ports.js';
import { descendantsOf } from './proc.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const FAKE_GATEWAY = join(ROOT, 'test', 'fixtures', 'fake-gateway.mjs');

export interface LogRecord {
  readonly event?: string;
  readonly level?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface StartOptions {
  /** Extra environment (merged over a clean base). */
  readonly env?: Record<string, string | undefined>;
  /** Supervisor flags before `--`. */
  readonly args?: readonly string[];
  /** Gateway command after `--`; default: the fake gateway. `null`: the pinned openclaw. */
  readonly gateway?: readonly string[] | null;
  /** Wrap the whole command (e.g. unshare); receives [node, cli, ...]. */
  readonly wrap?: (argv: string[]) => string[];
}

export interface RunningSupervisor {
  readonly process: ChildProcess;
  readonly port: number;
  readonly gatewayPort: number;
  readonly stateDir: string;
  readonly token: string;
  readonly records: LogRecord[];
  /** Every raw line the process printed on stdout and stderr. */
  readonly output: string[];
  /** The process's exit (`at`: when it happened), resolved once its output pipes have closed too. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  waitFor(event: string, predicate?: (record: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  events(event: string): LogRecord[];
  url(path?: string): string;
  signal(signal: NodeJS.Signals): void;
  /** SIGKILLs the supervisor and the gateway group if still alive (test cleanup). */
  kill(): Promise<void>;
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export const TEST_TOKEN = 'tok-Secret-4242-abcdef-XYZ';

/** Starts `node dist/cli.js` for real, with its own ports and state dir, and collects its JSON log. */
export async function startSupervisor(options: StartOptions = {}): Promise<RunningSupervisor> {
  const port = Number(options.env?.['PORT'] ?? (await freePort()));
  const gatewayPort = Number(options.env?.['SUPERVISOR_GATEWAY_PORT'] ?? (await freePort()));
  const stateDir = options.env?.['OPENCLAW_STATE_DIR'] ?? mkdtempSync(join(tmpdir(), 'ocs-state-'));
  const gateway = options.gateway === undefined ? [process.execPath, FAKE_GATEWAY] : options.gateway;
  const argv = [process.execPath, CLI, ...(options.args ?? []), ...(gateway === null ? [] : ['--', ...gateway])];
  const [file, ...args] = options.wrap ? options.wrap(argv) : argv;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    PORT: String(port),
    SUPERVISOR_GATEWAY_PORT: String(gatewayPort),
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_GATEWAY_TOKEN: TEST_TOKEN,
    SUPERVISOR_RESTART_DELAY_MS: '50',
    SUPERVISOR_RESTART_MAX_DELAY_MS: '400',
    ...options.env,
  })) {
    if (value !== undefined) env[key] = value;
  }
  const child = spawn(file!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const records: LogRecord[] = [];
  const output: string[] = [];
  const listeners = new Set<() => void>();
  const collect = (stream: NodeJS.ReadableStream): Promise<void> => {
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      output.push(line);
      try {
        records.push(JSON.parse(line) as LogRecord);
      } catch {
        // a plain line (usage error, stack): kept in output only
      }
      for (const listener of listeners) listener();
    });
    return new Promise((closed) => lines.once('close', closed));
  };
  const outputClosed = Promise.all([collect(child.stdout!), collect(child.stderr!)]);
  const processExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal, at: Date.now() }));
  });
  let done = false;
  // Resolves once the process has exited (`at`: that instant) and both pipes have delivered their
  // last line, so that whoever awaits it sees the whole log.
  const exited = Promise.all([processExit, outputClosed]).then(([exit]) => {
    // Set here, not in a later .then: the waiters woken below must already see the exit.
    done = true;
    for (const listener of listeners) listener();
    return exit;
  });

  const waitFor = (event: string, predicate: (record: LogRecord) => boolean = () => true, timeoutMs = 30_000): Promise<LogRecord> =>
    new Promise((resolveWait, rejectWait) => {
      const check = (): boolean => {
        const found = records.find((record) => record.event === event && predicate(record));
        if (found) {
          cleanup();
          resolveWait(found);
          return true;
        }
        if (done) {
          cleanup();
          rejectWait(new Error(`supervisor exited before logging ${event}; last lines:\n${output.slice(-15).join('\n')}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        rejectWait(new Error(`no ${event} within ${timeoutMs} ms; last lines:\n${output.slice(-15).join('\n')}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      const listener = (): void => void check();
      if (!check()) listeners.add(listener);
    });

  return {
    process: child,
    port,
    gatewayPort,
    stateDir,
    token: env['OPENCLAW_GATEWAY_TOKEN'] ?? '',
    records,
    output,
    exited,
    waitFor,
    events: (event) => records.filter((record) => record.event === event),
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    signal: (signal) => {
      child.kill(signal);
    },
    kill: async () => {
      // Everything this run started: the process tree under the child, and the gateway groups
      // (a group can outlive its tree). Logged pids are only ours to signal without a wrapper:
      // inside a PID namespace they are the namespace's numbers, not this machine's.
      const targets = descendantsOf(child.pid ?? -1).map((p) => p.pid);
      const groups = options.wrap ? [] : records.map((record) => record['gatewayPid']).filter((pid): pid is number => typeof pid === 'number');
      for (const pid of targets) signalQuietly(pid, 'SIGKILL');
      for (const pgid of groups) signalQuietly(-pgid, 'SIGKILL');
      if (!done) child.kill('SIGKILL');
      await exited;
    },
  };
}
