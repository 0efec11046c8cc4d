import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { GatewayCommand } from './gateway-command.js';
import type { ExitInfo } from './lifecycle.js';

const STDERR_TAIL_LINES = 20;
/** How long an exit waits for the gateway's last output lines. */
const OUTPUT_DRAIN_MS = 200;

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
 */
export function spawnGateway(command: GatewayCommand, env: Record<string, string>, logger: Logger, hooks: SpawnHooks): GatewayProcess {
  // node:child_process, not execa: with execa loaded (even lazily, after listening) the supervisor
  // measured 2.5-2.7 ms instead of 1.1-1.2 ms of CPU per forwarded 1 MB response, 5 MB more RSS and
  // ~75 ms more start-up (BENCHMARKS.md); this one call needs none of its features. The process's
  // own exit is what counts, not its stdio closing (a grandchild may hold the pipes).
  const subprocess = spawn(command.file, [...command.args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const outputClosed: Array<Promise<void>> = [];
  const exited = new Promise<ExitInfo>((resolve) => {
    subprocess.once('exit', (code, signal) => {
      const exit = { code, signal, at: Date.now() };
      // Its last stderr lines may still be in the pipe: they explain the exit. A grandchild holding
      // the pipe open must not delay the verdict, hence the bound.
      const bound = new Promise<void>((done) => setTimeout(done, OUTPUT_DRAIN_MS).unref());
      void Promise.race([Promise.all(outputClosed), bound]).then(() => resolve(exit));
    });
    subprocess.once('error', () => resolve({ code: 127, signal: null, at: Date.now() }));
  });
  const pid = subprocess.pid ?? -1;
  const tail: string[] = [];

  const relay = (stream: Readable | null, name: 'stdout' | 'stderr'): void => {
    if (!stream) return;
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    outputClosed.push(new Promise((done) => lines.once('close', done)));
    // No redaction here: the logger redacts the token in every line it writes, these included.
    lines.on('line', (line) => {
      if (name === 'stderr') {
        tail.push(line);
        if (tail.length > STDERR_TAIL_LINES) tail.shift();
      } else if (READY_LINE.test(line)) {
        hooks.onReadyLine();
      }
      // `msg` for log collectors; `line` kept for existing consumers.
      logger[gatewayLineLevel(line, name)]({ event: 'gateway.log', source: 'gateway', stream: name, line }, line);
      const signal = SIGNAL_LINE.exec(line)?.[1];
      if (signal !== undefined) hooks.onSignalLine(signal);
      hooks.onLine?.(line, name);
    });
    stream.on('error', () => undefined);
  };
  relay(subprocess.stdout, 'stdout');
  relay(subprocess.stderr, 'stderr');

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
