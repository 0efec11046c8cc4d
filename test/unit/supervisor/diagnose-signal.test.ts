import { describe, expect, it } from 'vitest';
import { diagnoseSignal, type MemoryEvidence, type ProbableCause, type RailwayEvidence, type SignalEvidence } from '../../../src/supervisor/diagnose-signal.js';

const GiB = 1024 ** 3;

/** A plain docker stop of a healthy gateway: every scenario changes only what it is about. */
const BASE: SignalEvidence = {
  signal: 'SIGTERM',
  uptimeMs: 3_600_000,
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

const RAILWAY: RailwayEvidence = { deploymentId: 'dep-123', replicaId: 'rep-1', drainingSeconds: 30 };
const memory = (currentBytes: number | null, maxBytes: number | null, oomKill: number | null = 0, oom: number | null = 0): MemoryEvidence => ({ currentBytes, maxBytes, oom, oomKill });
const NEVER_READY: Partial<SignalEvidence> = { gatewayState: 'starting', everReady: false, msSinceLastReady: null };

const cause = (overrides: Partial<SignalEvidence>): ProbableCause => diagnoseSignal({ ...BASE, ...overrides }).probableCause;

describe('diagnoseSignal: one scenario per cause', () => {
  it.each<[string, Partial<SignalEvidence>, ProbableCause]>([
    ['Ctrl-C in a terminal', { signal: 'SIGINT', fromTerminal: true }, 'terminal-interrupt'],
    ['the kernel OOM-killed something in the container', { memory: memory(GiB / 2, GiB, 1) }, 'memory-limit'],
    ['memory at 95 % of the limit', { memory: memory(0.95 * GiB, GiB) }, 'memory-limit'],
    ['memory exactly at 90 % of the limit', { memory: memory(0.9 * GiB, GiB) }, 'memory-limit'],
    ['memory over the limit', { memory: memory(1.2 * GiB, GiB) }, 'memory-limit'],
    ['Railway stops a deployment that never became ready', { railway: RAILWAY, ...NEVER_READY }, 'health-check-never-passed'],
    ['Railway: gave up before the first spawn', { railway: RAILWAY, gatewayState: 'failed', everReady: false }, 'health-check-never-passed'],
    ['the gateway gave up (crash loop)', { gatewayState: 'failed', recentFailures: 5, restarts: 4 }, 'gateway-crash-loop'],
    ['two recent failures, in backoff', { gatewayState: 'backoff', recentFailures: 2, restarts: 2 }, 'gateway-crash-loop'],
    ['three recent failures, starting again', { gatewayState: 'starting', recentFailures: 3, restarts: 3 }, 'gateway-crash-loop'],
    ['Railway redeploy of a ready gateway', { railway: RAILWAY }, 'platform-redeploy'],
    ['Railway redeploy while a once-ready gateway restarts', { railway: RAILWAY, gatewayState: 'backoff', recentFailures: 1 }, 'platform-redeploy'],
    ['SIGHUP: the terminal closed', { signal: 'SIGHUP' }, 'terminal-hangup'],
    ['stopped before ready outside Railway', NEVER_READY, 'stopped-before-ready'],
    ['stopped during the first backoff outside Railway', { gatewayState: 'backoff', everReady: false, recentFailures: 1 }, 'stopped-before-ready'],
    ['plain docker stop', {}, 'external-stop'],
    ['docker stop while stopping already', { gatewayState: 'stopping' }, 'external-stop'],
    ['SIGINT sent by a process, not a terminal', { signal: 'SIGINT', fromTerminal: false }, 'external-stop'],
  ])('%s → %s', (_name, overrides, expected) => {
    expect(cause(overrides)).toBe(expected);
  });
});

describe('diagnoseSignal: evidence that is not enough', () => {
  it.each<[string, Partial<SignalEvidence>, ProbableCause]>([
    ['memory just below 90 %', { memory: memory(0.89 * GiB, GiB) }, 'external-stop'],
    ['no memory limit ("max")', { memory: memory(64 * GiB, null) }, 'external-stop'],
    ['memory usage unknown', { memory: memory(null, GiB) }, 'external-stop'],
    ['oom events without an OOM kill', { memory: memory(GiB / 4, GiB, 0, 3) }, 'external-stop'],
    ['OOM kill count unknown', { memory: memory(GiB / 4, GiB, null) }, 'external-stop'],
    ['one recent failure is not a loop', { gatewayState: 'backoff', recentFailures: 1, restarts: 1 }, 'external-stop'],
    ['recent failures while ready again are not a loop', { gatewayState: 'ready', recentFailures: 4, restarts: 4 }, 'external-stop'],
    ['many restarts long ago are not a loop', { gatewayState: 'ready', recentFailures: 0, restarts: 40 }, 'external-stop'],
  ])('%s → %s', (_name, overrides, expected) => {
    expect(cause(overrides)).toBe(expected);
  });
});

describe('diagnoseSignal: precedence (most specific evidence first)', () => {
  const OOM = { memory: memory(GiB, GiB, 2) };
  const LOOP = { gatewayState: 'failed' as const, recentFailures: 5, restarts: 4 };
  it.each<[string, Partial<SignalEvidence>, ProbableCause]>([
    ['Ctrl-C beats memory pressure', { signal: 'SIGINT', fromTerminal: true, ...OOM }, 'terminal-interrupt'],
    ['Ctrl-C beats Railway never ready', { signal: 'SIGINT', fromTerminal: true, railway: RAILWAY, ...NEVER_READY }, 'terminal-interrupt'],
    ['Ctrl-C beats a crash loop', { signal: 'SIGINT', fromTerminal: true, ...LOOP }, 'terminal-interrupt'],
    ['memory beats Railway never ready', { ...OOM, railway: RAILWAY, ...NEVER_READY }, 'memory-limit'],
    ['memory beats a crash loop', { ...OOM, ...LOOP }, 'memory-limit'],
    ['memory beats a Railway redeploy', { ...OOM, railway: RAILWAY }, 'memory-limit'],
    ['memory beats SIGHUP', { ...OOM, signal: 'SIGHUP' }, 'memory-limit'],
    ['Railway never ready beats a crash loop', { railway: RAILWAY, ...LOOP, everReady: false }, 'health-check-never-passed'],
    ['a crash loop beats a Railway redeploy', { railway: RAILWAY, ...LOOP }, 'gateway-crash-loop'],
    ['a crash loop beats SIGHUP', { signal: 'SIGHUP', ...LOOP }, 'gateway-crash-loop'],
    ['a crash loop beats stopped-before-ready', { ...LOOP, everReady: false }, 'gateway-crash-loop'],
    ['a Railway redeploy beats SIGHUP', { railway: RAILWAY, signal: 'SIGHUP' }, 'platform-redeploy'],
    ['Railway never ready beats SIGHUP', { railway: RAILWAY, signal: 'SIGHUP', ...NEVER_READY }, 'health-check-never-passed'],
    ['SIGHUP beats stopped-before-ready', { signal: 'SIGHUP', ...NEVER_READY }, 'terminal-hangup'],
  ])('%s', (_name, overrides, expected) => {
    expect(cause(overrides)).toBe(expected);
  });
});

describe('diagnoseSignal: explanations', () => {
  it.each<[Partial<SignalEvidence>, string[]]>([
    [{ signal: 'SIGINT', fromTerminal: true }, ['Ctrl-C']],
    [{ memory: memory(GiB, GiB, 1) }, ['memory limit', 'memory.max']],
    [{ railway: RAILWAY, ...NEVER_READY }, ['never became ready', 'state starting', 'healthcheckTimeout']],
    [{ gatewayState: 'failed', recentFailures: 5, restarts: 4 }, ['5 recent failures', '4 restarts']],
    [{ railway: RAILWAY }, ['Railway', 'new one goes live']],
    [{ signal: 'SIGHUP' }, ['SIGHUP']],
    [{ gatewayState: 'backoff', everReady: false }, ['before the gateway was ever ready', 'state backoff']],
    [{}, ['docker stop']],
  ])('%j mentions %j', (overrides, parts) => {
    const { explanation } = diagnoseSignal({ ...BASE, ...overrides });
    for (const part of parts) expect(explanation).toContain(part);
  });
});
