import pRetry, { AbortError } from 'p-retry';
import type { RestartPolicy } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { GatewayCommand } from './gateway-command.js';
import { INITIAL_LIFECYCLE, transition, type ExitInfo, type Lifecycle, type LifecycleEvent } from './lifecycle.js';
import { isLoopbackPortFree } from './port-check.js';
import { groupMembers } from './process-group.js';
import { readMemoryEvidence } from '../shutdown/gather-evidence.js';
import { backoffOptions, classifyExit, delayBounds, describeExit, failuresInWindow, isCrashLoop, type ExitOutcome } from './restart-policy.js';
import { spawnGateway, type GatewayProcess } from './spawn-gateway.js';
import { waitUntilReady } from './wait-until-ready.js';

export interface GatewayRunnerOptions {
  readonly command: GatewayCommand;
  readonly env: Record<string, string>;
  readonly gatewayPort: number;
  readonly startupTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly restart: RestartPolicy;
  readonly logger: Logger;
  /** Every line the gateway prints (stdout and stderr), after it was logged. */
  readonly onGatewayLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Called once per ready gateway, before `gateway.ready` is logged: what that record adds (URLs, the token in effect). */
  readonly readyDetails?: () => Promise<{ fields: Record<string, unknown>; message: string }>;
}

/** How the runner ended, as the supervisor's exit code: 0 stopped on request, 1 crash loop, 78 refused. */
export type RunnerExitCode = 0 | 1 | 78;

class AttemptFailed extends Error {
  constructor(
    readonly outcome: ExitOutcome | 'startup-timeout' | 'port-in-use',
    message: string,
  ) {
    super(message);
  }
}
class GatewayRefused extends Error {}

type AttemptResult = 'stopped' | 'stable-failure';

/**
 * Runs the gateway: spawn, wait for readiness, restart with p-retry's jittered exponential backoff,
 * give up on a crash loop. The front door and the diagnosis read `lifecycle`.
 */
export class GatewayRunner {
  #lifecycle: Lifecycle = INITIAL_LIFECYCLE;
  #child: GatewayProcess | null = null;
  /** The latest gateway, kept after its exit: processes it left in its group must still be killable. */
  #lastChild: GatewayProcess | null = null;
  #failures: number[] = [];
  #sentSignal: NodeJS.Signals | null = null;
  #stopping: Promise<void> | null = null;
  readonly #abort = new AbortController();
  readonly #options: GatewayRunnerOptions;

  constructor(options: GatewayRunnerOptions) {
    this.#options = options;
  }

  get lifecycle(): Lifecycle {
    return this.#lifecycle;
  }

  /** Failures that count towards the crash-loop limit right now. */
  recentFailures(now = Date.now()): number {
    return failuresInWindow(this.#failures, now, this.#options.restart).length;
  }

  async run(): Promise<RunnerExitCode> {
    const { logger, restart } = this.#options;
    for (;;) {
      let result: AttemptResult;
      try {
        result = await pRetry(() => this.#attempt(), {
          ...backoffOptions(restart),
          signal: this.#abort.signal,
          // A restart request is no failure: respawn at once without consuming a retry.
          shouldConsumeRetry: ({ error }) => !(error instanceof AttemptFailed && error.outcome === 'restart-request'),
          onFailedAttempt: ({ error, retriesConsumed }) => {
            if (this.#abort.signal.aborted) return;
            if (error instanceof AttemptFailed && error.outcome === 'restart-request') {
              logger.info({ event: 'gateway.restart_scheduled', reason: 'restart-request', delayMs: 0 }, 'gateway asked to be restarted (exit 0): respawning now');
              return;
            }
            const now = Date.now();
            this.#failures.push(now);
            this.#failures = failuresInWindow(this.#failures, now, restart);
            if (isCrashLoop(this.#failures, now, restart)) return;
            const { minMs, maxMs } = delayBounds(retriesConsumed, restart);
            logger.warn(
              { event: 'gateway.restart_scheduled', reason: error instanceof AttemptFailed ? error.outcome : 'failure', attempt: retriesConsumed + 1, delayMinMs: minMs, delayMaxMs: maxMs, recentFailures: this.#failures.length, limitBurst: restart.limitBurst },
              `restarting the gateway in ${minMs}-${maxMs} ms (failure ${this.#failures.length} of ${restart.limitBurst} allowed within ${restart.limitIntervalMs} ms)`,
            );
          },
          shouldRetry: () => !this.#abort.signal.aborted && !isCrashLoop(this.#failures, Date.now(), restart),
        });
      } catch (error) {
        if (this.#stopping !== null) {
          await this.#stopping;
          return 0;
        }
        if (error instanceof GatewayRefused) {
          this.#apply({ type: 'gave_up', at: Date.now() });
          return 78;
        }
        // Anything else is a bug of ours (p-retry rethrows a TypeError at once): not a crash loop.
        if (!(error instanceof AttemptFailed)) throw error;
        this.#apply({ type: 'gave_up', at: Date.now() });
        logger.error(
          { event: 'gateway.crash_loop', failures: this.#failures.length, limitBurst: restart.limitBurst, limitIntervalMs: restart.limitIntervalMs, lastExit: this.#lifecycle.lastExit },
          `the gateway failed ${this.#failures.length} times within ${restart.limitIntervalMs} ms: giving up so that the platform's restart policy takes over`,
        );
        return 1;
      }
      if (result === 'stopped') return 0;
      this.#failures.push(Date.now());
      logger.warn({ event: 'gateway.restart_scheduled', reason: 'stable-failure', delayMs: 0 }, 'the gateway crashed after a stable run: backoff reset, respawning now');
    }
  }

  /**
   * SIGTERM to the gateway's group, SIGKILL after the stop timeout; `beforeKill` runs first (the
   * front door closes the sessions left, so that clients see our close code, not a dead socket).
   * Idempotent: a repeat call returns the same promise.
   */
  stop(beforeKill: () => Promise<void> = async () => undefined): Promise<void> {
    this.#stopping ??= this.#stop(beforeKill);
    return this.#stopping;
  }

  /**
   * The second signal, and the supervisor's exit: SIGKILL the group now, also when its leader has
   * already exited but left processes (e.g. a grandchild that ignores SIGTERM) behind.
   */
  kill(): void {
    (this.#child ?? this.#lastChild)?.signalGroup('SIGKILL');
  }

  async #stop(beforeKill: () => Promise<void>): Promise<void> {
    this.#abort.abort(new Error('stop requested'));
    this.#apply({ type: 'stop_requested', at: Date.now() });
    const child = this.#child;
    if (child) await this.#terminate(child, this.#options.stopTimeoutMs, 'stop', beforeKill);
  }

  async #terminate(child: GatewayProcess, graceMs: number, reason: string, beforeKill?: () => Promise<void>): Promise<ExitInfo> {
    const { logger } = this.#options;
    this.#sentSignal = 'SIGTERM';
    child.signalGroup('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, graceMs));
    });
    const first = await Promise.race([child.exited, graceOver]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    await beforeKill?.();
    logger.warn({ event: 'gateway.killed', gatewayPid: child.pid, reason, graceMs }, `the gateway did not exit within ${graceMs} ms of SIGTERM: SIGKILL to its process group`);
    this.#sentSignal = 'SIGKILL';
    child.signalGroup('SIGKILL');
    return child.exited;
  }

  #apply(event: LifecycleEvent): void {
    this.#lifecycle = transition(this.#lifecycle, event);
  }

  async #attempt(): Promise<AttemptResult> {
    const { logger, gatewayPort, command, startupTimeoutMs } = this.#options;
    if (this.#stopping !== null) return 'stopped';
    if (!(await isLoopbackPortFree(gatewayPort))) {
      logger.error({ event: 'gateway.port_in_use', gatewayPort }, `another process already listens on 127.0.0.1:${gatewayPort}; the gateway cannot start there. Stop it or set SUPERVISOR_GATEWAY_PORT`);
      throw new AttemptFailed('port-in-use', `port ${gatewayPort} in use`);
    }
    if (this.#stopping !== null) return 'stopped';

    this.#sentSignal = null;
    const readinessAbort = new AbortController();
    let kick = (): void => undefined;
    const child = spawnGateway(command, this.#options.env, logger, {
      onReadyLine: () => kick(),
      onSignalLine: (signal) => this.#onGatewaySignal(signal),
      ...(this.#options.onGatewayLine ? { onLine: this.#options.onGatewayLine } : {}),
    });
    this.#child = child;
    this.#lastChild = child;
    const spawnedAt = Date.now();
    this.#apply({ type: 'spawned', pid: child.pid, at: spawnedAt });
    logger.info({ event: 'gateway.spawned', gatewayPid: child.pid, command: [command.file, ...command.args], spawns: this.#lifecycle.spawns }, `gateway spawned (pid ${child.pid})`);

    let foreignLogged = false;
    const probe = waitUntilReady(gatewayPort, spawnedAt, readinessAbort.signal, () => {
      if (foreignLogged) return;
      foreignLogged = true;
      logger.warn({ event: 'gateway.readiness_foreign', gatewayPort }, `something else answers /startupz on 127.0.0.1:${gatewayPort} (its uptime predates our gateway): not taken as ready`);
    });
    kick = probe.kick;
    let startupTimer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      startupTimer = setTimeout(() => resolve('timeout'), startupTimeoutMs);
    });

    try {
      const first = await Promise.race([child.exited, probe.ready.then(() => 'ready' as const), timedOut]);
      if (first === 'ready' && this.#lifecycle.state === 'starting') {
        this.#apply({ type: 'ready', at: Date.now() });
        const sinceSpawnMs = Date.now() - spawnedAt;
        const details = await this.#readyDetails();
        logger.info({ event: 'gateway.ready', gatewayPid: child.pid, sinceSpawnMs, ...details.fields }, `gateway ready after ${sinceSpawnMs} ms${details.message}`);
      } else if (first === 'timeout' && this.#stopping === null) {
        logger.error(
          { event: 'gateway.startup_timeout', gatewayPid: child.pid, timeoutMs: startupTimeoutMs, stderrTail: child.stderrTail() },
          `the gateway was not ready within ${startupTimeoutMs} ms (SUPERVISOR_STARTUP_TIMEOUT_MS): stopping it`,
        );
        const exit = await this.#terminate(child, this.#options.stopTimeoutMs, 'startup timeout');
        this.#recordExit(exit, 'failure', child);
        throw new AttemptFailed('startup-timeout', 'startup timeout');
      }
    } finally {
      clearTimeout(startupTimer);
      readinessAbort.abort();
    }

    const exit = await child.exited;
    const readyAt = this.#lifecycle.readyAt;
    const outcome = classifyExit(exit, {
      stopRequested: this.#stopping !== null,
      readyForMs: readyAt === null ? null : exit.at - readyAt,
      stableAfterMs: this.#options.restart.stableAfterMs,
    });
    this.#recordExit(exit, outcome, child);
    switch (outcome) {
      case 'requested-stop':
        return 'stopped';
      case 'stable-failure':
        return 'stable-failure';
      case 'refused':
        logger.error(
          { event: 'gateway.refused', code: exit.code, stderrTail: child.stderrTail() },
          'the gateway refused to start (exit 78: bad config or auth, or another gateway owns the state dir); retrying cannot help, exiting 78',
        );
        throw new AbortError(new GatewayRefused('gateway exit 78'));
      default:
        throw new AttemptFailed(outcome, describeExit(exit));
    }
  }

  async #readyDetails(): Promise<{ fields: Record<string, unknown>; message: string }> {
    try {
      return (await this.#options.readyDetails?.()) ?? { fields: {}, message: '' };
    } catch {
      return { fields: {}, message: '' };
    }
  }

  #recordExit(exit: ExitInfo, outcome: ExitOutcome, child: GatewayProcess): void {
    this.#killLeftovers(child);
    const wasReady = this.#lifecycle.readyAt !== null;
    const spawnedAt = this.#lifecycle.spawnedAt ?? exit.at;
    this.#child = null;
    this.#apply({ type: 'exited', exit });
    const fields = { event: 'gateway.exited', gatewayPid: child.pid, code: exit.code, signal: exit.signal, outcome, wasReady, uptimeMs: exit.at - spawnedAt,
      // A SIGKILL nobody here sent is usually the kernel's OOM killer: the cgroup counters tell.
      ...(exit.signal === 'SIGKILL' && this.#sentSignal !== 'SIGKILL' ? { memory: readMemoryEvidence() } : {}),
    };
    if (outcome === 'requested-stop' || outcome === 'restart-request') {
      this.#options.logger.info(fields, `gateway exited (${describeExit(exit)}, ${outcome})`);
    } else {
      this.#options.logger.error({ ...fields, stderrTail: child.stderrTail() }, `gateway exited (${describeExit(exit)}, ${outcome})${wasReady ? '' : ' before it was ready'}`);
    }
  }

  /** Workers of the gateway's group that outlived it (one ignoring SIGTERM, say) must not linger. */
  #killLeftovers(child: GatewayProcess): void {
    const leftovers = groupMembers(child.pid);
    if (leftovers.length === 0) return;
    child.signalGroup('SIGKILL');
    this.#options.logger.warn({ event: 'gateway.group_leftovers', gatewayPid: child.pid, pids: leftovers }, `${leftovers.length} process(es) of the gateway's group outlived it: SIGKILL to the group`);
  }

  #onGatewaySignal(signal: string): void {
    if (signal === this.#sentSignal) return;
    this.#options.logger.warn(
      { event: 'gateway.foreign_signal', signal, gatewayPid: this.#child?.pid ?? null },
      `the gateway received ${signal} that the supervisor did not send: another process in the container (e.g. an openclaw CLI command) signalled it`,
    );
  }
}
