import { onExit } from 'signal-exit';
import type { Config } from '../config/config.js';
import { StartFailure } from '../errors.js';
import type { FrontDoor } from '../front-door/front-door.js';
import type { GatewayRunner } from '../gateway/gateway-runner.js';
import { restartsOf } from '../gateway/lifecycle.js';
import { readMemoryEvidence, readRailwayEvidence } from '../host/evidence.js';
import { ALL_INTERFACES, ALL_IPV4_INTERFACES } from '../host/loopback.js';
import { emit } from '../log/emit.js';
import type { Logger } from '../log/logger.js';
import { diagnoseSignal, type SignalEvidence } from './diagnose-signal.js';
import { INITIAL_STATE, isFinal, supervisorTransition, type Effect, type StopSignal, type SupervisorEvent, type SupervisorState } from './state.js';
import { runStop, systemClock, type Clock, type DrainingFrontDoor, type StoppableGateway } from './stop.js';
import { planStop } from './stop-plan.js';

const STOP_SIGNALS: readonly StopSignal[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** What the supervisor needs of the gateway runner (src/gateway/gateway-runner.ts). */
export type SupervisedRunner = Pick<GatewayRunner, 'run' | 'kill' | 'lifecycle' | 'recentFailures'> & StoppableGateway;
/** What the supervisor needs of the front door (src/front-door/front-door.ts). */
export type SupervisedFrontDoor = Pick<FrontDoor, 'listen'> & DrainingFrontDoor;

/** The process-wide side effects of the supervisor; the defaults are the real ones (tests inject fakes). */
export interface SupervisorEffects {
  /** The clock of the evidence and of the stop's timeline. */
  readonly clock: Clock;
  /** Runs `last` whatever ends this process (signal-exit). */
  readonly onExit: (last: () => void) => void;
  readonly onSignal: (signal: StopSignal, handler: () => void) => void;
  readonly readMemoryEvidence: typeof readMemoryEvidence;
  /** stdin is a terminal: a SIGINT then is a person's Ctrl-C. */
  readonly stdinIsTTY: () => boolean;
}

export const REAL_SUPERVISOR_EFFECTS: SupervisorEffects = {
  clock: systemClock,
  onExit: (last) => void onExit(last, { alwaysLast: true }),
  onSignal: (signal, handler) => void process.on(signal, handler),
  readMemoryEvidence: () => readMemoryEvidence(),
  stdinIsTTY: () => process.stdin.isTTY === true,
};

export interface SupervisorParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly runner: SupervisedRunner;
  readonly frontDoor: SupervisedFrontDoor;
  readonly env: NodeJS.ProcessEnv;
  /** When the process started, for uptimes. */
  readonly startedAt: number;
  /** Replaces some of the real side effects (tests). */
  readonly effects?: Partial<SupervisorEffects>;
}

/**
 * The supervisor's lifecycle (src/supervisor/state.ts) and the I/O of its transitions: it owns the
 * front door's listening, the gateway runner, the signals and the one stop. `run()` resolves with
 * the exit code, decided once.
 */
export class Supervisor {
  #state: SupervisorState = INITIAL_STATE;
  #resolveExit: (code: number) => void = () => undefined;
  readonly #parts: SupervisorParts;
  readonly #fx: SupervisorEffects;

  constructor(parts: SupervisorParts) {
    this.#parts = parts;
    this.#fx = { ...REAL_SUPERVISOR_EFFECTS, ...parts.effects };
  }

  /** Listens, starts the gateway and runs until the exit code is decided. */
  async run(): Promise<number> {
    const { frontDoor, runner, logger, config, startedAt } = this.#parts;
    const bound = await frontDoor.listen().catch((error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'error';
      throw new StartFailure(`cannot listen on ${config.host}:${config.publicPort} (${code}): ${code === 'EADDRINUSE' ? 'another process uses PORT; pick another PORT' : 'check HOST and PORT'}`);
    });
    emit(logger, 'supervisor.listening', { address: bound.address, port: bound.port, sinceStartMs: this.#fx.clock.now() - startedAt }, `front door listening on [${bound.address}]:${bound.port}`);
    if (config.host === ALL_INTERFACES && bound.address === ALL_IPV4_INTERFACES) emit(logger, 'supervisor.no_ipv6', {}, 'this host has no IPv6: listening on IPv4 only (0.0.0.0)');
    const exit = new Promise<number>((resolve) => (this.#resolveExit = resolve));
    this.#dispatch({ type: 'listening' });

    // Last chance: whatever ends this process, the gateway's group must not outlive it.
    this.#fx.onExit(() => runner.kill());
    for (const signal of STOP_SIGNALS) this.#fx.onSignal(signal, () => this.stop(signal));

    runner.run().then(
      (code) => this.#dispatch({ type: 'gateway_ended', code }),
      (error: unknown) => {
        emit(logger, 'supervisor.internal_error', { error: error instanceof Error ? error.message : String(error) }, 'internal error in the gateway runner: stopping (please report it)');
        runner.kill();
        this.#dispatch({ type: 'internal_error' });
      },
    );
    return exit;
  }

  /** A stop signal: the first starts the graceful stop, a second one stops now. */
  stop(signal: StopSignal): void {
    this.#dispatch({ type: 'signal', signal });
  }

  #dispatch(event: SupervisorEvent): void {
    const before = this.#state;
    const { state, effect } = supervisorTransition(before, event);
    this.#state = state;
    this.#perform(effect, before, event);
  }

  #perform(effect: Effect, before: SupervisorState, event: SupervisorEvent): void {
    const { frontDoor, runner, logger, config } = this.#parts;
    switch (effect) {
      case 'none':
        return;
      case 'start_stop': {
        const signal = (event as { signal: StopSignal }).signal;
        const evidence = this.#evidence(signal);
        const diagnosis = diagnoseSignal(evidence);
        emit(logger, 'supervisor.signal', { ...diagnosis, evidence }, `${signal} received; probable cause: ${diagnosis.probableCause}: ${diagnosis.explanation}`);
        emit(logger, 'supervisor.stopping', { signal, drainTimeoutMs: config.drainTimeoutMs }, 'stopping gracefully');
        const plan = planStop({ drainMs: config.drainTimeoutMs, stopMs: config.stopTimeoutMs, shutdownDelayMs: config.shutdownDelayMs });
        void runStop(plan, frontDoor, runner, logger, this.#fx.clock).then(() => this.#dispatch({ type: 'drained' }));
        return;
      }
      case 'stop_now': {
        const signal = (event as { signal: StopSignal }).signal;
        if (before.phase === 'draining') emit(logger, 'supervisor.signal', { signal, repeated: true }, `second ${signal}: stopping now`);
        runner.kill();
        void frontDoor.cutRemaining().finally(() => this.#exit());
        return;
      }
      case 'cut_and_exit':
        // The gateway is gone for good (crash loop, refusal): let the platform's policy act.
        frontDoor.startDrain();
        void frontDoor.cutRemaining().finally(() => this.#exit());
        return;
      case 'exit':
        this.#exit();
    }
  }

  #exit(): void {
    const state = this.#state;
    if (!isFinal(state)) return;
    emit(this.#parts.logger, 'supervisor.exited', { code: state.exitCode, reason: state.reason, uptimeMs: this.#fx.clock.now() - this.#parts.startedAt }, `exiting with code ${state.exitCode} (${state.reason})`);
    this.#resolveExit(state.exitCode);
  }

  #evidence(signal: StopSignal): SignalEvidence {
    const { runner, env, config, startedAt } = this.#parts;
    const lifecycle = runner.lifecycle;
    const now = this.#fx.clock.now();
    return {
      signal,
      uptimeMs: now - startedAt,
      gatewayState: lifecycle.state,
      everReady: lifecycle.lastReadyAt !== null,
      msSinceLastReady: lifecycle.state === 'ready' ? 0 : lifecycle.lastReadyAt === null ? null : now - lifecycle.lastReadyAt,
      restarts: restartsOf(lifecycle),
      recentFailures: runner.recentFailures(now),
      lastExit: lifecycle.lastExit && { code: lifecycle.lastExit.code, signal: lifecycle.lastExit.signal },
      fromTerminal: signal === 'SIGINT' && this.#fx.stdinIsTTY(),
      railway: readRailwayEvidence(env, config.railwayDrainingSeconds),
      memory: this.#fx.readMemoryEvidence(),
    };
  }
}
