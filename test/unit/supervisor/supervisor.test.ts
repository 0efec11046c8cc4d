import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Config } from '../../../src/config/config.js';
import { StartFailure } from '../../../src/errors.js';
import { EXIT } from '../../../src/exit-codes.js';
import { INITIAL_LIFECYCLE, type Lifecycle } from '../../../src/gateway/lifecycle.js';
import { Supervisor, type SupervisedFrontDoor, type SupervisedRunner, type SupervisorEffects } from '../../../src/supervisor/supervisor.js';
import type { StopSignal } from '../../../src/supervisor/state.js';
import { recordingLogger } from '../../helpers/records.js';

/**
 * The supervisor in-process: its state machine (src/supervisor/state.ts) driven through its real
 * I/O against a fake runner and front door, signals and the exit hook captured, and fake timers on
 * a clock far from 0 (an uptime computed as `now + startedAt` would show).
 */
const T0 = 1_700_000_000_000;
const STARTED_AT = T0 - 4_000;

function harness(options: { listenError?: NodeJS.ErrnoException; host?: string; boundAddress?: string; gatewayIgnoresSigterm?: boolean; tty?: boolean } = {}) {
  const calls: string[] = [];
  const { logger, records } = recordingLogger();
  const events = (name: string) => records.filter((record) => record['event'] === name);

  let endRun: (code: 0 | 1 | 78) => void = () => undefined;
  let failRun: (error: Error) => void = () => undefined;
  let alive = true;
  let gatewayExited: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => (gatewayExited = resolve));
  const exitGateway = (): void => {
    alive = false;
    gatewayExited();
  };
  const lifecycle: Lifecycle = { ...INITIAL_LIFECYCLE, state: 'ready', spawnedAt: T0 - 3_000, readyAt: T0 - 2_000, lastReadyAt: T0 - 2_000, spawns: 2 };
  const runner: SupervisedRunner = {
    run: () =>
      new Promise<0 | 1 | 78>((resolve, reject) => {
        calls.push('run');
        endRun = resolve;
        failRun = reject;
      }),
    kill: () => void calls.push('kill'),
    lifecycle,
    recentFailures: (now?: number) => {
      calls.push(`recentFailures@${(now ?? Number.NaN) - T0}`);
      return 1;
    },
    get pid() {
      return alive ? 4242 : null;
    },
    requestStop: () => void calls.push('requestStop'),
    terminate: (signal) => {
      calls.push(signal);
      if (!alive) return false;
      if (signal === 'SIGKILL' || !options.gatewayIgnoresSigterm) queueMicrotask(exitGateway);
      return true;
    },
    exited: () => (alive ? exited : Promise.resolve()),
  };
  const frontDoor: SupervisedFrontDoor = {
    listen: async () => {
      calls.push('listen');
      if (options.listenError) throw options.listenError;
      return { address: options.boundAddress ?? '::', port: 8080 };
    },
    inflightRequests: 0,
    openWebSockets: 0,
    announceShutdown: () => void calls.push('announceShutdown'),
    startDrain: () => void calls.push('startDrain'),
    httpIdle: async () => undefined,
    websocketsClosed: async () => undefined,
    cutRemaining: async () => void calls.push('cutRemaining'),
    counts: () => ({ httpCompleted: 0, httpRejected: 0, httpCut: 0, websocketsClosed: 0, websocketsCut: 0 }),
  };
  const signalHandlers = new Map<StopSignal, () => void>();
  let exitHook: (() => void) | null = null;
  const effects: Partial<SupervisorEffects> = {
    onExit: (last) => (exitHook = last),
    onSignal: (signal, handler) => signalHandlers.set(signal, handler),
    readMemoryEvidence: () => ({ currentBytes: 100, maxBytes: 200, oom: 0, oomKill: 0 }),
    stdinIsTTY: () => options.tty === true,
  };
  const config = {
    host: options.host ?? '::',
    publicPort: 8080,
    drainTimeoutMs: 8_000,
    stopTimeoutMs: 5_000,
    shutdownDelayMs: 0,
    railwayDrainingSeconds: null,
  } as unknown as Config;
  const supervisor = new Supervisor({ config, logger, runner, frontDoor, env: {}, startedAt: STARTED_AT, effects });
  let code: number | null = null;
  let error: unknown = null;
  const run = supervisor.run().then(
    (c) => (code = c),
    (e: unknown) => (error = e),
  );
  return {
    supervisor,
    calls,
    events,
    run,
    code: () => code,
    error: () => error,
    signal: (signal: StopSignal) => signalHandlers.get(signal)!(),
    signalHandlers,
    exitHook: () => exitHook,
    endRun: (c: 0 | 1 | 78) => endRun(c),
    failRun: (e: Error) => failRun(e),
    exitGateway,
  };
}

const settle = () => vi.advanceTimersByTimeAsync(0);

describe('Supervisor, in-process with a fake runner, front door and clock', () => {
  beforeEach(() => vi.useFakeTimers({ now: T0 }));
  afterEach(() => vi.useRealTimers());

  it('starting → serving: listens, then starts the runner; registers the stop signals and the last-resort kill', async () => {
    const h = harness();
    await settle();
    expect(h.calls).toEqual(['listen', 'run']);
    expect([...h.signalHandlers.keys()]).toEqual(['SIGTERM', 'SIGINT', 'SIGHUP']);
    expect(h.events('supervisor.listening')).toEqual([expect.objectContaining({ address: '::', port: 8080, sinceStartMs: 4_000 })]);
    h.exitHook()!();
    expect(h.calls).toContain('kill');
    expect(h.code()).toBeNull();
  });

  it('a port that cannot be bound is a StartFailure naming HOST and PORT', async () => {
    const h = harness({ listenError: Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }) });
    await settle();
    expect(h.error()).toBeInstanceOf(StartFailure);
    expect(String((h.error() as Error).message)).toBe('cannot listen on :::8080 (EADDRINUSE): another process uses PORT; pick another PORT');
    expect(h.calls).toEqual(['listen']);
  });

  it('"::" bound as 0.0.0.0 (no IPv6) is said once', async () => {
    const h = harness({ boundAddress: '0.0.0.0' });
    await settle();
    expect(h.events('supervisor.no_ipv6')).toHaveLength(1);
  });

  it('serving → SIGTERM → draining → drained → stopped (0), with the signal evidence read at the clock', async () => {
    const h = harness();
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    h.signal('SIGTERM');
    await vi.runAllTimersAsync();
    expect(h.code()).toBe(EXIT.ok);
    expect(h.calls).toEqual(['listen', 'run', 'recentFailures@1000', 'requestStop', 'startDrain', 'SIGTERM']);
    const [signal] = h.events('supervisor.signal');
    expect(signal).toMatchObject({ evidence: { signal: 'SIGTERM', uptimeMs: 5_000, gatewayState: 'ready', everReady: true, msSinceLastReady: 0, restarts: 1, recentFailures: 1, fromTerminal: false, memory: { currentBytes: 100 } } });
    expect(h.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 0, reason: 'stopped on signal' })]);
    // The gateway ending meanwhile changes nothing of the decided code.
    h.endRun(EXIT.ok);
    await settle();
    expect(h.events('supervisor.exited')).toHaveLength(1);
  });

  it('a second SIGTERM during the drain stops now: 143, the group killed, the rest cut', async () => {
    const h = harness({ gatewayIgnoresSigterm: true });
    await settle();
    h.signal('SIGTERM');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.code()).toBeNull();
    h.signal('SIGTERM');
    await settle();
    expect(h.code()).toBe(143);
    expect(h.calls.slice(-2)).toEqual(['kill', 'cutRemaining']);
    expect(h.events('supervisor.signal')[1]).toMatchObject({ signal: 'SIGTERM', repeated: true });
    expect(h.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 143, reason: 'second SIGTERM' })]);
    // The drain finishing later cannot change it.
    await vi.runAllTimersAsync();
    expect(h.events('supervisor.exited')).toHaveLength(1);
  });

  it('a SIGHUP during the drain is no request to hurry; a SIGINT is (130)', async () => {
    const h = harness({ gatewayIgnoresSigterm: true });
    await settle();
    h.signal('SIGTERM');
    await settle();
    h.signal('SIGHUP');
    await settle();
    expect(h.code()).toBeNull();
    h.signal('SIGINT');
    await settle();
    expect(h.code()).toBe(130);
  });

  it('a SIGINT from a terminal is evidence of Ctrl-C', async () => {
    const h = harness({ tty: true });
    await settle();
    h.signal('SIGINT');
    h.signal('SIGTERM');
    await settle();
    expect(h.events('supervisor.signal')[0]).toMatchObject({ evidence: { signal: 'SIGINT', fromTerminal: true } });
    // A second signal of another kind stops now too: 128 + SIGTERM.
    expect(h.code()).toBe(143);
  });

  it.each([
    [EXIT.failed, 'gateway crash loop'],
    [EXIT.configRefused, 'gateway refused its configuration'],
  ] as const)('the runner ending with %i while serving: failed, the front door drained and cut, exit with that code', async (code, reason) => {
    const h = harness();
    await settle();
    h.endRun(code);
    await settle();
    expect(h.code()).toBe(code);
    expect(h.calls.slice(-2)).toEqual(['startDrain', 'cutRemaining']);
    expect(h.events('supervisor.exited')).toEqual([expect.objectContaining({ code, reason, uptimeMs: 4_000 })]);
    // A signal after the end changes nothing.
    h.signal('SIGTERM');
    await settle();
    expect(h.events('supervisor.exited')).toHaveLength(1);
  });

  it('the runner ending with 0 while serving changes nothing (only a drain ends the supervisor)', async () => {
    const h = harness();
    await settle();
    h.endRun(EXIT.ok);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.code()).toBeNull();
    h.signal('SIGTERM');
    await vi.runAllTimersAsync();
    expect(h.code()).toBe(EXIT.ok);
  });

  it('a bug in the runner: fatal record, the group killed, exit 1 as an internal error', async () => {
    const h = harness();
    await settle();
    h.failRun(new Error('boom'));
    await settle();
    expect(h.code()).toBe(EXIT.failed);
    expect(h.events('supervisor.internal_error')).toEqual([expect.objectContaining({ error: 'boom' })]);
    expect(h.calls).toContain('kill');
    expect(h.events('supervisor.exited')).toEqual([expect.objectContaining({ reason: 'internal error' })]);
  });
});
