import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descendantsOf } from './proc.js';
import { CLI, FAKE_GATEWAY, createLogReader, eachLine, freePort, supervisorEnv } from './supervisor-process.mjs';

// The shared pieces (with bench/lib/supervisor.mjs) live in supervisor-process.mjs.
export { CLI, FAKE_GATEWAY, ROOT } from './supervisor-process.mjs';

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
  const env = supervisorEnv({
    port,
    gatewayPort,
    stateDir,
    token: TEST_TOKEN,
    extra: { SUPERVISOR_RESTART_DELAY_MS: '50', SUPERVISOR_RESTART_MAX_DELAY_MS: '400', ...options.env },
  });
  const child = spawn(file!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createLogReader<LogRecord>();
  const outputClosed = Promise.all([eachLine(child.stdout!, (line) => log.push(line)), eachLine(child.stderr!, (line) => log.push(line))]);
  // No line can come any more once both pipes closed: a wait for a record then fails at once.
  void outputClosed.then(() => log.end());
  const processExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal, at: Date.now() }));
  });
  // Resolves once the process has exited (`at`: that instant) and both pipes have delivered their
  // last line, so that whoever awaits it sees the whole log.
  const exited = Promise.all([processExit, outputClosed]).then(([exit]) => exit);
  const { records, output } = log;

  const waitFor = async (event: string, predicate: (record: LogRecord) => boolean = () => true, timeoutMs = 30_000): Promise<LogRecord> =>
    (await log.waitFor(event, predicate, timeoutMs)).record;

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
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
