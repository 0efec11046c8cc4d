import { afterEach, describe, expect, it } from 'vitest';
import { isRunning, pollUntil, runningGroupMembers } from '../helpers/proc.js';
import { pidOf } from '../helpers/records.js';
import { startSupervisor, type LogRecord, type RunningSupervisor } from '../helpers/supervisor.js';

let sup: RunningSupervisor | undefined;
afterEach(async () => {
  await sup?.kill();
  sup = undefined;
});

/** Sends `signal` to the supervisor; resolves with its exit and how long after the signal it came. */
async function signalAndWait(s: RunningSupervisor, signal: NodeJS.Signals): Promise<{ code: number | null; afterMs: number }> {
  const sentAt = Date.now();
  s.signal(signal);
  const exit = await s.exited;
  return { code: exit.code, afterMs: exit.at - sentAt };
}

/** Asserts that no process of the gateway's group outlives the supervisor (bounded wait for the kernel). */
async function expectGroupGone(pgid: number): Promise<void> {
  const gone = await pollUntil(() => runningGroupMembers(pgid).length === 0, 2_000);
  expect(gone ? [] : runningGroupMembers(pgid)).toEqual([]);
}

const signalRecord = (s: RunningSupervisor): LogRecord => {
  const records = s.events('supervisor.signal');
  expect(records.length).toBeGreaterThanOrEqual(1);
  return records[0]!;
};

describe('stop signals', () => {
  it('SIGTERM after ready: graceful stop, exit 0, the signal diagnosed with its evidence', async () => {
    sup = await startSupervisor();
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));

    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(3_000);

    const signal = signalRecord(sup);
    expect(signal).toMatchObject({ level: 'warn', probableCause: 'external-stop' });
    expect(typeof signal['explanation']).toBe('string');
    const evidence = signal['evidence'] as Record<string, unknown>;
    expect(evidence).toMatchObject({ signal: 'SIGTERM', gatewayState: 'ready', everReady: true, restarts: 0, recentFailures: 0, fromTerminal: false });
    expect(evidence['uptimeMs']).toEqual(expect.any(Number));
    expect(evidence['uptimeMs']).toBeGreaterThan(0);

    expect(sup.events('gateway.exited')).toEqual([expect.objectContaining({ gatewayPid: pid, outcome: 'requested-stop' })]);
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 0, reason: 'stopped on signal' })]);
    expect(sup.events('gateway.killed')).toHaveLength(0);
    expect(isRunning(pid)).toBe(false);
  });

  it('SIGINT: exit 0 with a probable cause (not from a terminal here)', async () => {
    sup = await startSupervisor();
    await sup.waitFor('gateway.ready', undefined, 10_000);
    const { code } = await signalAndWait(sup, 'SIGINT');
    expect(code).toBe(0);
    expect(signalRecord(sup)).toMatchObject({ probableCause: 'external-stop', evidence: expect.objectContaining({ signal: 'SIGINT', fromTerminal: false }) });
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 0 })]);
  });

  it('SIGHUP: the same graceful stop as SIGTERM', async () => {
    sup = await startSupervisor();
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const { code, afterMs } = await signalAndWait(sup, 'SIGHUP');
    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(3_000);
    expect(signalRecord(sup)).toMatchObject({ probableCause: 'terminal-hangup', evidence: expect.objectContaining({ signal: 'SIGHUP' }) });
    expect(sup.events('supervisor.drain_finished')).toHaveLength(1);
    expect(sup.events('gateway.exited')).toEqual([expect.objectContaining({ gatewayPid: pid, outcome: 'requested-stop' })]);
    expect(isRunning(pid)).toBe(false);
  });

  it('SIGTERM during startup (not ready yet): exit 0 at once', async () => {
    sup = await startSupervisor({ env: { FAKE_READY_AFTER_MS: '20000' } });
    const pid = pidOf(await sup.waitFor('gateway.spawned', undefined, 10_000));
    await sup.waitFor('gateway.log', (r) => String(r['line']).includes('http server listening'), 10_000);

    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(2_000);
    expect(signalRecord(sup)).toMatchObject({ probableCause: 'stopped-before-ready', evidence: expect.objectContaining({ gatewayState: 'starting', everReady: false }) });
    expect(sup.events('gateway.ready')).toHaveLength(0);
    expect(isRunning(pid)).toBe(false);
  });

  it('SIGTERM during a backoff wait: exit 0 at once, no further spawn', async () => {
    sup = await startSupervisor({ env: { FAKE_EXIT_CODE: '1', SUPERVISOR_RESTART_DELAY_MS: '10000', SUPERVISOR_RESTART_MAX_DELAY_MS: '20000' } });
    await sup.waitFor('gateway.restart_scheduled', undefined, 10_000);

    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(2_000);
    expect(signalRecord(sup)).toMatchObject({ evidence: expect.objectContaining({ gatewayState: 'backoff', recentFailures: 1 }) });
    expect(sup.events('gateway.spawned')).toHaveLength(1);
  });
});

describe('stubborn gateways', () => {
  it('SIGKILLs a gateway that ignores SIGTERM after SUPERVISOR_STOP_TIMEOUT_MS', async () => {
    sup = await startSupervisor({ env: { FAKE_IGNORE_SIGTERM: '1', SUPERVISOR_STOP_TIMEOUT_MS: '500' } });
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));

    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    expect(code).toBe(0);
    expect(afterMs).toBeGreaterThanOrEqual(450);
    expect(afterMs).toBeLessThan(500 + 2_000);
    expect(sup.events('gateway.killed')).toEqual([expect.objectContaining({ gatewayPid: pid, graceMs: 500 })]);
    expect(sup.events('gateway.exited')).toEqual([expect.objectContaining({ gatewayPid: pid, signal: 'SIGKILL' })]);
    await expectGroupGone(pid);
  });

  it('leaves no process of the gateway group behind, even a grandchild that ignores SIGTERM', async () => {
    sup = await startSupervisor({ env: { FAKE_GRANDCHILD_IGNORES_TERM: '1', SUPERVISOR_STOP_TIMEOUT_MS: '1000' } });
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const line = await sup.waitFor('gateway.log', (r) => /^grandchild \d+$/.test(String(r['line'])), 10_000);
    const grandchild = Number(String(line['line']).split(' ')[1]);
    expect(isRunning(grandchild)).toBe(true);
    expect(runningGroupMembers(pid).map((p) => p.pid).sort()).toEqual([pid, grandchild].sort());

    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(1_000 + 2_000);
    await expectGroupGone(pid);
    expect(isRunning(grandchild)).toBe(false);
  });

  it('a second SIGTERM stops at once with 143 (128+15) and kills the gateway group', async () => {
    sup = await startSupervisor({ env: { FAKE_IGNORE_SIGTERM: '1', SUPERVISOR_STOP_TIMEOUT_MS: '29000', SUPERVISOR_DRAIN_TIMEOUT_MS: '30000' } });
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    sup.signal('SIGTERM');
    await sup.waitFor('supervisor.stopping', undefined, 5_000);
    // The gateway ignores it: the first stop would take 30 s.
    await sup.waitFor('gateway.log', (r) => String(r['line']).includes('received SIGTERM'), 5_000);

    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    expect(code).toBe(143);
    expect(afterMs).toBeLessThan(1_500);
    expect(sup.events('supervisor.signal').map((r) => r['repeated'] ?? false)).toEqual([false, true]);
    await expectGroupGone(pid);
  });
});
