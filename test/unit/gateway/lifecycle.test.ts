import { describe, expect, it } from 'vitest';
import {
  INITIAL_LIFECYCLE,
  restartsOf,
  transition,
  type ExitInfo,
  type GatewayState,
  type Lifecycle,
  type LifecycleEvent,
} from '../../../src/gateway/lifecycle.js';

const EXIT: ExitInfo = { code: 1, signal: null, at: 5_000 };
const EVENTS: Readonly<Record<LifecycleEvent['type'], LifecycleEvent>> = {
  spawned: { type: 'spawned', at: 1_000 },
  ready: { type: 'ready', at: 2_000 },
  exited: { type: 'exited', exit: EXIT, reason: 'failure' },
  stop_requested: { type: 'stop_requested', at: 6_000 },
  gave_up: { type: 'gave_up', at: 7_000 },
};

const THROWS = 'throws' as const;
type Next = GatewayState | typeof THROWS;

/**
 * The whole state machine, written out by hand from the design (the diagram in lifecycle.ts), not
 * derived from the implementation's table: every (state, event) pair, the state it leads to or
 * `throws`. The Record types make a missing state or event a compile error.
 */
const MACHINE: Readonly<Record<GatewayState, Readonly<Record<LifecycleEvent['type'], Next>>>> = {
  idle:     { spawned: 'starting', ready: THROWS, exited: THROWS, stop_requested: 'stopped', gave_up: 'failed' },
  starting: { spawned: THROWS, ready: 'ready', exited: 'backoff', stop_requested: 'stopping', gave_up: THROWS },
  ready:    { spawned: THROWS, ready: THROWS, exited: 'backoff', stop_requested: 'stopping', gave_up: THROWS },
  backoff:  { spawned: 'starting', ready: THROWS, exited: THROWS, stop_requested: 'stopped', gave_up: 'failed' },
  stopping: { spawned: THROWS, ready: THROWS, exited: 'stopped', stop_requested: 'stopping', gave_up: THROWS },
  stopped:  { spawned: THROWS, ready: THROWS, exited: THROWS, stop_requested: 'stopped', gave_up: THROWS },
  failed:   { spawned: THROWS, ready: THROWS, exited: THROWS, stop_requested: 'failed', gave_up: THROWS },
};

const PAIRS = (Object.entries(MACHINE) as Array<[GatewayState, Record<LifecycleEvent['type'], Next>]>).flatMap(([state, row]) =>
  (Object.entries(row) as Array<[LifecycleEvent['type'], Next]>).map(([event, next]) => [state, event, next] as const),
);
const LEGAL = PAIRS.filter((pair): pair is readonly [GatewayState, LifecycleEvent['type'], GatewayState] => pair[2] !== THROWS);

const inState = (state: GatewayState): Lifecycle => ({ ...INITIAL_LIFECYCLE, state });

describe('transition: the state machine', () => {
  it.each(PAIRS)('%s --%s--> %s', (from, event, next) => {
    if (next === THROWS) {
      expect(() => transition(inState(from), EVENTS[event])).toThrow(`event ${event} is not allowed in state ${from}`);
    } else {
      expect(transition(inState(from), EVENTS[event]).state).toBe(next);
    }
  });

  it.each(['stopping', 'stopped', 'failed'] as const)('a repeated stop request in %s returns the same object', (state) => {
    const current = inState(state);
    expect(transition(current, EVENTS.stop_requested)).toBe(current);
  });

  it.each(LEGAL)('does not modify the current lifecycle (%s --%s-->)', (from, event) => {
    const current = Object.freeze(inState(from));
    const snapshot = { ...current };
    transition(current, EVENTS[event]);
    expect(current).toEqual(snapshot);
  });
});

describe('transition: what each event records', () => {
  it('spawned: spawn time, spawn count; readiness cleared', () => {
    const previous: Lifecycle = { ...inState('backoff'), readyAt: 99, lastReadyAt: 99, spawns: 2 };
    expect(transition(previous, { type: 'spawned', at: 1_000 })).toEqual({
      ...previous,
      state: 'starting',
      spawnedAt: 1_000,
      readyAt: null,
      spawns: 3,
    });
  });

  it('ready: readiness time, last ready time, ever ready', () => {
    const starting = transition(INITIAL_LIFECYCLE, EVENTS.spawned);
    expect(transition(starting, { type: 'ready', at: 2_500 })).toMatchObject({ state: 'ready', readyAt: 2_500, lastReadyAt: 2_500 });
  });

  it('exited while ready: last ready time moves to the exit, readiness cleared, exit kept', () => {
    const ready = transition(transition(INITIAL_LIFECYCLE, EVENTS.spawned), EVENTS.ready);
    expect(transition(ready, EVENTS.exited)).toMatchObject({ state: 'backoff', readyAt: null, lastReadyAt: EXIT.at, lastExit: EXIT });
  });

  it('exited while starting: last ready time unchanged, never ready stays never ready', () => {
    const starting = transition(INITIAL_LIFECYCLE, EVENTS.spawned);
    expect(transition(starting, EVENTS.exited)).toMatchObject({ state: 'backoff', lastReadyAt: null, lastExit: EXIT });
  });

  it('exited while starting after an earlier ready run keeps that earlier last ready time', () => {
    let lc = transition(INITIAL_LIFECYCLE, EVENTS.spawned);
    lc = transition(lc, { type: 'ready', at: 2_000 });
    lc = transition(lc, { type: 'exited', exit: { code: 1, signal: null, at: 3_000 }, reason: 'failure' });
    lc = transition(lc, { type: 'spawned', at: 4_000 });
    lc = transition(lc, { type: 'exited', exit: { code: null, signal: 'SIGKILL', at: 4_500 }, reason: 'failure' });
    expect(lc).toMatchObject({ state: 'backoff', lastReadyAt: 3_000, lastExit: { signal: 'SIGKILL', at: 4_500 } });
  });

  it('keeps how the exit was read with it (a startup timeout is no plain failure to the health answers)', () => {
    const starting = transition(INITIAL_LIFECYCLE, EVENTS.spawned);
    expect(transition(starting, { type: 'exited', exit: EXIT, reason: 'startup-timeout' }).lastExit).toEqual({ ...EXIT, reason: 'startup-timeout' });
  });

  it('exited while stopping: stopped, with the exit kept', () => {
    let lc = transition(INITIAL_LIFECYCLE, EVENTS.spawned);
    lc = transition(lc, EVENTS.ready);
    lc = transition(lc, EVENTS.stop_requested);
    expect(lc.state).toBe('stopping');
    expect(transition(lc, { type: 'exited', exit: { code: 0, signal: null, at: 9_000 }, reason: 'requested-stop' })).toMatchObject({ state: 'stopped', lastExit: { code: 0, at: 9_000 } });
  });
});

describe('restartsOf', () => {
  it.each<[number, number]>([
    [0, 0],
    [1, 0],
    [2, 1],
    [6, 5],
  ])('%d spawns → %d restarts', (spawns, restarts) => {
    expect(restartsOf({ ...INITIAL_LIFECYCLE, spawns })).toBe(restarts);
  });

  it('counts the spawns of a crash/restart sequence', () => {
    let lc = INITIAL_LIFECYCLE;
    for (let i = 0; i < 3; i++) {
      lc = transition(lc, { type: 'spawned', at: i * 10 });
      lc = transition(lc, { type: 'exited', exit: { code: 1, signal: null, at: i * 10 + 5 }, reason: 'failure' });
    }
    expect(lc.spawns).toBe(3);
    expect(restartsOf(lc)).toBe(2);
    expect(transition(lc, EVENTS.gave_up).state).toBe('failed');
  });
});
