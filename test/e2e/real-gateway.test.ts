import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAndCheck, openSession } from '../helpers/gateway-client.mjs';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

// The real openclaw@2026.9.6 on Node 24 from .runtime/ (installed by `npm test`'s pretest).
// One supervisor for the whole file: the gateway takes ~6-10 s to start on 2 cores.
describe('real gateway through the supervisor', () => {
  let sup: RunningSupervisor;
  let notReadyBefore: number[] = [];

  beforeAll(async () => {
    sup = await startSupervisor({ gateway: null, env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '120000' } });
    await sup.waitFor('supervisor.listening', undefined, 20_000);
    // Before the gateway is ready, the front door answers 503 itself: never a refused connection.
    for (let i = 0; i < 3; i++) notReadyBefore.push((await fetch(sup.url('/readyz'))).status);
    await sup.waitFor('gateway.ready', undefined, 120_000);
  }, 150_000);

  afterAll(async () => {
    await sup?.kill();
  });

  it('reports 503 before ready, then 200 with gateway.ready', async () => {
    expect(notReadyBefore).toEqual([503, 503, 503]);
    const ready = sup.events('gateway.ready')[0]!;
    expect(ready['sinceSpawnMs']).toBeGreaterThan(1_000);
    const res = await fetch(sup.url('/readyz'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', state: 'ready' });
  });

  it('spawns the gateway with the owned flags and the token only in its environment', () => {
    const pid = sup.events('gateway.spawned')[0]!['gatewayPid'] as number;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline.join(' ')).not.toContain(sup.token);
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain(`OPENCLAW_GATEWAY_TOKEN=${sup.token}`);
    expect(environ).toContain('OPENCLAW_SUPERVISOR_MODE=external');
    expect(environ.some((entry) => entry.startsWith('SUPERVISOR_'))).toBe(false);
    const spawned = sup.events('gateway.spawned')[0]!['command'] as string[];
    expect(spawned.slice(1)).toEqual(['gateway', 'run', '--allow-unconfigured', '--bind', 'loopback', '--port', String(sup.gatewayPort), '--auth', 'token']);
  });

  it('forwards a WebSocket connect + health with the token', async () => {
    const result = await connectAndCheck(`ws://127.0.0.1:${sup.port}/`, sup.token);
    expect(result.hello).toMatchObject({ ok: true, type: 'hello-ok' });
    expect(result.health).toMatchObject({ ok: true });
  });

  it('passes the gateway 1008 for a wrong token through the front door', async () => {
    const result = await connectAndCheck(`ws://127.0.0.1:${sup.port}/`, 'wrong-token-123456');
    expect(result.hello?.ok).toBe(false);
    expect(result.hello?.error?.details?.code).toBe('AUTH_TOKEN_MISMATCH');
    expect(result.close?.code).toBe(1008);
  });

  it('forwards the gateway own endpoints and answers /healthz itself', async () => {
    const gatewayHealth = await fetch(sup.url('/health'));
    expect(await gatewayHealth.json()).toMatchObject({ ok: true, status: 'live' });
    const own = await fetch(sup.url('/healthz'));
    expect(await own.json()).toMatchObject({ status: 'ok', state: 'ready', gateway: 'ready' });
  });

  it('on SIGTERM closes an open WebSocket with a code and exits 0 with a diagnosis', async () => {
    const session = await openSession(`ws://127.0.0.1:${sup.port}/`, sup.token);
    expect(session.hello?.ok).toBe(true);
    sup.signal('SIGTERM');
    const close = await session.closed;
    expect(close.code).toBe(1012);
    expect(session.events.some((event) => event.event === 'shutdown')).toBe(true);
    const exit = await sup.exited;
    expect(exit.code).toBe(0);
    const signal = sup.events('supervisor.signal')[0]!;
    expect(signal['probableCause']).toBe('external-stop');
    expect(signal['evidence']).toMatchObject({ signal: 'SIGTERM', gatewayState: 'ready', everReady: true, restarts: 0 });
    expect(sup.events('supervisor.drain_finished')[0]).toMatchObject({ deadlineHit: false, websocketsClosed: 1, websocketsCut: 0 });
    expect(sup.events('gateway.exited')[0]).toMatchObject({ code: 0, outcome: 'requested-stop' });
    // The token never reached a log line, an error or the gateway's relayed output.
    expect(sup.output.join('\n')).not.toContain(sup.token);
  }, 30_000);
});
