import { describe, expect, it } from 'vitest';
import { DEFAULTS, type RestartPolicy } from '../../../src/config/config.js';
import {
  EXIT_CONFIG_REFUSED,
  NO_HISTORY,
  classifyExit,
  decide,
  delayBounds,
  describeExit,
  failuresInWindow,
  outcomeAfterKill,
  type AttemptOutcome,
  type RestartCause,
  type ExitOutcome,
  type Decision,
  type RestartHistory,
} from '../../../src/gateway/restart-policy.js';

const STABLE = 60_000;
type Exit = { code: number | null; signal: NodeJS.Signals | null };
const code = (c: number): Exit => ({ code: c, signal: null });
const killed = (signal: NodeJS.Signals): Exit => ({ code: null, signal });

describe('classifyExit', () => {
  it.each<[string, Exit, boolean, number | null, AttemptOutcome]>([
    // we asked it to stop: whatever the exit
    ['stop requested, exit 0', code(0), true, 5_000, 'requested-stop'],
    ['stop requested, SIGKILL after the grace period', killed('SIGKILL'), true, 5_000, 'requested-stop'],
    ['stop requested, exit 78', code(EXIT_CONFIG_REFUSED), true, null, 'requested-stop'],
    ['stop requested before ready', code(1), true, null, 'requested-stop'],
    // exit 0
    ['exit 0 before ready (cannot be a restart request)', code(0), false, null, 'failure'],
    ['exit 0 right after ready', code(0), false, 0, 'restart-request'],
    ['exit 0 after ready', code(0), false, 1_000, 'restart-request'],
    ['exit 0 after a stable run', code(0), false, STABLE * 10, 'restart-request'],
    // 78: config or auth refusal, locked state dir
    ['exit 78 before ready', code(78), false, null, 'refused'],
    ['exit 78 after ready', code(78), false, 1_000, 'refused'],
    ['exit 78 after a stable run', code(78), false, STABLE, 'refused'],
    // crashes
    ['exit 1 before ready', code(1), false, null, 'failure'],
    ['exit 1 shortly after ready', code(1), false, STABLE - 1, 'failure'],
    ['exit 1 after exactly the stable period', code(1), false, STABLE, 'stable-failure'],
    ['exit 1 after a long stable run', code(1), false, STABLE * 100, 'stable-failure'],
    ['exit 77 is not a refusal', code(77), false, null, 'failure'],
    ['exit 79 is not a refusal', code(79), false, null, 'failure'],
    // signal deaths
    ['SIGKILL (OOM killer) before ready', killed('SIGKILL'), false, null, 'failure'],
    ['SIGSEGV shortly after ready', killed('SIGSEGV'), false, 10, 'failure'],
    ['SIGKILL after a stable run', killed('SIGKILL'), false, STABLE, 'stable-failure'],
    ['SIGTERM from someone else after ready', killed('SIGTERM'), false, 1_000, 'failure'],
    ['no code and no signal', { code: null, signal: null }, false, null, 'failure'],
  ])('%s → %s', (_name, exit, stopRequested, readyForMs, outcome) => {
    expect(classifyExit(exit, { stopRequested, readyForMs, stableAfterMs: STABLE })).toBe(outcome);
  });

  it('uses the stable period it is given', () => {
    expect(classifyExit(code(1), { stopRequested: false, readyForMs: 500, stableAfterMs: 500 })).toBe('stable-failure');
    expect(classifyExit(code(1), { stopRequested: false, readyForMs: 500, stableAfterMs: 501 })).toBe('failure');
  });
});

const policy = (overrides: Partial<RestartPolicy> = {}): RestartPolicy => ({ ...DEFAULTS.restart, ...overrides });

describe('crash-loop window', () => {
  const burst5 = policy({ limitBurst: 5, limitIntervalMs: 300_000 });

  it.each<[string, number[], number, number, boolean]>([
    ['no failures', [], 0, 0, false],
    ['one failure', [1_000], 2_000, 1, false],
    ['four failures in the window', [0, 1, 2, 3], 10, 4, false],
    ['five failures in the window', [0, 1_000, 2_000, 3_000, 4_000], 5_000, 5, true],
    ['six failures in the window', [0, 1, 2, 3, 4, 5], 10, 6, true],
    ['five failures, the first just inside the window', [1, 1_000, 2_000, 3_000, 4_000], 300_000, 5, true],
    ['five failures, the first exactly at the window edge (out)', [0, 1_000, 2_000, 3_000, 4_000], 300_000, 4, false],
    ['five failures long ago', [0, 1, 2, 3, 4], 1_000_000, 0, false],
    ['old and new mixed', [0, 1, 2, 400_000, 400_001], 400_010, 2, false],
  ])('%s', (_name, failures, now, counted, loop) => {
    expect(failuresInWindow(failures, now, burst5)).toHaveLength(counted);
    // `loop`: the window already holds the burst. One more failure now gives up when it does, or
    // when that failure completes it.
    const { decision } = decide({ failures, step: 0 }, 'failure', now, burst5, () => 0);
    expect(decision.action).toBe(loop || counted + 1 >= 5 ? 'give-up' : 'respawn');
  });

  it('returns the failures that still count, in order', () => {
    expect(failuresInWindow([10, 150, 151, 340], 350, policy({ limitIntervalMs: 200 }))).toEqual([151, 340]);
  });

  it('a burst of 1 makes the first failure a crash loop', () => {
    expect(decide(NO_HISTORY, 'failure', 100, policy({ limitBurst: 1 })).decision).toEqual({ action: 'give-up', exitCode: 1, failures: 1 });
  });
});

describe('delayBounds', () => {
  const p = policy({ initialDelayMs: 1_000, factor: 2, maxDelayMs: 30_000 });

  it.each<[number, number, number]>([
    [0, 1_000, 2_000],
    [1, 2_000, 4_000],
    [2, 4_000, 8_000],
    [3, 8_000, 16_000],
    [4, 16_000, 30_000],
    [5, 30_000, 30_000],
    [50, 30_000, 30_000],
  ])('retry %d: %d..%d ms', (retries, minMs, maxMs) => {
    expect(delayBounds(retries, p)).toEqual({ minMs, maxMs });
  });

  it.each<[Partial<RestartPolicy>, number, { minMs: number; maxMs: number }]>([
    [{ initialDelayMs: 100, factor: 1.5, maxDelayMs: 10_000 }, 1, { minMs: 150, maxMs: 300 }],
    [{ initialDelayMs: 333, factor: 1.5, maxDelayMs: 10_000 }, 1, { minMs: 500, maxMs: 999 }],
    [{ initialDelayMs: 500, factor: 1, maxDelayMs: 10_000 }, 9, { minMs: 500, maxMs: 1_000 }],
    [{ initialDelayMs: 500, factor: 3, maxDelayMs: 500 }, 0, { minMs: 500, maxMs: 500 }],
  ])('%j, retry %d', (overrides, retries, bounds) => {
    expect(delayBounds(retries, policy(overrides))).toEqual(bounds);
  });

  it('never exceeds the cap and never shrinks', () => {
    let previous = 0;
    for (let n = 0; n < 40; n++) {
      const { minMs, maxMs } = delayBounds(n, p);
      expect(minMs).toBeGreaterThanOrEqual(previous);
      expect(maxMs).toBeLessThanOrEqual(p.maxDelayMs);
      expect(maxMs).toBeGreaterThanOrEqual(minMs);
      previous = minMs;
    }
  });
});

describe('decide: what follows an attempt (a table, one line per history × outcome)', () => {
  const p = policy({ initialDelayMs: 200, factor: 2, maxDelayMs: 1_000, limitBurst: 4, limitIntervalMs: 10_000 });
  const NOW = 100_000;
  const h = (failures: number[], step: number): RestartHistory => ({ failures, step });
  const respawn = (reason: RestartCause, delayMs: number, attempt: number | null, bounds: [number, number] | null): Decision => ({
    action: 'respawn',
    reason,
    delayMs,
    attempt,
    bounds: bounds && { minMs: bounds[0], maxMs: bounds[1] },
  });

  it.each<[string, RestartHistory, AttemptOutcome, number, Decision, RestartHistory]>([
    // random 0 → the low end of the jitter, 0.5 → 1.5x, 0.999 → just under 2x (then the cap)
    ['first failure: 200 ms (attempt 1)', NO_HISTORY, 'failure', 0, respawn('failure', 200, 1, [200, 400]), h([NOW], 1)],
    ['first failure, jitter 1.5x', NO_HISTORY, 'failure', 0.5, respawn('failure', 300, 1, [200, 400]), h([NOW], 1)],
    ['second failure doubles', h([NOW - 1_000], 1), 'failure', 0, respawn('failure', 400, 2, [400, 800]), h([NOW - 1_000, NOW], 2)],
    ['third failure, capped jitter', h([NOW - 2_000, NOW - 1_000], 2), 'failure', 0.999, respawn('failure', 1_000, 3, [800, 1_000]), h([NOW - 2_000, NOW - 1_000, NOW], 3)],
    ['startup timeout counts as a failure', NO_HISTORY, 'startup-timeout', 0, respawn('startup-timeout', 200, 1, [200, 400]), h([NOW], 1)],
    ['port in use counts as a failure', h([NOW - 5], 1), 'port-in-use', 0, respawn('port-in-use', 400, 2, [400, 800]), h([NOW - 5, NOW], 2)],
    ['a failed spawn (EMFILE, ENOMEM, no executable) counts as a failure', h([NOW - 5], 1), 'spawn-failed', 0, respawn('spawn-failed', 400, 2, [400, 800]), h([NOW - 5, NOW], 2)],
    ['a failed spawn that completes the burst gives up like any failure', h([NOW - 3, NOW - 2, NOW - 1], 3), 'spawn-failed', 0, { action: 'give-up', exitCode: 1, failures: 4 }, h([NOW - 3, NOW - 2, NOW - 1, NOW], 3)],
    ['a kill for unresponsiveness counts as a failure', NO_HISTORY, 'unresponsive', 0, respawn('unresponsive', 200, 1, [200, 400]), h([NOW], 1)],
    ['failures out of the window are forgotten, the step is not', h([NOW - 20_000, NOW - 15_000, NOW - 11_000], 3), 'failure', 0, respawn('failure', 1_000, 4, [1_000, 1_000]), h([NOW], 4)],
    ['the fourth failure in the window gives up (exit 1)', h([NOW - 3, NOW - 2, NOW - 1], 3), 'failure', 0, { action: 'give-up', exitCode: 1, failures: 4 }, h([NOW - 3, NOW - 2, NOW - 1, NOW], 3)],
    ['a restart request respawns at once and is no failure', h([NOW - 1], 1), 'restart-request', 0.9, respawn('restart-request', 0, null, null), h([NOW - 1], 1)],
    ['a crash after a stable run resets the backoff, respawns at once', h([NOW - 5_000], 2), 'stable-failure', 0.9, respawn('stable-failure', 0, null, null), h([NOW - 5_000, NOW], 0)],
    ['a stable failure that completes the burst still gives up', h([NOW - 3, NOW - 2, NOW - 1], 0), 'stable-failure', 0, { action: 'give-up', exitCode: 1, failures: 4 }, h([NOW - 3, NOW - 2, NOW - 1, NOW], 0)],
    ['a refusal gives up at once with 78, whatever the history', h([NOW - 1], 1), 'refused', 0, { action: 'give-up', exitCode: 78, failures: 1 }, h([NOW - 1], 1)],
    ['a requested stop stops', h([NOW - 1], 1), 'requested-stop', 0, { action: 'stop' }, h([NOW - 1], 1)],
  ])('%s', (_name, history, outcome, random, decision, next) => {
    expect(decide(history, outcome, NOW, p, () => random)).toEqual({ decision, history: next });
  });

  it('the delay it waits always lies within the bounds it logs', () => {
    let history = NO_HISTORY;
    const wide = policy({ initialDelayMs: 100, factor: 3, maxDelayMs: 60_000, limitBurst: 1_000 });
    for (let i = 0; i < 12; i++) {
      const random = (i * 0.37) % 1;
      const result = decide(history, 'failure', i, wide, () => random);
      const decision = result.decision;
      if (decision.action !== 'respawn' || decision.bounds === null) throw new Error('expected a respawn with bounds');
      expect(decision.delayMs).toBeGreaterThanOrEqual(decision.bounds.minMs);
      expect(decision.delayMs).toBeLessThanOrEqual(decision.bounds.maxMs);
      history = result.history;
    }
  });
});

describe('describeExit', () => {
  it.each<[Exit, string]>([
    [code(0), 'exit code 0'],
    [code(1), 'exit code 1'],
    [code(78), 'exit code 78'],
    [killed('SIGKILL'), 'killed by SIGKILL'],
    [killed('SIGSEGV'), 'killed by SIGSEGV'],
    [{ code: null, signal: null }, 'exit code null'],
  ])('%j → %s', (exit, text) => {
    expect(describeExit(exit)).toBe(text);
  });
});

describe('outcomeAfterKill: an exit after the liveness watch killed the gateway', () => {
  it.each<[ExitOutcome, boolean, ExitOutcome]>([
    ['failure', true, 'unresponsive'],
    ['stable-failure', true, 'stable-failure'],
    ['requested-stop', true, 'requested-stop'],
    ['failure', false, 'failure'],
    ['stable-failure', false, 'stable-failure'],
  ])('%s, killed: %s → %s', (classified, killed, expected) => {
    expect(outcomeAfterKill(classified, killed)).toBe(expected);
  });

  it('after a stable run the freeze restarts at once with the backoff reset, like any crash then', () => {
    const history = { failures: [], step: 3 };
    const { decision, history: next } = decide(history, outcomeAfterKill('stable-failure', true), 1_700_000_000_000, DEFAULTS.restart);
    expect(decision).toMatchObject({ action: 'respawn', reason: 'stable-failure', delayMs: 0 });
    expect(next.step).toBe(0);
  });
});
