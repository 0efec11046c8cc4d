import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stopTimingsProblem } from '../../../src/config/stop-timings.js';
import { planStop } from '../../../src/supervisor/stop-plan.js';
import { runStop, systemClock, type DrainingFrontDoor, type StoppableGateway } from '../../../src/supervisor/stop.js';

describe('planStop', () => {
  it.each<[string, { drainMs: number; stopMs: number; shutdownDelayMs: number }, ReturnType<typeof planStop>]>([
    ['defaults', { drainMs: 8_000, stopMs: 5_000, shutdownDelayMs: 0 }, { drainStartsAt: 0, sigtermLatestAt: 3_000, killAfterSigtermMs: 5_000, deadlineAt: 8_000 }],
    ['Kubernetes', { drainMs: 28_000, stopMs: 5_000, shutdownDelayMs: 5_000 }, { drainStartsAt: 5_000, sigtermLatestAt: 23_000, killAfterSigtermMs: 5_000, deadlineAt: 28_000 }],
    ['a delay that uses all the slack: SIGTERM right after it', { drainMs: 8_000, stopMs: 5_000, shutdownDelayMs: 3_000 }, { drainStartsAt: 3_000, sigtermLatestAt: 3_000, killAfterSigtermMs: 5_000, deadlineAt: 8_000 }],
  ])('%s', (_name, timings, plan) => {
    expect(planStop(timings)).toEqual(plan);
    expect(stopTimingsProblem(timings)).toBeNull();
  });

  it.each([
    [{ drainMs: 5_000, stopMs: 5_000, shutdownDelayMs: 0 }, 'must be below the drain deadline'],
    [{ drainMs: 8_000, stopMs: 5_000, shutdownDelayMs: 3_001 }, 'exceed the drain deadline'],
  ])('%j is refused', (timings, message) => {
    expect(stopTimingsProblem(timings)).toContain(message);
  });
});

/**
 * The stop timeline against fakes: a front door whose in-flight requests and sessions end when the
 * test says, a gateway that exits on SIGTERM after a set time (or never), and fake timers. Each
 * row checks at which instant each step happened.
 */
describe('runStop: the timeline', () => {
  /** A clock far from 0, so that an instant read as `startedAt + now` instead of `now - startedAt` shows. */
  const T0 = 1_700_000_000_000;
  beforeEach(() => vi.useFakeTimers({ now: T0 }));
  afterEach(() => vi.useRealTimers());

  interface Scenario {
    readonly httpDoneAt: number | null;
    readonly gatewayExitsAfterSigtermMs: number | null;
    readonly websocketsCloseAfterExitMs: number | null;
  }

  function fakes(s: Scenario) {
    const log: Array<[number, string]> = [];
    const mark = (what: string): void => void log.push([Date.now() - T0, what]);
    let exitGateway: () => void = () => undefined;
    const gatewayExited = new Promise<void>((resolve) => (exitGateway = resolve));
    let alive = true;
    let wsClosed: () => void = () => undefined;
    const websockets = new Promise<void>((resolve) => (wsClosed = resolve));
    const frontDoor: DrainingFrontDoor = {
      inflightRequests: 1,
      openWebSockets: 1,
      announceShutdown: () => mark('announce'),
      startDrain: () => mark('drain'),
      httpIdle: () => (s.httpDoneAt === null ? new Promise(() => undefined) : new Promise((resolve) => setTimeout(resolve, T0 + s.httpDoneAt! - Date.now()))),
      websocketsClosed: () => websockets,
      cutRemaining: async () => {
        mark('cut');
        wsClosed();
      },
      counts: () => ({ httpCompleted: 0, httpRejected: 0, httpCut: 0, websocketsClosed: 0, websocketsCut: 0 }),
    };
    const gateway: StoppableGateway = {
      get pid() {
        return alive ? 4242 : null;
      },
      requestStop: () => mark('no-restarts'),
      terminate(signal) {
        mark(signal);
        if (!alive) return false;
        const exit = (): void => {
          alive = false;
          exitGateway();
          if (s.websocketsCloseAfterExitMs === 0) wsClosed();
          else if (s.websocketsCloseAfterExitMs !== null) setTimeout(wsClosed, s.websocketsCloseAfterExitMs);
        };
        if (signal === 'SIGKILL') exit();
        else if (s.gatewayExitsAfterSigtermMs !== null) setTimeout(exit, s.gatewayExitsAfterSigtermMs);
        return true;
      },
      exited: () => (alive ? gatewayExited : Promise.resolve()),
    };
    return { log, frontDoor, gateway };
  }

  it.each<[string, { drainMs: number; stopMs: number; shutdownDelayMs: number }, Scenario, Array<[number, string]>, { deadlineHit: boolean; gatewayKilled: boolean; durationMs: number }]>([
    [
      'HTTP done at 1 s → SIGTERM then; the gateway drains its sessions and exits',
      { drainMs: 8_000, stopMs: 5_000, shutdownDelayMs: 0 },
      { httpDoneAt: 1_000, gatewayExitsAfterSigtermMs: 300, websocketsCloseAfterExitMs: 0 },
      [[0, 'no-restarts'], [0, 'drain'], [1_000, 'SIGTERM']],
      { deadlineHit: false, gatewayKilled: false, durationMs: 1_300 },
    ],
    [
      'HTTP never done → SIGTERM at drain - stop (3 s), whatever is in flight',
      { drainMs: 8_000, stopMs: 5_000, shutdownDelayMs: 0 },
      { httpDoneAt: null, gatewayExitsAfterSigtermMs: 200, websocketsCloseAfterExitMs: 0 },
      [[0, 'no-restarts'], [0, 'drain'], [3_000, 'SIGTERM']],
      { deadlineHit: false, gatewayKilled: false, durationMs: 3_200 },
    ],
    [
      'a gateway that ignores SIGTERM: sessions cut, then SIGKILL, stop timeout after its SIGTERM',
      { drainMs: 8_000, stopMs: 500, shutdownDelayMs: 0 },
      { httpDoneAt: 0, gatewayExitsAfterSigtermMs: null, websocketsCloseAfterExitMs: null },
      [[0, 'no-restarts'], [0, 'drain'], [0, 'SIGTERM'], [500, 'cut'], [500, 'SIGKILL']],
      { deadlineHit: false, gatewayKilled: true, durationMs: 500 },
    ],
    [
      'the shutdown delay: /readyz 503 first, the listener closes only after it',
      { drainMs: 28_000, stopMs: 5_000, shutdownDelayMs: 5_000 },
      { httpDoneAt: 6_000, gatewayExitsAfterSigtermMs: 100, websocketsCloseAfterExitMs: 0 },
      [[0, 'no-restarts'], [0, 'announce'], [5_000, 'drain'], [6_000, 'SIGTERM']],
      { deadlineHit: false, gatewayKilled: false, durationMs: 6_100 },
    ],
    [
      'sessions that outlive the gateway are cut at the deadline, never later',
      { drainMs: 8_000, stopMs: 5_000, shutdownDelayMs: 0 },
      { httpDoneAt: 0, gatewayExitsAfterSigtermMs: 100, websocketsCloseAfterExitMs: null },
      [[0, 'no-restarts'], [0, 'drain'], [0, 'SIGTERM'], [8_000, 'cut'], [8_000, 'SIGKILL']],
      { deadlineHit: true, gatewayKilled: false, durationMs: 8_000 },
    ],
  ])('%s', async (_name, timings, scenario, steps, report) => {
    const { log, frontDoor, gateway } = fakes(scenario);
    const done = runStop(planStop(timings), frontDoor, gateway, pino({ level: 'silent' }), systemClock);
    await vi.runAllTimersAsync();
    expect(await done).toEqual(report);
    expect(log).toEqual(steps);
  });
});
