import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RestartPolicy } from '../../../src/config/config.js';
import { EXIT } from '../../../src/exit-codes.js';
import type { GatewayCommand } from '../../../src/gateway/gateway-command.js';
import { GatewayRunner, type GatewayRunnerOptions, type RunnerEffects } from '../../../src/gateway/gateway-runner.js';
import type { ExitInfo } from '../../../src/gateway/lifecycle.js';
import type { GatewayProcess } from '../../../src/gateway/spawn-gateway.js';
import type { ReadinessProbe } from '../../../src/gateway/wait-until-ready.js';
import { recordingLogger } from '../../helpers/records.js';

/**
 * The runner in-process: fake gateway processes through the injected spawn, a fake readiness
 * probe, and fake timers on a clock that starts far from 0 (T0), so an instant computed as
 * `now + startedAt` instead of `now - startedAt` shows.
 */
const T0 = 1_700_000_000_000;
const COMMAND: GatewayCommand = { file: '/opt/openclaw/bin/openclaw', args: ['gateway', '--port', '18789'] };
const POLICY: RestartPolicy = { initialDelayMs: 1_000, maxDelayMs: 30_000, factor: 2, stableAfterMs: 60_000, limitBurst: 3, limitIntervalMs: 300_000 };

/** A gateway process: an EventEmitter with a pid that exits when the test says (or on a signal, if told to). */
class FakeChild extends EventEmitter implements GatewayProcess {
  readonly exited: Promise<ExitInfo>;
  readonly signals: NodeJS.Signals[] = [];
  alive = true;
  /** What a SIGTERM does: exit 0 (null: ignore it). SIGKILL always ends it. */
  onSigterm: 'exit' | null = 'exit';
  #resolve: (exit: ExitInfo) => void = () => undefined;
  #markReady: () => void = () => undefined;
  readonly readiness: Promise<void>;

  constructor(readonly pid: number) {
    super();
    this.exited = new Promise((resolve) => (this.#resolve = resolve));
    this.readiness = new Promise((resolve) => (this.#markReady = resolve));
  }

  ready(): void {
    this.#markReady();
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (!this.alive) return;
    this.alive = false;
    const info = { code, signal, at: Date.now() };
    this.emit('exit', code, signal);
    this.#resolve(info);
  }

  signalGroup(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    if (!this.alive) return false;
    if (signal === 'SIGKILL') queueMicrotask(() => this.exit(null, 'SIGKILL'));
    else if (this.onSigterm === 'exit') queueMicrotask(() => this.exit(null, signal));
    return true;
  }

  stderrTail(): string[] {
    return ['last words'];
  }
}

/** The test's side of the runner: its spawns, its records, and the effects it injects. */
function harness(options: Partial<GatewayRunnerOptions> = {}, effects: Partial<RunnerEffects> = {}) {
  const children: FakeChild[] = [];
  const spawnedAt: number[] = [];
  const commands: GatewayCommand[] = [];
  /** Make the next spawn throw this (once). */
  const spawnErrors: Error[] = [];
  const { logger, records } = recordingLogger();
  const events = (name: string) => records.filter((record) => record['event'] === name);
  const spawned = vi.fn<(child: FakeChild) => void>();
  const fx: Partial<RunnerEffects> = {
    now: () => Date.now(),
    // The real one rests on node:timers/promises, which fake timers do not reach.
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      }),
    random: () => 0,
    loadSpawner: async () => undefined,
    isPortFree: async () => true,
    groupMembers: () => [],
    readMemoryEvidence: () => ({ currentBytes: 1, maxBytes: 2, oom: 0, oomKill: 1 }),
    spawn: (command) => {
      commands.push(command);
      const error = spawnErrors.shift();
      if (error !== undefined) throw error;
      const child = new FakeChild(1000 + children.length);
      children.push(child);
      spawnedAt.push(Date.now() - T0);
      spawned(child);
      return child;
    },
    waitUntilReady: (_port, _spawnedAt, signal): ReadinessProbe => {
      const child = children[children.length - 1]!;
      const ready = new Promise<void>((resolve, reject) => {
        void child.readiness.then(resolve);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      void ready.catch(() => undefined);
      return { ready, kick: () => undefined };
    },
    ...effects,
  };
  const runner = new GatewayRunner({
    command: COMMAND,
    env: {},
    gatewayPort: 18789,
    startupTimeoutMs: 10_000,
    stopTimeoutMs: 2_000,
    restart: POLICY,
    logger,
    liveness: null,
    ...options,
    effects: fx,
  });
  let code: number | null = null;
  const run = runner.run().then((c) => (code = c));
  return { runner, children, commands, spawnedAt, spawnErrors, records, events, spawned, run, code: () => code };
}

/** Lets the runner's promise chains settle without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('GatewayRunner, in-process with fake processes and a fake clock', () => {
  beforeEach(() => vi.useFakeTimers({ now: T0 }));
  afterEach(() => vi.useRealTimers());

  it('spawn → ready → exit → backoff → restart', async () => {
    const h = harness();
    await settle();
    expect(h.children).toHaveLength(1);
    expect(h.commands).toEqual([COMMAND]);
    expect(h.runner.lifecycle).toMatchObject({ state: 'starting', spawnedAt: T0, spawns: 1 });
    expect(h.runner.pid).toBe(1000);

    await vi.advanceTimersByTimeAsync(1_500);
    h.children[0]!.ready();
    await settle();
    expect(h.runner.lifecycle).toMatchObject({ state: 'ready', readyAt: T0 + 1_500 });
    expect(h.events('gateway.ready')).toEqual([expect.objectContaining({ gatewayPid: 1000, sinceSpawnMs: 1_500 })]);

    await vi.advanceTimersByTimeAsync(2_000);
    h.children[0]!.exit(1);
    await settle();
    expect(h.runner.lifecycle.state).toBe('backoff');
    expect(h.runner.pid).toBeNull();
    expect(h.events('gateway.exited')).toEqual([expect.objectContaining({ code: 1, outcome: 'failure', wasReady: true, uptimeMs: 3_500 })]);
    // random() = 0: the delay is the bound's minimum, initialDelayMs.
    expect(h.events('gateway.restart_scheduled')).toEqual([expect.objectContaining({ reason: 'failure', attempt: 1, delayMs: 1_000 })]);
    expect(h.runner.recentFailures()).toBe(1);

    await vi.advanceTimersByTimeAsync(999);
    expect(h.children).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.children).toHaveLength(2);
    expect(h.spawnedAt).toEqual([0, 4_500]);
    expect(h.runner.lifecycle).toMatchObject({ state: 'starting', spawnedAt: T0 + 4_500, spawns: 2 });

    // The second failure doubles the delay.
    h.children[1]!.exit(1);
    await settle();
    expect(h.events('gateway.restart_scheduled')[1]).toMatchObject({ attempt: 2, delayMs: 2_000 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(h.spawnedAt).toEqual([0, 4_500, 6_500]);

    h.runner.requestStop();
    h.runner.terminate('SIGTERM');
    await settle();
    expect(h.code()).toBe(EXIT.ok);
    expect(h.runner.lifecycle.state).toBe('stopped');
  });

  it('a crash loop gives up with exit 1 after limitBurst failures within the interval', async () => {
    const h = harness();
    h.spawned.mockImplementation((child) => queueMicrotask(() => child.exit(1)));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.code()).toBe(EXIT.failed);
    // Delays 1 s and 2 s, then the third failure is the limit.
    expect(h.spawnedAt).toEqual([0, 1_000, 3_000]);
    expect(h.events('gateway.crash_loop')).toEqual([expect.objectContaining({ failures: 3, limitBurst: 3 })]);
    expect(h.runner.lifecycle.state).toBe('failed');
  });

  it('failures older than the interval no longer count', async () => {
    const h = harness({ restart: { ...POLICY, limitIntervalMs: 1_500 } });
    h.spawned.mockImplementation((child) => queueMicrotask(() => child.exit(1)));
    await vi.advanceTimersByTimeAsync(20_000);
    // Failures 1 s and 2 s apart never put 3 within 1.5 s: it keeps restarting, up to the 30 s cap.
    expect(h.code()).toBeNull();
    expect(h.children.length).toBeGreaterThan(3);
    h.runner.requestStop();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.code()).toBe(EXIT.ok);
  });

  it('a refusal (exit 78) gives up at once with 78', async () => {
    const h = harness();
    await settle();
    h.children[0]!.exit(EXIT.configRefused);
    await settle();
    expect(h.code()).toBe(EXIT.configRefused);
    expect(h.children).toHaveLength(1);
    expect(h.events('gateway.refused')).toHaveLength(1);
  });

  it('startup timeout: SIGTERM, SIGKILL after the stop grace when ignored, then a restart', async () => {
    const h = harness();
    await settle();
    const child = h.children[0]!;
    child.onSigterm = null;
    await vi.advanceTimersByTimeAsync(9_999);
    expect(child.signals).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(child.signals).toEqual(['SIGTERM']);
    expect(h.events('gateway.startup_timeout')).toEqual([expect.objectContaining({ gatewayPid: 1000, timeoutMs: 10_000, stderrTail: ['last words'] })]);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(child.signals).toEqual(['SIGTERM']);
    await vi.advanceTimersByTimeAsync(1);
    expect(child.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(h.events('gateway.killed')).toEqual([expect.objectContaining({ reason: 'startup timeout', graceMs: 2_000 })]);
    await settle();
    expect(h.events('gateway.exited')).toEqual([expect.objectContaining({ signal: 'SIGKILL', outcome: 'failure', wasReady: false, uptimeMs: 12_000 })]);
    // A SIGKILL we sent: no memory evidence.
    expect(h.events('gateway.exited')[0]).not.toHaveProperty('memory');
    // The record says failure; the lifecycle keeps why (the health answers and alerts show it).
    expect(h.runner.lifecycle.lastExit).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'startup-timeout' });
    expect(h.events('gateway.restart_scheduled')).toEqual([expect.objectContaining({ reason: 'startup-timeout', delayMs: 1_000 })]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.spawnedAt).toEqual([0, 13_000]);
    h.runner.requestStop();
    h.runner.terminate('SIGTERM');
    await settle();
    expect(h.code()).toBe(EXIT.ok);
  });

  it('a SIGKILL nobody here sent carries the memory evidence', async () => {
    const h = harness();
    await settle();
    h.children[0]!.ready();
    await settle();
    h.children[0]!.exit(null, 'SIGKILL');
    await settle();
    expect(h.events('gateway.exited')[0]).toMatchObject({ signal: 'SIGKILL', memory: { oomKill: 1 } });
    h.runner.requestStop();
    await settle();
  });

  it('a spawn that throws (ENOENT) is a failed attempt, retried, never fatal', async () => {
    const h = harness();
    h.spawnErrors.push(Object.assign(new Error('spawn /opt/openclaw/bin/openclaw ENOENT'), { code: 'ENOENT' }));
    await settle();
    expect(h.children).toHaveLength(0);
    expect(h.events('gateway.spawn_failed')).toEqual([expect.objectContaining({ code: 'ENOENT', error: 'ENOENT' })]);
    expect(h.events('gateway.restart_scheduled')).toEqual([expect.objectContaining({ reason: 'spawn-failed', delayMs: 1_000 })]);
    expect(h.runner.lifecycle.state).toBe('idle');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.children).toHaveLength(1);
    expect(h.spawnedAt).toEqual([1_000]);
    expect(h.code()).toBeNull();
    h.runner.requestStop();
    h.runner.terminate('SIGTERM');
    await settle();
    expect(h.code()).toBe(EXIT.ok);
  });

  it('a stop during the backoff ends the runner at once, with no further spawn', async () => {
    const h = harness();
    await settle();
    h.children[0]!.exit(1);
    await settle();
    expect(h.runner.lifecycle.state).toBe('backoff');
    await vi.advanceTimersByTimeAsync(300);
    h.runner.requestStop();
    await settle();
    expect(h.code()).toBe(EXIT.ok);
    expect(h.runner.lifecycle.state).toBe('stopped');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.children).toHaveLength(1);
    expect(h.runner.terminate('SIGTERM')).toBe(false);
  });

  it('a restart request (exit 0 after ready) respawns at once, is no failure, and is reported with the pid', async () => {
    const onRestartRequest = vi.fn();
    const h = harness({ onRestartRequest });
    await settle();
    h.children[0]!.ready();
    await settle();
    await vi.advanceTimersByTimeAsync(5_000);
    h.children[0]!.exit(0);
    await settle();
    expect(onRestartRequest).toHaveBeenCalledWith(1000);
    expect(h.spawnedAt).toEqual([0, 5_000]);
    expect(h.events('gateway.restart_scheduled')).toEqual([expect.objectContaining({ reason: 'restart-request', delayMs: 0 })]);
    expect(h.runner.recentFailures()).toBe(0);
    h.runner.requestStop();
    h.runner.terminate('SIGTERM');
    await settle();
    expect(h.code()).toBe(EXIT.ok);
  });

  it('restartGateway(): the running gateway is replaced at once, counted as no failure', async () => {
    const h = harness();
    await settle();
    h.children[0]!.ready();
    await settle();
    await h.runner.restartGateway();
    await settle();
    expect(h.children[0]!.signals).toEqual(['SIGTERM']);
    expect(h.children).toHaveLength(2);
    expect(h.events('gateway.exited')).toEqual([expect.objectContaining({ outcome: 'restart-request' })]);
    expect(h.runner.recentFailures()).toBe(0);
    h.runner.requestStop();
    h.runner.terminate('SIGTERM');
    await settle();
    expect(h.code()).toBe(EXIT.ok);
  });

  it('a crash after a stable run resets the backoff and respawns at once', async () => {
    const h = harness();
    await settle();
    h.children[0]!.ready();
    await settle();
    await vi.advanceTimersByTimeAsync(POLICY.stableAfterMs);
    h.children[0]!.exit(1);
    await settle();
    expect(h.events('gateway.restart_scheduled')).toEqual([expect.objectContaining({ reason: 'stable-failure', delayMs: 0 })]);
    expect(h.spawnedAt).toEqual([0, POLICY.stableAfterMs]);
    h.runner.requestStop();
    h.runner.terminate('SIGTERM');
    await settle();
  });

  it('the internal port taken: no spawn, a failure retried like a crash', async () => {
    let free = false;
    const h = harness({}, { isPortFree: async () => free });
    await settle();
    expect(h.children).toHaveLength(0);
    expect(h.events('gateway.port_in_use')).toHaveLength(1);
    free = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.children).toHaveLength(1);
    h.runner.requestStop();
    h.runner.terminate('SIGTERM');
    await settle();
  });

  describe('a release on trial', () => {
    const TRIAL: GatewayCommand = { file: '/state/releases/2026.9.9/openclaw', args: ['gateway'] };
    function trial(prepared = true) {
      return { command: TRIAL, version: '2026.9.9', prepare: vi.fn(async () => prepared), accept: vi.fn(async () => undefined), reject: vi.fn(async () => undefined) };
    }

    it('ready within the startup budget: accepted, and its command is the one that runs from then on', async () => {
      const t = trial();
      const h = harness({ prepare: async () => ({ command: COMMAND, trial: t }) });
      await settle();
      expect(h.commands).toEqual([TRIAL]);
      expect(h.runner.trialPending).toBe(true);
      h.children[0]!.ready();
      await settle();
      expect(t.accept).toHaveBeenCalledTimes(1);
      expect(h.runner.trialPending).toBe(false);
      expect(h.runner.command).toEqual(TRIAL);
      h.children[0]!.exit(0);
      await settle();
      expect(h.commands).toEqual([TRIAL, TRIAL]);
      h.runner.requestStop();
      h.runner.terminate('SIGTERM');
      await settle();
    });

    it('ended before it was ready: rejected with the outcome and stderr, and the previous command runs at once (no failure counted)', async () => {
      const t = trial();
      const h = harness({ prepare: async () => ({ command: COMMAND, trial: t }) });
      await settle();
      await vi.advanceTimersByTimeAsync(700);
      h.children[0]!.exit(1);
      await settle();
      expect(t.reject).toHaveBeenCalledWith('failure', ['last words']);
      expect(t.accept).not.toHaveBeenCalled();
      expect(h.commands).toEqual([TRIAL, COMMAND]);
      expect(h.spawnedAt).toEqual([0, 700]);
      expect(h.events('gateway.restart_scheduled')).toEqual([expect.objectContaining({ reason: 'rolled-back', delayMs: 0 })]);
      expect(h.runner.recentFailures()).toBe(0);
      expect(h.runner.command).toEqual(COMMAND);
      h.runner.requestStop();
      h.runner.terminate('SIGTERM');
      await settle();
    });

    it('a trial whose preparation declines is dropped: the previous command runs', async () => {
      const t = trial(false);
      const h = harness({ prepare: async () => ({ command: COMMAND, trial: t }) });
      await settle();
      expect(h.commands).toEqual([COMMAND]);
      expect(h.runner.trialPending).toBe(false);
      h.runner.requestStop();
      h.runner.terminate('SIGTERM');
      await settle();
    });
  });

  it('recentFailures counts from the clock it is given', async () => {
    const h = harness();
    await settle();
    h.children[0]!.exit(1);
    await settle();
    expect(h.runner.recentFailures(T0 + POLICY.limitIntervalMs - 1)).toBe(1);
    expect(h.runner.recentFailures(T0 + POLICY.limitIntervalMs)).toBe(0);
    h.runner.requestStop();
    await settle();
  });
});
