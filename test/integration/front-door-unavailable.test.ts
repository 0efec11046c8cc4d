import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest, openWebSocket, refusedUpgrade, within, type WsProbe } from '../helpers/front-door-clients.js';
import { pidOf } from '../helpers/records.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

let sup: RunningSupervisor | undefined;
const sockets: WsProbe[] = [];
afterEach(async () => {
  for (const probe of sockets.splice(0)) probe.ws.terminate();
  await sup?.kill();
  sup = undefined;
});


describe('front door: gateway not ready', () => {
  it('answers 503 with Retry-After to HTTP and to WebSocket upgrades while the gateway starts, never refusing', async () => {
    sup = await startSupervisor({ env: { FAKE_READY_AFTER_MS: '4000' } });
    const s = sup;
    await s.waitFor('gateway.spawned');

    const res = await fetch(s.url('/some/page?x=1'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ error: 'unavailable', state: 'starting', retryAfterSeconds: 5 });

    const readyz = await fetch(s.url('/readyz'));
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toMatchObject({ status: 'unavailable', state: 'starting', gateway: 'starting', draining: false });
    // Alive while starting: a platform must not restart us for a slow gateway start.
    const healthz = await fetch(s.url('/healthz'));
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toMatchObject({ status: 'ok', state: 'starting' });

    const refused = await refusedUpgrade(`ws://127.0.0.1:${s.port}/`);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(refused.body)).toEqual({ error: 'unavailable', state: 'starting', retryAfterSeconds: 5 });
    // Still starting when we checked: the 503s above were not a race with readiness.
    expect(s.events('gateway.ready')).toHaveLength(0);

    await s.waitFor('gateway.ready', undefined, 20_000);
    expect((await fetch(s.url('/some/page'))).status).toBe(200);
    const probe = await openWebSocket(`ws://127.0.0.1:${s.port}/`);
    sockets.push(probe);
    probe.ws.send('up');
    expect((await probe.next()).text).toBe('up');
  });

  it('answers only 200, 503 or 502 while the gateway crashes and restarts, and 200 again once it is back', async () => {
    sup = await startSupervisor({ env: { FAKE_READY_AFTER_MS: '300', FAKE_EXIT_AFTER_MS: '1500', FAKE_EXIT_CODE: '3', SUPERVISOR_RESTART_LIMIT_BURST: '50' } });
    const s = sup;
    await s.waitFor('gateway.ready');
    const statuses: number[] = [];
    const states = new Set<string>();
    const errors: string[] = [];
    let sawOutage = false;
    let recovered = false;
    const deadline = Date.now() + 15_000;
    for (let i = 0; i < 2_000 && Date.now() < deadline && !recovered; i++) {
      try {
        const res = await fetch(s.url(`/poll?i=${i}`), { signal: AbortSignal.timeout(5_000) });
        const body = await res.text();
        statuses.push(res.status);
        if (res.status !== 200) {
          sawOutage = true;
          const parsed = JSON.parse(body) as { state?: string; error: string };
          states.add(parsed.state ?? parsed.error);
        } else if (sawOutage && s.events('gateway.ready').length >= 2) {
          recovered = true;
        }
      } catch (error) {
        errors.push(String((error as Error & { cause?: Error }).cause ?? error));
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(errors).toEqual([]);
    expect(sawOutage).toBe(true);
    expect(recovered).toBe(true);
    expect(new Set(statuses.filter((status) => ![200, 502, 503].includes(status)))).toEqual(new Set());
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
    // Between the crash and the restart the front door says why.
    for (const state of states) expect(['backoff', 'starting', 'bad_gateway']).toContain(state);
    expect(s.events('gateway.exited').length).toBeGreaterThanOrEqual(1);
  });
});

describe('front door: gateway dies under load', () => {
  it('answers 502 to every request in flight when the gateway is SIGKILLed, logs one upstream_error and later the recovery', async () => {
    sup = await startSupervisor();
    const s = sup;
    const pid = pidOf(await s.waitFor('gateway.spawned'));
    await s.waitFor('gateway.ready');
    const inflight = Array.from({ length: 4 }, (_, i) => httpRequest({ port: s.port, path: `/slow?ms=5000&i=${i}`, timeoutMs: 10_000 }));
    // One round trip over the same path: the slow requests, sent first, are at the gateway by now.
    expect((await httpRequest({ port: s.port, path: '/headers' })).status).toBe(200);

    process.kill(-pid, 'SIGKILL');
    const results = await Promise.all(inflight);
    for (const res of results) {
      expect(res.status).toBe(502);
      expect(res.headers['retry-after']).toBe('1');
      expect(JSON.parse(res.body.toString())).toMatchObject({ error: 'bad_gateway' });
    }
    const incident = await s.waitFor('front_door.upstream_error', undefined, 5_000);
    expect(incident).toMatchObject({ kind: 'http', level: 'error' });

    // The restart brings it back; the first success closes the incident with what it cost.
    await s.waitFor('gateway.ready', (record) => pidOf(record) !== pid, 20_000);
    expect((await httpRequest({ port: s.port, path: '/after' })).status).toBe(200);
    const recovered = await s.waitFor('front_door.upstream_recovered', undefined, 5_000);
    expect(recovered['failedRequests']).toBe(4);
    expect(s.events('front_door.upstream_error')).toHaveLength(1);
  });

  it('cuts a response whose body was under way, instead of ending it as if complete', async () => {
    sup = await startSupervisor();
    const s = sup;
    const pid = pidOf(await s.waitFor('gateway.spawned'));
    await s.waitFor('gateway.ready');
    const outcome = await within(
      new Promise<{ status: number; received: string; ending: string }>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: s.port, path: '/chunked?n=2000', agent: false }, (res) => {
          let received = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (received === '') process.kill(-pid, 'SIGKILL');
            received += chunk;
          });
          res.once('end', () => resolve({ status: res.statusCode ?? 0, received, ending: 'complete' }));
          res.once('aborted', () => resolve({ status: res.statusCode ?? 0, received, ending: 'aborted' }));
          res.once('error', () => resolve({ status: res.statusCode ?? 0, received, ending: 'error' }));
        });
        req.once('error', reject);
      }),
      15_000,
      'cut chunked response',
    );
    expect(outcome.status).toBe(200);
    expect(outcome.received).toMatch(/^chunk 0\n/);
    expect(outcome.received).not.toContain('chunk 1999');
    expect(outcome.ending).not.toBe('complete');
  });

  it('closes an open WebSocket with 1012 when the gateway dies, instead of resetting it', async () => {
    sup = await startSupervisor();
    const s = sup;
    const pid = pidOf(await s.waitFor('gateway.spawned'));
    await s.waitFor('gateway.ready');
    const probes = [await openWebSocket(`ws://127.0.0.1:${s.port}/`), await openWebSocket(`ws://127.0.0.1:${s.port}/`, ['chat.v2'], { perMessageDeflate: false })];
    sockets.push(...probes);
    for (const probe of probes) {
      probe.ws.send('before');
      expect((await probe.next()).text).toBe('before');
    }
    process.kill(-pid, 'SIGKILL');
    for (const probe of probes) {
      const closed = await probe.closedWithin(5_000);
      expect(closed.code).toBe(1012);
      expect(closed.reason).toBe('gateway restarting');
      expect(probe.errors).toEqual([]);
    }
    // A client that reconnects once the gateway is back gets through.
    await s.waitFor('gateway.ready', (record) => pidOf(record) !== pid, 20_000);
    const again = await openWebSocket(`ws://127.0.0.1:${s.port}/`);
    sockets.push(again);
    again.ws.send('after');
    expect((await again.next()).text).toBe('after');
  });
});
