import type { RestartPolicy } from '../config/config.js';
import { EXIT } from '../exit-codes.js';
import { readMemoryEvidence, type MemoryEvidence } from '../host/evidence.js';
import { countOpenFds, readFdLimit } from '../host/fd-limit.js';
import { LOOPBACK_IPV4 } from '../host/loopback.js';
import { emit } from '../log/emit.js';
import type { GatewayReadyDetails } from '../log/events.js';
import type { Logger } from '../log/logger.js';
import { abortableSleep } from './abortable-sleep.js';
import type { GatewayCommand } from './gateway-command.js';
import { INITIAL_LIFECYCLE, transition, type ExitInfo, type ExitReason, type LastExit, type Lifecycle, type LifecycleEvent } from './lifecycle.js';
import type { LivenessSettings } from '../config/liveness-settings.js';
import { killEvidence, watchLiveness } from './liveness.js';
import { isLoopbackPortFree } from './port-check.js';
import { groupMembers } from './process-group.js';
import { NO_HISTORY, classifyExit, decide, outcomeAfterKill, describeExit, failuresInWindow, type AttemptOutcome, type ExitOutcome, type RestartHistory } from './restart-policy.js';
import { GatewaySpawnError, loadSpawner, spawnGateway, type GatewayProcess } from './spawn-gateway.js';
import { waitUntilReady } from './wait-until-ready.js';

/**
 * The runner's side effects: the clock, the waits, the spawn and what it reads of the host. The
 * defaults are the real ones; tests pass a fake clock and fake processes.
 */
export interface RunnerEffects {
  readonly now: () => number;
  /** Waits `ms`, or less when `signal` aborts first; never rejects. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1): the jitter of the restart delay. */
  readonly random: () => number;
  readonly loadSpawner: () => Promise<void>;
  readonly spawn: typeof spawnGateway;
  readonly isPortFree: (port: number) => Promise<boolean>;
  readonly waitUntilReady: typeof waitUntilReady;
  readonly groupMembers: (pgid: number) => number[];
  readonly readMemoryEvidence: () => MemoryEvidence | null;
}

export const REAL_RUNNER_EFFECTS: RunnerEffects = {
  now: () => Date.now(),
  sleep: abortableSleep,
  random: Math.random,
  loadSpawner,
  spawn: spawnGateway,
  isPortFree: isLoopbackPortFree,
  waitUntilReady,
  groupMembers: (pgid) => groupMembers(pgid),
  readMemoryEvidence: () => readMemoryEvidence(),
};

export interface GatewayRunnerOptions {
  readonly command: GatewayCommand;
  readonly env: Record<string, string>;
  readonly gatewayPort: number;
  readonly startupTimeoutMs: number;
  /** Grace between SIGTERM and SIGKILL when the runner itself stops a gateway (startup timeout). */
  readonly stopTimeoutMs: number;
  readonly restart: RestartPolicy;
  readonly logger: Logger;
  /** Every line the gateway prints (stdout and stderr), after it was logged. */
  readonly onGatewayLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Called once per ready gateway, before `gateway.ready` is logged: what that record adds (URLs, the token in effect). */
  readonly readyDetails?: () => Promise<{ fields: GatewayReadyDetails; message: string }>;
  /** Probing of the ready gateway (src/gateway/liveness.ts); null: off. */
  readonly liveness?: LivenessSettings | null;
  /**
   * The first step of run(), before any spawn (the front door listens already): the command to
   * start with and a trial to run first (src/releases/); `signal` ends it when a stop comes.
   */
  readonly prepare?: (signal: AbortSignal) => Promise<{ command: GatewayCommand; trial: GatewayTrial | null }>;
  /** The ready gateway exited 0 on its own (a restart it asked for), with its pid: its restart handoff can be consumed. */
  readonly onRestartRequest?: (gatewayPid: number) => void;
  /** Replaces some of the real side effects (tests). */
  readonly effects?: Partial<RunnerEffects>;
}

/**
 * A release on trial (src/releases/): its command runs at the next attempt instead of the current
 * one. Ready within the startup budget: `accept` runs and it becomes the command. Ended before it
 * was ready (a crash, a refusal, the startup timeout): `reject` runs (it puts the state back) and the
 * previous command is started again at once; that is a rollback, no failure of the previous one.
 */
export interface GatewayTrial {
  readonly command: GatewayCommand;
  /** What it is, for the records (an openclaw release). */
  readonly version: string;
  /** Before its spawn (the previous gateway has exited): false drops the trial, the previous command runs. */
  prepare(): Promise<boolean>;
  accept(): Promise<void>;
  reject(outcome: AttemptOutcome, stderrTail: readonly string[]): Promise<void>;
}

/** What the log says when a respawn follows at once, by its reason. */
const IMMEDIATE_RESPAWN = {
  'restart-request': 'gateway restart requested: respawning now',
  'stable-failure': 'the gateway crashed after a stable run: backoff reset, respawning now',
  'rolled-back': 'running the last good release again, now',
} as const;

/** How the runner ended, as the supervisor's exit code: stopped on request, crash loop, or refused. */
export type RunnerExitCode = typeof EXIT.ok | typeof EXIT.failed | typeof EXIT.configRefused;

/**
 * Runs the gateway: spawn, wait for readiness, and after every exit ask the pure restart policy
 * (`decide`) whether to respawn, after which delay, or give up. The supervisor's stop plan owns the
 * stop: it calls `requestStop()` (no more restarts), then `terminate()` with the signals of its
 * timeline, and waits for `exited()`.
 */
export class GatewayRunner {
  #lifecycle: Lifecycle = INITIAL_LIFECYCLE;
  #child: GatewayProcess | null = null;
  /** The latest gateway, kept after its exit: processes it left in its group must still be killable. */
  #lastChild: GatewayProcess | null = null;
  #history: RestartHistory = NO_HISTORY;
  #sentSignal: NodeJS.Signals | null = null;
  /** False from the first failed liveness probe of the running gateway until one succeeds again. */
  #responsive = true;
  /** The running gateway was killed for not answering its liveness probes. */
  #killedUnresponsive = false;
  /** The running gateway is being stopped to be replaced (restartGateway): its exit is a restart, not a failure. */
  #replacing = false;
  #command: GatewayCommand;
  #trial: GatewayTrial | null = null;
  readonly #stop = new AbortController();
  readonly #options: GatewayRunnerOptions;
  readonly #fx: RunnerEffects;

  constructor(options: GatewayRunnerOptions) {
    this.#options = options;
    this.#fx = { ...REAL_RUNNER_EFFECTS, ...options.effects };
    this.#command = options.command;
  }

  /** The command of the gateway that runs, or runs next (a release on trial is not it until accepted). */
  get command(): GatewayCommand {
    return this.#command;
  }

  /** A release on trial has not yet been accepted or rejected. */
  get trialPending(): boolean {
    return this.#trial !== null;
  }

  /** Runs `trial`'s command at the next attempt (see GatewayTrial); with a gateway running, call restartGateway() too. */
  beginTrial(trial: GatewayTrial): void {
    this.#trial = trial;
  }

  /**
   * Stops the running gateway (SIGTERM, SIGKILL after the stop grace) so that the next attempt
   * starts at once: a restart, counted as none of the crash loop's failures. Resolves once it has
   * exited; at once when none runs.
   */
  async restartGateway(): Promise<void> {
    const child = this.#child;
    if (child === null || this.#stopRequested) return;
    this.#replacing = true;
    await this.#terminateWithin(child, this.#options.stopTimeoutMs, 'replaced by another release');
  }

  get lifecycle(): Lifecycle {
    return this.#lifecycle;
  }

  /** False while the ready gateway fails its liveness probes: /readyz says 503 then, whatever the lifecycle says. */
  get responsive(): boolean {
    return this.#responsive;
  }

  /** The running gateway's pid, or null between attempts. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Failures that count towards the crash-loop limit right now. */
  recentFailures(now = this.#fx.now()): number {
    return failuresInWindow(this.#history.failures, now, this.#options.restart).length;
  }

  async run(): Promise<RunnerExitCode> {
    const { logger, restart, prepare } = this.#options;
    if (prepare !== undefined) {
      const first = await prepare(this.#stop.signal);
      this.#command = first.command;
      this.#trial = first.trial;
    }
    for (;;) {
      const outcome = await this.#attempt();
      const { decision, history } = decide(this.#history, outcome, this.#fx.now(), restart, this.#fx.random);
      this.#history = history;
      switch (decision.action) {
        case 'stop':
          this.#apply({ type: 'stop_requested', at: this.#fx.now() });
          return EXIT.ok;
        case 'give-up':
          this.#apply({ type: 'gave_up', at: this.#fx.now() });
          if (decision.exitCode === EXIT.failed) {
            emit(
              logger,
              'gateway.crash_loop',
              { failures: decision.failures, limitBurst: restart.limitBurst, limitIntervalMs: restart.limitIntervalMs, lastExit: exitInfoOf(this.#lifecycle.lastExit) },
              `the gateway failed ${decision.failures} times within ${restart.limitIntervalMs} ms: giving up so that the platform's restart policy takes over`,
            );
          }
          return decision.exitCode;
        case 'respawn': {
          const { reason, delayMs, attempt, bounds } = decision;
          if (attempt === null) {
            emit(
              logger,
              'gateway.restart_scheduled',
              { reason, delayMs },
              IMMEDIATE_RESPAWN[reason as keyof typeof IMMEDIATE_RESPAWN] ?? 'respawning now',
              reason === 'stable-failure' ? 'warn' : 'info',
            );
          } else {
            emit(
              logger,
              'gateway.restart_scheduled',
              { reason, attempt, delayMs, delayMinMs: bounds?.minMs, delayMaxMs: bounds?.maxMs, recentFailures: history.failures.length, limitBurst: restart.limitBurst },
              `restarting the gateway in ${delayMs} ms (failure ${history.failures.length} of ${restart.limitBurst} allowed within ${restart.limitIntervalMs} ms)`,
              'warn',
            );
          }
          if (delayMs > 0) await this.#fx.sleep(delayMs, this.#stop.signal);
        }
      }
    }
  }

  /**
   * No more restarts: the current attempt ends with the gateway's exit, a pending delay at once.
   * The gateway itself keeps serving until the stop plan sends its SIGTERM. Idempotent.
   */
  requestStop(): void {
    this.#stop.abort();
  }

  /** Signals the gateway's process group (the latest one, whose leftovers may outlive it); false when none was there. */
  terminate(signal: 'SIGTERM' | 'SIGKILL'): boolean {
    // The gateway is stopping from its SIGTERM on (a SIGKILL alone, on an exit path, changes nothing of that).
    if (signal === 'SIGTERM' && this.#stopRequested) this.#apply({ type: 'stop_requested', at: this.#fx.now() });
    const target = this.#child ?? this.#lastChild;
    if (target === null) return false;
    this.#sentSignal = signal;
    return target.signalGroup(signal);
  }

  /** Resolves once no gateway runs (at once between attempts). */
  exited(): Promise<void> {
    return this.#child?.exited.then(() => undefined) ?? Promise.resolve();
  }

  /** The last resort on any exit of ours: SIGKILL the group, also when its leader has gone but left processes behind. */
  kill(): void {
    this.terminate('SIGKILL');
  }

  /** SIGTERM, then SIGKILL after `graceMs`: how the runner itself ends a gateway that never got ready. */
  async #terminateWithin(child: GatewayProcess, graceMs: number, reason: string): Promise<ExitInfo> {
    this.#sentSignal = 'SIGTERM';
    child.signalGroup('SIGTERM');
    const first = await Promise.race([child.exited, this.#fx.sleep(graceMs).then(() => 'timeout' as const)]);
    if (first !== 'timeout') return first;
    emit(this.#options.logger, 'gateway.killed', { gatewayPid: child.pid, reason, graceMs }, `the gateway did not exit within ${graceMs} ms of SIGTERM: SIGKILL to its process group`);
    this.#sentSignal = 'SIGKILL';
    child.signalGroup('SIGKILL');
    return child.exited;
  }

  #apply(event: LifecycleEvent): void {
    this.#lifecycle = transition(this.#lifecycle, event);
  }

  get #stopRequested(): boolean {
    return this.#stop.signal.aborted;
  }

  async #attempt(): Promise<AttemptOutcome> {
    const { logger, gatewayPort, startupTimeoutMs } = this.#options;
    if (this.#stopRequested) return 'requested-stop';
    if (this.#trial !== null && !(await this.#trial.prepare())) this.#trial = null;
    const trial = this.#trial;
    const command = trial?.command ?? this.#command;
    await this.#fx.loadSpawner();
    if (!(await this.#fx.isPortFree(gatewayPort))) {
      emit(logger, 'gateway.port_in_use', { gatewayPort }, `another process already listens on ${LOOPBACK_IPV4}:${gatewayPort}; the gateway cannot start there. Stop it or set SUPERVISOR_GATEWAY_PORT`);
      return this.#stopRequested ? 'requested-stop' : 'port-in-use';
    }
    if (this.#stopRequested) return 'requested-stop';

    this.#sentSignal = null;
    this.#responsive = true;
    this.#killedUnresponsive = false;
    this.#replacing = false;
    const readinessAbort = new AbortController();
    let kick = (): void => undefined;
    let child: GatewayProcess;
    try {
      child = this.#fx.spawn(command, this.#options.env, logger, {
        onReadyLine: () => kick(),
        onSignalLine: (signal) => this.#onGatewaySignal(signal),
        ...(this.#options.onGatewayLine ? { onLine: this.#options.onGatewayLine } : {}),
      });
    } catch (error) {
      // Not the gateway's fault and not ours to die of: the restart policy retries it like a crash.
      const cause = await spawnFailureCause(error);
      emit(logger, 'gateway.spawn_failed', { ...cause, command: [command.file, ...command.args] }, `the gateway could not be started (${cause.error}): counted as a failed attempt`);
      return this.#endTrial(trial, this.#stopRequested ? 'requested-stop' : 'spawn-failed', []);
    }
    this.#child = child;
    this.#lastChild = child;
    const spawnedAt = this.#fx.now();
    this.#apply({ type: 'spawned', at: spawnedAt });
    emit(logger, 'gateway.spawned', { gatewayPid: child.pid, command: [command.file, ...command.args], spawns: this.#lifecycle.spawns }, `gateway spawned (pid ${child.pid})`);

    let foreignLogged = false;
    const probe = this.#fx.waitUntilReady(gatewayPort, spawnedAt, readinessAbort.signal, () => {
      if (foreignLogged) return;
      foreignLogged = true;
      emit(logger, 'gateway.readiness_foreign', { gatewayPort }, `something else answers /startupz on ${LOOPBACK_IPV4}:${gatewayPort} (its uptime predates our gateway): not taken as ready`);
    });
    kick = probe.kick;
    const startupOver = new AbortController();
    try {
      const first = await Promise.race([child.exited, probe.ready.then(() => 'ready' as const), this.#fx.sleep(startupTimeoutMs, startupOver.signal).then(() => 'timeout' as const)]);
      if (first === 'ready' && this.#lifecycle.state === 'starting') {
        this.#apply({ type: 'ready', at: this.#fx.now() });
        if (trial !== null) {
          this.#trial = null;
          this.#command = trial.command;
          await trial.accept();
        }
        const sinceSpawnMs = this.#fx.now() - spawnedAt;
        const details = await this.#readyDetails();
        emit(logger, 'gateway.ready', { gatewayPid: child.pid, sinceSpawnMs, ...details.fields }, `gateway ready after ${sinceSpawnMs} ms${details.message}`);
        this.#watch(child);
      } else if (first === 'timeout' && !this.#stopRequested) {
        emit(
          logger,
          'gateway.startup_timeout',
          { gatewayPid: child.pid, timeoutMs: startupTimeoutMs, stderrTail: child.stderrTail() },
          `the gateway was not ready within ${startupTimeoutMs} ms (SUPERVISOR_STARTUP_TIMEOUT_MS): stopping it`,
        );
        const exit = await this.#terminateWithin(child, this.#options.stopTimeoutMs, 'startup timeout');
        this.#recordExit(exit, 'failure', child, 'startup-timeout');
        return this.#endTrial(trial, this.#stopRequested ? 'requested-stop' : 'startup-timeout', child.stderrTail());
      }
    } finally {
      startupOver.abort();
      readinessAbort.abort();
    }

    const exit = await child.exited;
    const readyAt = this.#lifecycle.readyAt;
    const classified = classifyExit(exit, {
      stopRequested: this.#stopRequested,
      readyForMs: readyAt === null ? null : exit.at - readyAt,
      stableAfterMs: this.#options.restart.stableAfterMs,
    });
    const outcome = this.#replacing && classified !== 'requested-stop' ? 'restart-request' : outcomeAfterKill(classified, this.#killedUnresponsive);
    this.#responsive = true;
    this.#recordExit(exit, outcome, child);
    if (this.#trial === trial && trial !== null) return this.#endTrial(trial, outcome, child.stderrTail());
    if (outcome === 'restart-request' && !this.#replacing) this.#options.onRestartRequest?.(child.pid);
    if (outcome === 'refused') {
      emit(
        logger,
        'gateway.refused',
        { code: exit.code, stderrTail: child.stderrTail() },
        `the gateway refused to start (exit ${EXIT.configRefused}: bad config or auth, or another gateway owns the state dir); retrying cannot help, exiting ${EXIT.configRefused}`,
      );
    }
    return outcome;
  }

  /**
   * Liveness of the ready gateway until it exits or a stop begins (the stop's SIGTERM makes it stop
   * answering, which is no freeze). A kill is one SIGKILL to the group: a stopped or wedged process
   * cannot act on SIGTERM. Its exit then ends the attempt as usual, read as `unresponsive`.
   */
  #watch(child: GatewayProcess): void {
    const settings = this.#options.liveness;
    if (settings === null || settings === undefined) return;
    const { logger, gatewayPort } = this.#options;
    const over = new AbortController();
    void child.exited.then(() => over.abort());
    const signal = AbortSignal.any([over.signal, this.#stop.signal]);
    void watchLiveness(gatewayPort, settings, signal, {
      onAction: (action, state) => {
        const evidence = killEvidence(state, this.#fx.now(), settings);
        switch (action) {
          case 'failing':
            this.#responsive = false;
            emit(logger, 'gateway.liveness_failing', { gatewayPid: child.pid, ...evidence }, `the gateway did not answer GET /healthz (${state.lastError}): /readyz answers 503 until it does`);
            return;
          case 'recovered':
            this.#responsive = true;
            emit(logger, 'gateway.liveness_recovered', { gatewayPid: child.pid }, 'the gateway answers GET /healthz again: /readyz follows its state again');
            return;
          case 'kill':
            this.#killedUnresponsive = true;
            this.#sentSignal = 'SIGKILL';
            child.signalGroup('SIGKILL');
            emit(
              logger,
              'gateway.unresponsive',
              { gatewayPid: child.pid, ...evidence },
              `the gateway did not answer GET /healthz ${state.failures} times in a row (${evidence['unresponsiveForMs']} ms, last: ${state.lastError}): SIGKILL to its process group, restarting it`,
            );
        }
      },
    });
  }

  /**
   * The end of an attempt that ran a release on trial without it getting ready: the trial is
   * rejected (the state put back) and the previous command runs next, at once. A requested stop
   * stays one: the next start decides again.
   */
  async #endTrial(trial: GatewayTrial | null, outcome: AttemptOutcome, stderrTail: readonly string[]): Promise<AttemptOutcome> {
    if (trial === null || this.#trial !== trial) return outcome;
    if (outcome === 'requested-stop') {
      this.#trial = null;
      return outcome;
    }
    // Pending until the state is back: no update may start meanwhile (trialPending).
    await trial.reject(outcome, stderrTail);
    this.#trial = null;
    return 'rolled-back';
  }

  async #readyDetails(): Promise<{ fields: GatewayReadyDetails; message: string }> {
    try {
      return (await this.#options.readyDetails?.()) ?? { fields: {}, message: '' };
    } catch {
      return { fields: {}, message: '' };
    }
  }

  /** `reason` is what the lifecycle keeps (the health answers and alerts show it); the record says `outcome`. */
  #recordExit(exit: ExitInfo, outcome: ExitOutcome, child: GatewayProcess, reason: ExitReason = outcome): void {
    this.#killLeftovers(child);
    const wasReady = this.#lifecycle.readyAt !== null;
    const spawnedAt = this.#lifecycle.spawnedAt ?? exit.at;
    this.#child = null;
    this.#apply({ type: 'exited', exit, reason });
    const fields = { gatewayPid: child.pid, code: exit.code, signal: exit.signal, outcome, wasReady, uptimeMs: exit.at - spawnedAt,
      // A SIGKILL nobody here sent is usually the kernel's OOM killer: the cgroup counters tell.
      ...(exit.signal === 'SIGKILL' && this.#sentSignal !== 'SIGKILL' ? { memory: this.#fx.readMemoryEvidence() } : {}),
    };
    if (outcome === 'requested-stop' || outcome === 'restart-request') {
      emit(this.#options.logger, 'gateway.exited', fields, `gateway exited (${describeExit(exit)}, ${outcome})`, 'info');
    } else {
      emit(this.#options.logger, 'gateway.exited', { ...fields, stderrTail: child.stderrTail() }, `gateway exited (${describeExit(exit)}, ${outcome})${wasReady ? '' : ' before it was ready'}`, 'error');
    }
  }

  /** Workers of the gateway's group that outlived it (one ignoring SIGTERM, say) must not linger. */
  #killLeftovers(child: GatewayProcess): void {
    const leftovers = this.#fx.groupMembers(child.pid);
    if (leftovers.length === 0) return;
    child.signalGroup('SIGKILL');
    emit(this.#options.logger, 'gateway.group_leftovers', { gatewayPid: child.pid, pids: leftovers }, `${leftovers.length} process(es) of the gateway's group outlived it: SIGKILL to the group`);
  }

  #onGatewaySignal(signal: string): void {
    if (signal === this.#sentSignal) return;
    emit(
      this.#options.logger,
      'gateway.foreign_signal',
      { signal, gatewayPid: this.#child?.pid ?? null },
      `the gateway received ${signal} that the supervisor did not send: another process in the container (e.g. an openclaw CLI command) signalled it`,
    );
  }
}

/** The exit as the `gateway.crash_loop` record has always shown it: code, signal, time. */
function exitInfoOf(exit: LastExit | null): ExitInfo | null {
  return exit === null ? null : { code: exit.code, signal: exit.signal, at: exit.at };
}

/** What a failed spawn says about its cause: Node's code (EMFILE…) and the descriptors open against the limit. */
async function spawnFailureCause(error: unknown): Promise<{ error: string; code: string | null; openFds: number | null; fdLimit: number | null }> {
  const code = error instanceof GatewaySpawnError ? await error.errno : ((error as NodeJS.ErrnoException | null)?.code ?? null);
  return { error: code ?? (error instanceof Error ? error.message : String(error)), code, openFds: countOpenFds(), fdLimit: readFdLimit() };
}
