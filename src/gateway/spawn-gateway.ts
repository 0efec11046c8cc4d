import type { ChildProcess } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { EXIT } from '../exit-codes.js';
import { emit } from '../log/emit.js';
import type { Logger } from '../log/logger.js';
import type { GatewayCommand } from './gateway-command.js';
import type { ExitInfo } from './lifecycle.js';
import { TIME_BOUNDS } from '../time-bounds.js';

const STDERR_TAIL_LINES = 20;
/** How long an exit waits for the gateway's last output lines. */
const OUTPUT_DRAIN_MS = TIME_BOUNDS.outputDrain.ms;

/** `[gateway] ready` on stdout; not `spawn broker ready pid=N` (GATEWAY-FACTS). */
const READY_LINE = /\[gateway\] ready$/;
/**
 * `[gateway] received SIGTERM; shutting down` (measured on 2026.9.6). Only stop signals: the
 * gateway signals itself SIGUSR2 for config-reload restarts.
 */
const SIGNAL_LINE = /\[gateway\] received (SIGTERM|SIGINT); shutting down$/;

/**
 * Per-request lines of the gateway's WebSocket log (`[ws] ⇄ res ✓ device.pair.list 57ms conn=…`,
 * `[ws] ← req …`, `[ws] → event …`; openclaw@2026.9.6 ws-log): one UI session prints hundreds.
 */
const CHATTY_LINE = /^(?:\S+\s+)?\[ws\] [⇄←→] /;

/** stderr is warn, stdout info, the per-request chatter debug (shown with SUPERVISOR_LOG_LEVEL=debug) unless it failed (✗). */
export function gatewayLineLevel(line: string, stream: 'stdout' | 'stderr'): 'debug' | 'info' | 'warn' {
  if (CHATTY_LINE.test(line) && !line.includes(' ✗ ')) return 'debug';
  return stream === 'stderr' ? 'warn' : 'info';
}

export interface GatewayProcess {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  /** Signals the gateway's whole process group; false when it is already gone. */
  signalGroup(signal: NodeJS.Signals): boolean;
  /** The gateway's last stderr lines, for the logs of a failed start (redacted when logged). */
  stderrTail(): string[];
}

export interface SpawnHooks {
  onReadyLine(): void;
  onSignalLine(signal: string): void;
  /** Every output line, after it was logged (e.g. to spot pairing refusals). */
  onLine?(line: string, stream: 'stdout' | 'stderr'): void;
}

/**
 * Starts the gateway in a process group of its own (so a stop reaches all its workers) with only
 * the environment it needs, and relays every output line as a log record.
 *
 * With execa: `detached: true` makes the gateway the leader of its own group, which
 * `signalGroup` signals as `-pid`; `extendEnv: false` passes `env` alone; its line-wise iteration
 * (`subprocess.iterable`) replaces readline. Not used, on purpose:
 * - `forceKillAfterDelay` and `cancelSignal`: both signal the leader's pid only, never the group,
 *   and the SIGKILL instant belongs to the stop plan (the runner's `signalGroup('SIGKILL')`), one
 *   timer, not two aimed at the same instant. Hence `forceKillAfterDelay: false`.
 * - `cleanup`: execa skips it for a detached subprocess (execa lib/terminate/cleanup.js), so it is
 *   off here too; the group is killed at the supervisor's exit by its signal-exit hook
 *   (`onExit(() => runner.kill())`, which SIGKILLs the group).
 * execa's import raises the heap left after GC, and past V8's ~8 MB incremental-marking point that
 * costs forwarding CPU (inert objects of the same size do the same); on Node 24 the supervisor is
 * past that point without execa too, so execa adds none (BENCHMARKS.md).
 *
 * The process's own exit is what counts, not its stdio closing (a grandchild may hold the pipes):
 * `exited` follows the 'exit' event, not execa's result promise, which waits for the pipes.
 */
let execaModule: typeof import('execa') | null = null;

/**
 * Loads execa; the runner awaits it before its first spawn, after the public port listens: the
 * import costs ~170 ms of CPU that would otherwise delay listening (measured on Node 24).
 */
export async function loadSpawner(): Promise<void> {
  execaModule ??= await import('execa');
}

/**
 * The process could not be created: `errno` settles with Node's code (EMFILE, ENFILE, EAGAIN, …)
 * once the child's 'error' event came, or null.
 */
export class GatewaySpawnError extends Error {
  readonly errno: Promise<string | null>;
  constructor(message: string, errno: Promise<string | null>) {
    super(message);
    this.errno = errno;
  }
}

/** How long a failed spawn waits for the child's 'error' event (Node emits it on the next tick). */
const SPAWN_ERROR_WAIT_MS = TIME_BOUNDS.spawnErrorWait.ms;

/**
 * Runs `start` while watching Node's `child_process` diagnostics channel for the ChildProcess it
 * creates. At EMFILE/ENFILE Node creates no stdio and emits 'error' on the next tick; execa then
 * throws ("subprocess.stdio is not iterable") before anyone could listen, and the unheard 'error'
 * would end the supervisor. The channel hands us that ChildProcess so its error is heard and read.
 */
function spawnWatched<T>(start: () => T): T {
  let child: ChildProcess | null = null;
  const onChild = (message: unknown): void => {
    child ??= (message as { process: ChildProcess }).process;
  };
  diagnostics.subscribe('child_process', onChild);
  try {
    return start();
  } catch (error) {
    const created = child as ChildProcess | null;
    const errno = new Promise<string | null>((resolve) => {
      if (created === null) return resolve((error as NodeJS.ErrnoException).code ?? null);
      const timer = setTimeout(() => resolve(null), SPAWN_ERROR_WAIT_MS);
      created.once('error', (spawnError: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(spawnError.code ?? null);
      });
    });
    throw new GatewaySpawnError(error instanceof Error ? error.message : String(error), errno);
  } finally {
    diagnostics.unsubscribe('child_process', onChild);
  }
}

export function spawnGateway(command: GatewayCommand, env: Record<string, string>, logger: Logger, hooks: SpawnHooks): GatewayProcess {
  const execa = execaModule?.execa;
  if (execa === undefined) throw new Error('spawnGateway before loadSpawner()');
  const subprocess = spawnWatched(() => execa(command.file, [...command.args], {
    env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    forceKillAfterDelay: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    // Lines are consumed as they come (below); nothing is kept for a result.
    buffer: false,
    reject: false,
  }));
  const outputClosed: Array<Promise<void>> = [];
  const exited = new Promise<ExitInfo>((resolve) => {
    subprocess.once('exit', (code, signal) => {
      const exit = { code, signal, at: Date.now() };
      // Its last stderr lines may still be in the pipe: they explain the exit. A grandchild holding
      // the pipe open must not delay the verdict, hence the bound.
      const bound = new Promise<void>((done) => setTimeout(done, OUTPUT_DRAIN_MS).unref());
      void Promise.race([Promise.all(outputClosed), bound]).then(() => resolve(exit));
    });
    // Not started at all (e.g. ENOENT): no 'exit' event, execa's result says why.
    subprocess.once('error', () => resolve({ code: EXIT.commandNotFound, signal: null, at: Date.now() }));
    void subprocess.then((result) => {
      if (result.failed && result.exitCode === undefined && result.signal === undefined) resolve({ code: EXIT.commandNotFound, signal: null, at: Date.now() });
    });
  });
  const pid = subprocess.pid ?? -1;
  const tail: string[] = [];

  const onLine = (line: string, name: 'stdout' | 'stderr'): void => {
    if (name === 'stderr') {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
    } else if (READY_LINE.test(line)) {
      hooks.onReadyLine();
    }
    // No redaction here: the logger redacts the token in every line it writes, these included.
    // `msg` for log collectors; `line` kept for existing consumers.
    emit(logger, 'gateway.log', { source: 'gateway', stream: name, line }, line, gatewayLineLevel(line, name));
    const signal = SIGNAL_LINE.exec(line)?.[1];
    if (signal !== undefined) hooks.onSignalLine(signal);
    hooks.onLine?.(line, name);
  };
  const relay = async (name: 'stdout' | 'stderr'): Promise<void> => {
    const lines = subprocess.iterable({ from: name })[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await lines.next();
      } catch {
        return; // a broken pipe ends the relay, as it did with readline
      }
      if (next.done) return;
      try {
        onLine(next.value, name);
      } catch (error) {
        // A throwing hook is a bug: it surfaces as an uncaught exception, as it did from readline's 'line'.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  };
  outputClosed.push(relay('stdout'), relay('stderr'));

  return {
    pid,
    exited,
    signalGroup(signal) {
      if (pid <= 0) return false;
      try {
        process.kill(-pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    stderrTail: () => [...tail],
  };
}
