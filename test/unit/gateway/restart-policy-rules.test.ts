import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/config.js';
import { EXIT_OUTCOMES, NO_HISTORY, RESTART_CAUSES, classifyExit, decide } from '../../../src/gateway/restart-policy.js';

/**
 * The edges restart-policy.test.ts leaves open: the exported lists the metrics and the alert spool
 * label by, the empty history, a stable period of 0 and a rollback.
 */

describe('the lists the metrics label by', () => {
  it('EXIT_OUTCOMES: every outcome of an exit, each once', () => {
    expect(EXIT_OUTCOMES).toEqual(['requested-stop', 'restart-request', 'refused', 'stable-failure', 'failure', 'unresponsive']);
  });

  it('RESTART_CAUSES: every reason a respawn follows, each once', () => {
    expect(RESTART_CAUSES).toEqual(['failure', 'restart-request', 'startup-timeout', 'stable-failure', 'port-in-use', 'unresponsive', 'spawn-failed', 'rolled-back']);
  });

  it('NO_HISTORY: no failure yet, the first step', () => {
    expect(NO_HISTORY).toEqual({ failures: [], step: 0 });
  });
});

describe('classifyExit: a gateway never ready is never a stable failure', () => {
  it.each<[string, number | null, number, string]>([
    ['never ready, stable period 0: a failure', null, 0, 'failure'],
    ['ready for 0 ms, stable period 0: a stable failure', 0, 0, 'stable-failure'],
  ])('%s', (_name, readyForMs, stableAfterMs, outcome) => {
    expect(classifyExit({ code: 1, signal: null }, { stopRequested: false, readyForMs, stableAfterMs })).toBe(outcome);
  });
});

describe('decide: a rollback', () => {
  it('respawns the last good release at once and is no failure', () => {
    const history = { failures: [99_000], step: 2 };
    expect(decide(history, 'rolled-back', 100_000, DEFAULTS.restart, () => 0.5)).toEqual({
      decision: { action: 'respawn', reason: 'rolled-back', delayMs: 0, attempt: null, bounds: null },
      history,
    });
  });
});
