import { describe, expect, it } from 'vitest';
import { eventFromRecord, type OpsEvent } from '../../../src/ops/ops-events.js';

const AT = 1_000;

describe('eventFromRecord', () => {
  it.each<[string, Record<string, unknown>, OpsEvent | null]>([
    ['spawned', { event: 'gateway.spawned', gatewayPid: 12, command: ['x'] }, { type: 'spawned', at: AT }],
    ['ready', { event: 'gateway.ready', sinceSpawnMs: 1234, urls: ['http://a'] }, { type: 'ready', at: AT, sinceSpawnMs: 1234 }],
    ['ready without a duration', { event: 'gateway.ready' }, { type: 'ready', at: AT, sinceSpawnMs: null }],
    ['crash exit', { event: 'gateway.exited', code: 1, signal: null, outcome: 'failure', wasReady: true, stderrTail: ['secret?'] }, { type: 'exited', at: AT, exit: { code: 1, signal: null, reason: 'failure', at: AT }, wasReady: true, oomKills: null }],
    ['SIGKILL exit with memory evidence', { event: 'gateway.exited', code: null, signal: 'SIGKILL', outcome: 'failure', wasReady: false, memory: { currentBytes: 1, maxBytes: 2, oom: 1, oomKill: 3 } }, { type: 'exited', at: AT, exit: { code: null, signal: 'SIGKILL', reason: 'failure', at: AT }, wasReady: false, oomKills: 3 }],
    ['exit with an unknown outcome and a strange signal', { event: 'gateway.exited', code: 0, signal: 'kill me', outcome: 'weird' }, { type: 'exited', at: AT, exit: { code: 0, signal: null, reason: 'other', at: AT }, wasReady: false, oomKills: null }],
    ['startup timeout', { event: 'gateway.startup_timeout', timeoutMs: 5 }, { type: 'startup_timeout', at: AT }],
    ['restart after a failure', { event: 'gateway.restart_scheduled', reason: 'failure', attempt: 1 }, { type: 'restart_scheduled', at: AT, cause: 'crash' }],
    ['restart request', { event: 'gateway.restart_scheduled', reason: 'restart-request', delayMs: 0 }, { type: 'restart_scheduled', at: AT, cause: 'restart-request' }],
    ['restart after a startup timeout', { event: 'gateway.restart_scheduled', reason: 'startup-timeout' }, { type: 'restart_scheduled', at: AT, cause: 'startup-timeout' }],
    ['restart after a stable run', { event: 'gateway.restart_scheduled', reason: 'stable-failure' }, { type: 'restart_scheduled', at: AT, cause: 'stable-failure' }],
    ['restart, port in use', { event: 'gateway.restart_scheduled', reason: 'port-in-use' }, { type: 'restart_scheduled', at: AT, cause: 'port-in-use' }],
    ['restart after a liveness kill', { event: 'gateway.restart_scheduled', reason: 'unresponsive' }, { type: 'restart_scheduled', at: AT, cause: 'unresponsive' }],
    ['restart after a failed spawn', { event: 'gateway.restart_scheduled', reason: 'spawn-failed' }, { type: 'restart_scheduled', at: AT, cause: 'spawn-failed' }],
    ['liveness kill', { event: 'gateway.unresponsive', gatewayPid: 3, probe: 'GET /healthz', failures: 3, unresponsiveForMs: 40_000, lastError: 'timeout' }, { type: 'unresponsive', at: AT, failures: 3, unresponsiveForMs: 40_000 }],
    ['exit after a liveness kill', { event: 'gateway.exited', code: null, signal: 'SIGKILL', outcome: 'unresponsive', wasReady: true }, { type: 'exited', at: AT, exit: { code: null, signal: 'SIGKILL', reason: 'unresponsive', at: AT }, wasReady: true, oomKills: null }],
    ['crash loop', { event: 'gateway.crash_loop', failures: 5, limitBurst: 5, limitIntervalMs: 300000 }, { type: 'crash_loop', at: AT, failures: 5, limitBurst: 5, limitIntervalMs: 300_000 }],
    ['refusal', { event: 'gateway.refused', code: 78, stderrTail: ['x'] }, { type: 'refused', at: AT, code: 78 }],
    ['stopping', { event: 'supervisor.stopping', signal: 'SIGTERM' }, { type: 'stopping', at: AT }],
    ['drain finished', { event: 'supervisor.drain_finished', durationMs: 250, deadlineHit: false, httpCompleted: 3 }, { type: 'drain_finished', at: AT, durationMs: 250, deadlineHit: false }],
    ['a gateway line', { event: 'gateway.log', line: 'x' }, null],
    ['no event', { msg: 'x' }, null],
  ])('%s', (_name, record, expected) => {
    expect(eventFromRecord(record, AT)).toEqual(expected);
  });
});
