import { afterEach, describe, expect, it } from 'vitest';
import { RawConnection, httpRequest, openWebSocket, tryConnect, within, type HttpResult, type WsProbe } from '../helpers/front-door-clients.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

let sup: RunningSupervisor | undefined;
const sockets: WsProbe[] = [];
const connections: RawConnection[] = [];
afterEach(async () => {
  for (const probe of sockets.splice(0)) probe.ws.terminate();
  for (const connection of connections.splice(0)) connection.destroy();
  await sup?.kill();
  sup = undefined;
});

async function rawConnection(port: number): Promise<RawConnection> {
  const connection = await RawConnection.open(port);
  connections.push(connection);
  return connection;
}

/** Resolves with the response, or with the error that cut it, and when either happened. */
function settle(request: Promise<HttpResult>): Promise<{ res?: HttpResult; error?: Error & { code?: string }; at: number }> {
  return request.then(
    (res) => ({ res, at: Date.now() }),
    (error: Error & { code?: string }) => ({ error, at: Date.now() }),
  );
}

describe('drain on SIGTERM', () => {
  it('finishes in-flight HTTP, then lets the gateway close its WebSockets (shutdown event, 1012), refuses the rest and exits 0', async () => {
    // The gateway's SIGTERM may wait up to drain - stop = 6 s for in-flight HTTP: /slow?ms=1500 finishes first.
    sup = await startSupervisor({ env: { SUPERVISOR_DRAIN_TIMEOUT_MS: '10000', SUPERVISOR_STOP_TIMEOUT_MS: '4000' } });
    const s = sup;
    await s.waitFor('gateway.ready');

    const probe = await openWebSocket(`ws://127.0.0.1:${s.port}/`);
    sockets.push(probe);
    probe.ws.send('hi');
    expect((await probe.next()).text).toBe('hi');

    // An idle keep-alive connection (one request done) and connections that have not sent a request yet.
    const idle = await rawConnection(s.port);
    idle.write(`GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect((await idle.readResponse()).status).toBe(200);
    const forReadyz = await rawConnection(s.port);
    const forHealthz = await rawConnection(s.port);
    const forPage = await rawConnection(s.port);

    const slow = settle(httpRequest({ port: s.port, path: '/slow?ms=1500', timeoutMs: 15_000 }));
    // One round trip on another connection: the slow request, sent first, is in flight by now.
    expect((await httpRequest({ port: s.port, path: '/headers' })).status).toBe(200);

    const signalledAt = Date.now();
    s.signal('SIGTERM');
    const started = await s.waitFor('supervisor.drain_started', undefined, 5_000);
    expect(started).toMatchObject({ inflightRequests: 1, openWebSockets: 1, deadlineMs: 10_000 });

    // The listener is closed: a new connection is refused, not queued.
    expect(await tryConnect(s.port)).toBe('ECONNREFUSED');
    // The idle keep-alive connection is closed by the front door.
    expect(await idle.closedWithin(3_000)).toBe(true);

    // A connection that was open before SIGTERM still gets answers, each ending its connection.
    forReadyz.write(`GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const readyz = await forReadyz.readResponse();
    expect(readyz.status).toBe(503);
    expect(JSON.parse(readyz.body)).toMatchObject({ status: 'unavailable', state: 'draining', gateway: 'ready', draining: true });
    expect(readyz.headers['connection']).toBe('close');
    expect(await forReadyz.closedWithin(3_000)).toBe(true);

    forHealthz.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const healthz = await forHealthz.readResponse();
    expect(healthz.status).toBe(200);
    expect(JSON.parse(healthz.body)).toMatchObject({ status: 'ok', state: 'draining' });

    forPage.write(`GET /new-work HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const page = await forPage.readResponse();
    expect(page.status).toBe(503);
    expect(page.headers['retry-after']).toBe('5');
    expect(JSON.parse(page.body)).toMatchObject({ error: 'unavailable', state: 'draining' });
    expect(await forPage.closedWithin(3_000)).toBe(true);

    // The request in flight completes, on a connection that ends with it.
    const slowDone = await slow;
    expect(slowDone.error).toBeUndefined();
    expect(slowDone.res?.status).toBe(200);
    expect(slowDone.res?.body.toString()).toBe('slow done');
    expect(slowDone.res?.headers['connection']).toBe('close');

    // Only then does the gateway get SIGTERM: its shutdown event reaches the WebSocket, then 1012.
    const shutdown = await probe.next(10_000);
    const shutdownAt = Date.now();
    expect(JSON.parse(shutdown.text)).toEqual({ type: 'event', event: 'shutdown' });
    expect(shutdownAt).toBeGreaterThanOrEqual(slowDone.at);
    const closed = await probe.closedWithin(10_000);
    expect(closed.code).toBe(1012);
    expect(closed.reason).toBe('service restart');
    expect(probe.errors).toEqual([]);

    const exit = await within(s.exited, 15_000, 'supervisor exit');
    expect(exit.code).toBe(0);
    expect(closed.at).toBeLessThanOrEqual(exit.at);
    expect(exit.at - signalledAt).toBeLessThan(10_000);

    const finished = s.events('supervisor.drain_finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ deadlineHit: false, httpCompleted: 1, httpRejected: 1, httpCut: 0, websocketsClosed: 1, websocketsCut: 0 });
    expect(s.events('gateway.exited').at(-1)).toMatchObject({ code: 0, outcome: 'requested-stop' });
    expect(s.events('supervisor.exited').at(-1)).toMatchObject({ code: 0 });
  });

  it('cuts what is left at the drain deadline: WebSockets get 1001 from the front door, requests are cut, exit within the deadline', async () => {
    sup = await startSupervisor({ env: { SUPERVISOR_DRAIN_TIMEOUT_MS: '1500', SUPERVISOR_STOP_TIMEOUT_MS: '1000', FAKE_IGNORE_SIGTERM: '1' } });
    const s = sup;
    await s.waitFor('gateway.ready');
    const probe = await openWebSocket(`ws://127.0.0.1:${s.port}/`);
    sockets.push(probe);
    probe.ws.send('hi');
    expect((await probe.next()).text).toBe('hi');
    const slow = settle(httpRequest({ port: s.port, path: '/slow?ms=10000', timeoutMs: 20_000 }));
    expect((await httpRequest({ port: s.port, path: '/headers' })).status).toBe(200);

    const signalledAt = Date.now();
    s.signal('SIGTERM');
    expect(await s.waitFor('supervisor.drain_started', undefined, 5_000)).toMatchObject({ inflightRequests: 1, openWebSockets: 1, deadlineMs: 1500 });

    const closed = await probe.closedWithin(6_000);
    expect(closed.code).toBe(1001);
    expect(closed.reason).toBe('supervisor shutting down');
    expect(probe.errors).toEqual([]);
    // Not before the deadline (the gateway ignores SIGTERM and keeps the session open until then).
    expect(closed.at - signalledAt).toBeGreaterThanOrEqual(1_300);

    const cut = await slow;
    expect(cut.res).toBeUndefined();
    expect(cut.error?.message).toMatch(/socket hang up|ECONNRESET|aborted/);
    expect(cut.at - signalledAt).toBeGreaterThanOrEqual(1_300);

    const exit = await within(s.exited, 15_000, 'supervisor exit');
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(1_500 + 1_500);

    const finished = s.events('supervisor.drain_finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ deadlineHit: true, websocketsCut: 1, httpCut: 1, websocketsClosed: 0, httpCompleted: 0 });
    expect(finished[0]?.['durationMs']).toBeLessThan(1_500 + 500);
    // The gateway got SIGTERM (and ignored it), then SIGKILL.
    expect(s.output.some((line) => line.includes('received SIGTERM; shutting down'))).toBe(true);
    expect(s.events('gateway.exited').at(-1)).toMatchObject({ signal: 'SIGKILL', outcome: 'requested-stop' });
  });
});
