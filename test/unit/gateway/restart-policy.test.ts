import { describe, expect, it } from 'vitest';
import { DEFAULTS, type RestartPolicy } from '../../../src/config/config.js';
import {
  EXIT_CONFIG_REFUSED,
  classifyExit,
  delayBounds,
  describeExit,
  failuresInWindow,
  isCrashLoop,
  type ExitOutcome,
} from '../../../src/gateway/restart-policy.js';

const STABLE = 60_000;
type Exit = { code: number | null; signal: NodeJS.Signals | null };
const code = (c: number): Exit => ({ code: c, signal: null });
const killed = (signal: NodeJS.Signals): Exit => ({ code: null, signal });

describe('classifyExit', () => {
  it.each<[string, Exit, boolean, number | null, ExitOutcome]>([
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
    expect(isCrashLoop(failures, now, burst5)).toBe(loop);
  });

  it('returns the failures that still count, in order', () => {
    expect(failuresInWindow([10, 150, 151, 340], 350, policy({ limitIntervalMs: 200 }))).toEqual([151, 340]);
  });

  it('a burst of 1 makes the first failure a crash loop', () => {
    expect(isCrashLoop([100], 100, policy({ limitBurst: 1 }))).toBe(true);
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
