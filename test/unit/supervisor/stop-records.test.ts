import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { planStop } from '../../../src/supervisor/stop-plan.js';
import { runStop, systemClock, type DrainingFrontDoor, type StoppableGateway } from '../../../src/supervisor/stop.js';

/**
 * What runStop writes (docs/logs.md, stable events), row by row with the exact records: the stop
 * timeline itself is stop.test.ts's; here each scenario's records, fields and messages.
 */
const T0 = 1_700_000_000_000;
beforeEach(() => vi.useFakeTimers({ now: T0 }));
afterEach(() => vi.useRealTimers());

interface Scenario {
  readonly timings: { drainMs: number; stopMs: number; shutdownDelayMs: number };
  readonly httpDoneAt: number | null;
  /** null: the gateway ignores SIGTERM. */
  readonly exitsAfterSigtermMs: number | null;
  /** false: sessions never close by themselves. */
  readonly websocketsCloseAfterExit: boolean;
  /** SIGKILL finds nothing to kill (terminate answers false) though the runner still names a pid. */
  readonly sigkillFails?: boolean;
  /** The runner names no pid, though its signals are sent. */
  readonly pidUnknown?: boolean;
  /** SIGKILL takes this long to end the gateway (a process in uninterruptible sleep); else at once. */
  readonly sigkillExitAfterMs?: number;
}

interface Seen {
  readonly signals: string[];
  cuts: number;
}

const COUNTS = { httpCompleted: 4, httpRejected: 1, httpCut: 0, websocketsClosed: 2, websocketsCut: 1 };

function fakes(s: Scenario): { frontDoor: DrainingFrontDoor; gateway: StoppableGateway; seen: Seen } {
  const seen: Seen = { signals: [], cuts: 0 };
  let alive = true;
  let exitGateway: () => void = () => undefined;
  const gatewayExited = new Promise<void>((resolve) => (exitGateway = resolve));
  let wsClosed: () => void = () => undefined;
  const websockets = new Promise<void>((resolve) => (wsClosed = resolve));
  const frontDoor: DrainingFrontDoor = {
    inflightRequests: 2,
    openWebSockets: 3,
    announceShutdown: () => undefined,
    startDrain: () => undefined,
    httpIdle: () => (s.httpDoneAt === null ? new Promise(() => undefined) : new Promise((resolve) => setTimeout(resolve, T0 + s.httpDoneAt! - Date.now()))),
    websocketsClosed: () => websockets,
    cutRemaining: async () => {
      seen.cuts++;
      wsClosed();
    },
    counts: () => COUNTS,
  };
  const gateway: StoppableGateway = {
    get pid() {
      return alive && s.pidUnknown !== true ? 4242 : null;
    },
    requestStop: () => undefined,
    terminate(signal) {
      seen.signals.push(signal);
      if (!alive) return false;
      const exit = (): void => {
        alive = false;
        exitGateway();
        if (s.websocketsCloseAfterExit) wsClosed();
      };
      if (signal === 'SIGKILL') {
        if (s.sigkillExitAfterMs === undefined) exit();
        else setTimeout(exit, s.sigkillExitAfterMs);
        return s.sigkillFails !== true;
      }
      if (s.exitsAfterSigtermMs !== null) setTimeout(exit, s.exitsAfterSigtermMs);
      return true;
    },
    exited: () => (alive ? gatewayExited : Promise.resolve()),
  };
  return { frontDoor, gateway, seen };
}

const started = (deadlineMs: number, shutdownDelayMs: number) => ({
  level: 30,
  event: 'supervisor.drain_started',
  deadlineMs,
  shutdownDelayMs,
  inflightRequests: 2,
  openWebSockets: 3,
  msg: `draining: 2 requests in flight, 3 WebSockets open, deadline ${deadlineMs} ms`,
});
const finished = (durationMs: number, deadlineHit: boolean) => ({
  level: 30,
  event: 'supervisor.drain_finished',
  durationMs,
  deadlineHit,
  ...COUNTS,
  msg: deadlineHit ? 'drain deadline reached: the rest was cut' : 'drained',
});

describe('runStop: the records of each stop', () => {
  it.each<{ name: string; scenario: Scenario; records: object[]; report: object; signals: string[]; cuts: number }>([
    {
      name: 'a drain that ends in time: drain_started, drain_finished "drained"',
      scenario: { timings: { drainMs: 8_000, stopMs: 5_000, shutdownDelayMs: 0 }, httpDoneAt: 1_000, exitsAfterSigtermMs: 300, websocketsCloseAfterExit: true },
      records: [started(8_000, 0), finished(1_300, false)],
      report: { durationMs: 1_300, deadlineHit: false, gatewayKilled: false },
      signals: ['SIGTERM'],
      cuts: 0,
    },
    {
      name: 'a shutdown delay first: supervisor.shutdown_delay with its length',
      scenario: { timings: { drainMs: 28_000, stopMs: 5_000, shutdownDelayMs: 5_000 }, httpDoneAt: 6_000, exitsAfterSigtermMs: 100, websocketsCloseAfterExit: true },
      records: [
        started(28_000, 5_000),
        { level: 30, event: 'supervisor.shutdown_delay', delayMs: 5_000, msg: '/readyz answers 503; still serving for 5000 ms (SUPERVISOR_SHUTDOWN_DELAY_MS) while the platform stops routing here' },
        finished(6_100, false),
      ],
      report: { durationMs: 6_100, deadlineHit: false, gatewayKilled: false },
      signals: ['SIGTERM'],
      cuts: 0,
    },
    {
      name: 'a gateway that ignores SIGTERM: gateway.killed, reason stop, with its pid and grace',
      scenario: { timings: { drainMs: 8_000, stopMs: 500, shutdownDelayMs: 0 }, httpDoneAt: 0, exitsAfterSigtermMs: null, websocketsCloseAfterExit: true },
      records: [
        started(8_000, 0),
        { level: 40, event: 'gateway.killed', gatewayPid: 4242, reason: 'stop', graceMs: 500, msg: 'the gateway did not exit within 500 ms of SIGTERM: SIGKILL to its process group' },
        finished(500, false),
      ],
      report: { durationMs: 500, deadlineHit: false, gatewayKilled: true },
      signals: ['SIGTERM', 'SIGKILL'],
      cuts: 1,
    },
    {
      name: 'a gateway that outlives its SIGKILL past the deadline: one cut, one SIGKILL, one record; the stop waits for the exit',
      scenario: { timings: { drainMs: 8_000, stopMs: 500, shutdownDelayMs: 0 }, httpDoneAt: 0, exitsAfterSigtermMs: null, websocketsCloseAfterExit: true, sigkillExitAfterMs: 8_500 },
      records: [
        started(8_000, 0),
        { level: 40, event: 'gateway.killed', gatewayPid: 4242, reason: 'stop', graceMs: 500, msg: 'the gateway did not exit within 500 ms of SIGTERM: SIGKILL to its process group' },
        finished(9_000, true),
      ],
      report: { durationMs: 9_000, deadlineHit: true, gatewayKilled: true },
      signals: ['SIGTERM', 'SIGKILL'],
      cuts: 1,
    },
    {
      name: 'a SIGKILL that finds nothing to kill: no gateway.killed, not counted as killed',
      scenario: { timings: { drainMs: 8_000, stopMs: 500, shutdownDelayMs: 0 }, httpDoneAt: 0, exitsAfterSigtermMs: null, websocketsCloseAfterExit: true, sigkillFails: true },
      records: [started(8_000, 0), finished(500, false)],
      report: { durationMs: 500, deadlineHit: false, gatewayKilled: false },
      signals: ['SIGTERM', 'SIGKILL'],
      cuts: 1,
    },
    {
      name: 'a SIGKILL with no pid known: no record naming a pid, not counted as killed',
      scenario: { timings: { drainMs: 8_000, stopMs: 500, shutdownDelayMs: 0 }, httpDoneAt: 0, exitsAfterSigtermMs: null, websocketsCloseAfterExit: true, pidUnknown: true },
      records: [started(8_000, 0), finished(500, false)],
      report: { durationMs: 500, deadlineHit: false, gatewayKilled: false },
      signals: ['SIGTERM', 'SIGKILL'],
      cuts: 1,
    },
    {
      name: 'a gateway that ignores SIGTERM sent at the latest: the deadline kills it, reason drain deadline',
      scenario: { timings: { drainMs: 8_000, stopMs: 5_000, shutdownDelayMs: 0 }, httpDoneAt: null, exitsAfterSigtermMs: null, websocketsCloseAfterExit: true },
      records: [
        started(8_000, 0),
        { level: 40, event: 'gateway.killed', gatewayPid: 4242, reason: 'drain deadline', graceMs: 5_000, msg: 'the gateway did not exit within 5000 ms of SIGTERM: SIGKILL to its process group' },
        finished(8_000, true),
      ],
      report: { durationMs: 8_000, deadlineHit: true, gatewayKilled: true },
      // The deadline and the kill timer fall at the same instant: one cut, one SIGKILL.
      signals: ['SIGTERM', 'SIGKILL'],
      cuts: 1,
    },
    {
      name: 'sessions outlive the exited gateway: the deadline cuts them, no kill record (nothing to kill)',
      scenario: { timings: { drainMs: 8_000, stopMs: 5_000, shutdownDelayMs: 0 }, httpDoneAt: 0, exitsAfterSigtermMs: 100, websocketsCloseAfterExit: false },
      records: [started(8_000, 0), finished(8_000, true)],
      report: { durationMs: 8_000, deadlineHit: true, gatewayKilled: false },
      signals: ['SIGTERM', 'SIGKILL'],
      cuts: 1,
    },
  ])('$name', async ({ scenario, records, report, signals, cuts }) => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug', base: undefined, timestamp: false }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { frontDoor, gateway, seen } = fakes(scenario);
    const done = runStop(planStop(scenario.timings), frontDoor, gateway, logger, systemClock);
    await vi.runAllTimersAsync();
    expect(await done).toEqual(report);
    expect(lines).toEqual(records);
    expect(seen).toEqual({ signals, cuts });
  });
});

describe('systemClock', () => {
  it('sleep resolves after its time', async () => {
    let resolved = false;
    void systemClock.sleep(1_000).done.then(() => (resolved = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(resolved).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(resolved).toBe(true);
  });

  it('a negative time is no time', async () => {
    let resolved = false;
    void systemClock.sleep(-50).done.then(() => (resolved = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(resolved).toBe(true);
  });

  it('cancel releases the timer', () => {
    const sleep = systemClock.sleep(1_000);
    expect(vi.getTimerCount()).toBe(1);
    sleep.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('now is the wall clock', () => {
    expect(systemClock.now()).toBe(T0);
  });
});
