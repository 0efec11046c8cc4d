import { describe, expect, it } from 'vitest';
import { diagnoseSignal, type SignalEvidence } from '../../../src/supervisor/diagnose-signal.js';

/** The edges diagnose-signal.test.ts leaves open, one row each. */
const BASE: SignalEvidence = {
  signal: 'SIGTERM',
  uptimeMs: 60_000,
  gatewayState: 'ready',
  everReady: true,
  msSinceLastReady: 0,
  restarts: 0,
  recentFailures: 0,
  lastExit: null,
  fromTerminal: false,
  railway: null,
  memory: null,
};

describe('diagnoseSignal: the edges', () => {
  it.each<[string, Partial<SignalEvidence>, string]>([
    ['SIGTERM from a terminal is no Ctrl-C', { signal: 'SIGTERM', fromTerminal: true }, 'external-stop'],
    ['a failed gateway with one recent failure is a crash loop (it gave up)', { gatewayState: 'failed', recentFailures: 1 }, 'gateway-crash-loop'],
    ['memory use unknown is no memory pressure', { memory: { currentBytes: null, maxBytes: 1_000, oom: null, oomKill: 0 } }, 'external-stop'],
  ])('%s', (_name, evidence, cause) => {
    expect(diagnoseSignal({ ...BASE, ...evidence }).probableCause).toBe(cause);
  });
});
