import { describe, expect, it } from 'vitest';
import { httpRequest, openWebSocket, type HttpResult } from '../helpers/front-door-clients.js';
import { isRunning } from '../helpers/proc.js';
import { pidOf } from '../helpers/records.js';
import { expectGroupGone, firstSignalRecord, onCleanup, signalAndWait, start, useSupervisors, type Supervised } from './helpers/common.js';
import { scenario } from './helpers/figures.js';

useSupervisors();

/** Resolves with the response or the error that cut it; never rejects. */
function settle(request: Promise<HttpResult>): Promise<{ res?: HttpResult; error?: Error }> {
  return request.then(
    (res) => ({ res }),
    (error: Error) => ({ error }),
  );
}

/**
 * A request that keeps the drain busy, once it reached the gateway (one round trip after it on the
 * same path). Wrapped: an async function would flatten the promise and wait for the response.
 */
async function inflight(sup: Supervised, ms: number): Promise<{ done: Promise<{ res?: HttpResult; error?: Error }> }> {
  const done = settle(httpRequest({ port: sup.port, path: `/slow?ms=${ms}`, timeoutMs: ms + 15_000 }));
  expect((await httpRequest({ port: sup.port, path: '/headers' })).status).toBe(200);
  return { done };
}

describe('signals: graceful stops', () => {
  it('SIGTERM during startup (gateway spawned, not ready): exit 0 promptly, cause stopped-before-ready', async () => {
    const fig = scenario('signal.sigterm-during-startup', 'signal');
    const sup = await start({ env: { FAKE_READY_AFTER_MS: '30000' } });
    const pid = pidOf(await sup.waitFor('gateway.spawned', undefined, 10_000));
    await sup.waitFor('gateway.log', (r) => String(r['line']).includes('http server listening'), 10_000);
    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    fig.set('exitAfterSignalMs', afterMs);
    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(3_000);
    expect(firstSignalRecord(sup, 'SIGTERM')).toMatchObject({ probableCause: 'stopped-before-ready', evidence: expect.objectContaining({ gatewayState: 'starting', everReady: false }) });
    expect(sup.events('gateway.ready')).toHaveLength(0);
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 0 })]);
    await expectGroupGone(pid);
  });

  it('SIGTERM during a backoff wait (10 s delay): exit 0 at once, no further spawn', async () => {
    const fig = scenario('signal.sigterm-during-backoff', 'signal');
    const sup = await start({ env: { FAKE_EXIT_CODE: '1', SUPERVISOR_RESTART_DELAY_MS: '10000', SUPERVISOR_RESTART_MAX_DELAY_MS: '20000' } });
    await sup.waitFor('gateway.restart_scheduled', undefined, 10_000);
    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    fig.set('exitAfterSignalMs', afterMs);
    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(3_000);
    expect(firstSignalRecord(sup, 'SIGTERM')).toMatchObject({ evidence: expect.objectContaining({ gatewayState: 'backoff', recentFailures: 1 }) });
    expect(sup.events('gateway.spawned')).toHaveLength(1);
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 0, reason: 'stopped on signal' })]);
  });

  it('SIGINT: the same graceful stop, exit 0', async () => {
    const fig = scenario('signal.sigint', 'signal');
    const sup = await start();
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const { code, afterMs } = await signalAndWait(sup, 'SIGINT');
    fig.set('exitAfterSignalMs', afterMs);
    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(3_000);
    expect(firstSignalRecord(sup, 'SIGINT')).toMatchObject({ evidence: expect.objectContaining({ fromTerminal: false }) });
    expect(sup.events('supervisor.drain_finished')).toHaveLength(1);
    expect(sup.events('gateway.exited')).toEqual([expect.objectContaining({ gatewayPid: pid, outcome: 'requested-stop' })]);
    await expectGroupGone(pid);
  });

  it('SIGHUP is graceful like SIGTERM: the request in flight completes, a second SIGHUP does not force the stop, exit 0', async () => {
    const fig = scenario('signal.sighup', 'signal');
    const sup = await start({ env: { SUPERVISOR_DRAIN_TIMEOUT_MS: '10000', SUPERVISOR_STOP_TIMEOUT_MS: '4000' } });
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const slow = await inflight(sup, 1_500);
    const sentAt = Date.now();
    sup.signal('SIGHUP');
    expect(await sup.waitFor('supervisor.drain_started', undefined, 5_000)).toMatchObject({ inflightRequests: 1 });
    sup.signal('SIGHUP');
    const done = await slow.done;
    const [exit, at] = await Promise.all([sup.exited, sup.exitedAt]);
    fig.set('exitAfterSignalMs', at - sentAt);
    expect(done.error).toBeUndefined();
    expect(done.res?.status).toBe(200);
    expect(done.res?.body.toString()).toBe('slow done');
    expect(exit.code).toBe(0);
    expect(at - sentAt).toBeLessThan(10_000);
    expect(firstSignalRecord(sup, 'SIGHUP')).toMatchObject({ probableCause: 'terminal-hangup' });
    // The second SIGHUP is ignored, not a forced stop: one signal record, a drain that completed.
    expect(sup.events('supervisor.signal')).toHaveLength(1);
    expect(sup.events('supervisor.drain_finished')).toEqual([expect.objectContaining({ deadlineHit: false, httpCompleted: 1, httpCut: 0 })]);
    await expectGroupGone(pid);
  });
});

describe('signals: forced stops', () => {
  it('a second SIGTERM during a drain stops at once with 143: the WebSocket gets 1001, the request in flight is cut', async () => {
    const fig = scenario('signal.second-sigterm-during-drain', 'signal');
    const sup = await start({ env: { SUPERVISOR_DRAIN_TIMEOUT_MS: '30000', SUPERVISOR_STOP_TIMEOUT_MS: '10000' } });
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const ws = await openWebSocket(`ws://127.0.0.1:${sup.port}/`);
    onCleanup(() => ws.ws.terminate());
    ws.ws.send('hello');
    expect((await ws.next()).text).toBe('hello');
    // The drain waits for this request (20 s) before it signals the gateway.
    const slow = await inflight(sup, 20_000);

    sup.signal('SIGTERM');
    expect(await sup.waitFor('supervisor.drain_started', undefined, 5_000)).toMatchObject({ inflightRequests: 1, openWebSockets: 1 });
    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    fig.set('exitAfterSecondSignalMs', afterMs);
    expect(code).toBe(143);
    expect(afterMs).toBeLessThan(2_000);
    expect(sup.events('supervisor.signal').map((r) => r['repeated'] ?? false)).toEqual([false, true]);
    const closed = await ws.closedWithin(5_000);
    expect(closed.code).toBe(1001);
    const cut = await slow.done;
    expect(cut.res).toBeUndefined();
    expect(cut.error?.message).toMatch(/socket hang up|ECONNRESET|aborted/);
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 143, reason: 'second SIGTERM' })]);
    await expectGroupGone(pid);
  });

  it('SIGTERM then SIGINT while the gateway ignores SIGTERM: exit 130 at once, the group SIGKILLed', async () => {
    const fig = scenario('signal.sigterm-then-sigint', 'signal');
    const sup = await start({ env: { FAKE_IGNORE_SIGTERM: '1', SUPERVISOR_STOP_TIMEOUT_MS: '30000', SUPERVISOR_DRAIN_TIMEOUT_MS: '31000' } });
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    sup.signal('SIGTERM');
    await sup.waitFor('gateway.log', (r) => String(r['line']).includes('received SIGTERM'), 5_000);
    const { code, afterMs } = await signalAndWait(sup, 'SIGINT');
    fig.set('exitAfterSecondSignalMs', afterMs);
    expect(code).toBe(130);
    expect(afterMs).toBeLessThan(2_000);
    expect(sup.events('supervisor.signal').map((r) => [r['signal'] ?? (r['evidence'] as { signal: string }).signal, r['repeated'] ?? false])).toEqual([
      ['SIGTERM', false],
      ['SIGINT', true],
    ]);
    await expectGroupGone(pid);
  });

  it('double SIGTERM in the same instant: one consistent outcome (coalesced → 0, or two records → 143), bounded, nothing left', async () => {
    const fig = scenario('signal.double-sigterm', 'signal');
    const sup = await start();
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const sentAt = Date.now();
    sup.signal('SIGTERM');
    sup.signal('SIGTERM');
    const [exit, at] = await Promise.all([sup.exited, sup.exitedAt]);
    const records = sup.events('supervisor.signal');
    fig.set('exitAfterSignalMs', at - sentAt);
    fig.set('signalRecords', records.length);
    fig.set('exitCode', exit.code);
    expect(at - sentAt).toBeLessThan(3_000);
    // Linux may merge two pending SIGTERMs into one; either way the outcome must match the log.
    expect(records.length === 1 ? [0] : [143]).toContain(exit.code);
    expect(records.length).toBeLessThanOrEqual(2);
    firstSignalRecord(sup, 'SIGTERM');
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: exit.code })]);
    await expectGroupGone(pid);
  });

  it('SIGTERM while the gateway is being killed (startup timeout, it ignores SIGTERM, stop timeout running): exit 0 within the stop timeout, nothing left', async () => {
    const fig = scenario('signal.sigterm-while-killing', 'signal');
    const stopTimeoutMs = 3_000;
    const sup = await start({ env: { FAKE_NEVER_READY: '1', FAKE_IGNORE_SIGTERM: '1', SUPERVISOR_STARTUP_TIMEOUT_MS: '600', SUPERVISOR_STOP_TIMEOUT_MS: String(stopTimeoutMs) } });
    const pid = pidOf(await sup.waitFor('gateway.spawned', undefined, 10_000));
    await sup.waitFor('gateway.startup_timeout', undefined, 10_000);
    // The supervisor's SIGTERM reached the gateway, which ignores it: the stop timeout is running.
    await sup.waitFor('gateway.log', (r) => String(r['line']).includes('received SIGTERM'), 5_000);
    expect(sup.events('gateway.exited')).toHaveLength(0);

    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    fig.set('exitAfterSignalMs', afterMs);
    fig.set('stopTimeoutMs', stopTimeoutMs);
    expect(code).toBe(0);
    expect(afterMs).toBeLessThan(stopTimeoutMs + 2_000);
    expect(firstSignalRecord(sup, 'SIGTERM')).toMatchObject({ evidence: expect.objectContaining({ gatewayState: 'starting', everReady: false }) });
    expect(sup.events('gateway.killed').length).toBeGreaterThanOrEqual(1);
    expect(sup.events('gateway.exited')).toEqual([expect.objectContaining({ gatewayPid: pid, signal: 'SIGKILL' })]);
    // No respawn after the stop was requested.
    expect(sup.events('gateway.spawned')).toHaveLength(1);
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 0 })]);
    await expectGroupGone(pid);
    expect(isRunning(pid)).toBe(false);
  });
});
