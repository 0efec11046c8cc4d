import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { pollInBackground, probe } from '../helpers/http-probe.js';
import { freePort } from '../helpers/ports.js';
import { isRunning } from '../helpers/proc.js';
import { pidOf, timeOf } from '../helpers/records.js';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

let sup: RunningSupervisor | undefined;
let squatter: http.Server | undefined;
afterEach(async () => {
  await sup?.kill();
  sup = undefined;
  await new Promise<void>((resolve) => (squatter ? squatter.close(() => resolve()) : resolve()));
  squatter = undefined;
});

const json = (body: string): Record<string, unknown> => JSON.parse(body) as Record<string, unknown>;

describe('gateway readiness', () => {
  it('answers /readyz 503 while the gateway starts (port open included) and 200 once /startupz is 200', async () => {
    sup = await startSupervisor({ env: { FAKE_LISTEN_AFTER_MS: '300', FAKE_READY_AFTER_MS: '1500' } });
    const spawned = await sup.waitFor('gateway.spawned', undefined, 10_000);

    // The front door is up before the gateway is: not ready yet.
    await sup.waitFor('supervisor.listening', undefined, 10_000);
    const early = await probe(sup.url('/readyz'));
    expect(early).toMatchObject({ ok: true, status: 503 });

    // The gateway's port is open but /startupz still says 503: that must not count as ready.
    await sup.waitFor('gateway.log', (r) => String(r['line']).includes('http server listening'), 10_000);
    const direct = await probe(`http://127.0.0.1:${sup.gatewayPort}/startupz`);
    expect(direct).toMatchObject({ ok: true, status: 503 });
    const portOpen = await probe(sup.url('/readyz'));
    expect(portOpen).toMatchObject({ ok: true, status: 503 });
    if (portOpen.ok) expect(json(portOpen.body)).toMatchObject({ status: 'unavailable', gateway: 'starting' });
    expect(sup.events('gateway.ready')).toHaveLength(0);

    const ready = await sup.waitFor('gateway.ready', undefined, 10_000);
    expect(ready['gatewayPid']).toBe(pidOf(spawned));
    expect(ready['sinceSpawnMs']).toBeGreaterThanOrEqual(1500);
    // Detected promptly (the probe polls every 20 ms), generous for a loaded machine.
    expect(ready['sinceSpawnMs']).toBeLessThan(4_000);
    expect(timeOf(ready) - timeOf(spawned)).toBeGreaterThanOrEqual(1500);

    const after = await probe(sup.url('/readyz'));
    expect(after).toMatchObject({ ok: true, status: 200 });
    if (after.ok) expect(json(after.body)).toMatchObject({ status: 'ok', gateway: 'ready' });
  });

  it('kills and restarts a gateway that is never ready within SUPERVISOR_STARTUP_TIMEOUT_MS', async () => {
    sup = await startSupervisor({
      env: { FAKE_NEVER_READY: '1', FAKE_PRINT_TOKEN: '1', SUPERVISOR_STARTUP_TIMEOUT_MS: '800', SUPERVISOR_RESTART_DELAY_MS: '50' },
    });
    const first = await sup.waitFor('gateway.spawned', undefined, 10_000);
    const firstPid = pidOf(first);

    const timeout = await sup.waitFor('gateway.startup_timeout', undefined, 10_000);
    expect(timeout).toMatchObject({ level: 'error', gatewayPid: firstPid, timeoutMs: 800 });
    expect(timeOf(timeout) - timeOf(first)).toBeGreaterThanOrEqual(800);
    // The tail of the gateway's stderr explains the failed start (and is redacted).
    const tail = timeout['stderrTail'];
    expect(Array.isArray(tail)).toBe(true);
    expect(tail as string[]).toContain('debug: token=[REDACTED]');

    const exited = await sup.waitFor('gateway.exited', (r) => r['gatewayPid'] === firstPid, 10_000);
    expect(exited).toMatchObject({ outcome: 'failure', wasReady: false });
    expect(isRunning(firstPid)).toBe(false);
    // The supervisor's own SIGTERM is not reported as foreign.
    expect(sup.events('gateway.foreign_signal')).toHaveLength(0);
    expect(await sup.waitFor('gateway.restart_scheduled', undefined, 5_000)).toMatchObject({ reason: 'startup-timeout', attempt: 1 });

    const second = await sup.waitFor('gateway.spawned', (r) => r['spawns'] === 2, 10_000);
    expect(pidOf(second)).not.toBe(firstPid);
    expect(sup.events('gateway.ready')).toHaveLength(0);
  });
});

describe('gateway exit codes', () => {
  it('exit 78 is a refusal: no retry, gateway.refused with the stderr tail, supervisor exits 78', async () => {
    sup = await startSupervisor({ env: { FAKE_EXIT_CODE: '78' } });
    const exit = await sup.exited;
    expect(exit.code).toBe(78);

    expect(sup.events('gateway.spawned')).toHaveLength(1);
    expect(sup.events('gateway.restart_scheduled')).toHaveLength(0);
    const [refused] = sup.events('gateway.refused');
    expect(refused).toMatchObject({ level: 'error', code: 78 });
    expect(refused!['stderrTail']).toContain('fake gateway: exiting with 78 at once');
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 78 })]);
  });

  it('exit 0 after ready is a restart request: respawned at once, without backoff, and ready again', async () => {
    // A backoff would take at least 3 s here: the respawn must come far sooner.
    sup = await startSupervisor({ env: { SUPERVISOR_RESTART_DELAY_MS: '3000', SUPERVISOR_RESTART_MAX_DELAY_MS: '6000' } });
    const ready = await sup.waitFor('gateway.ready', undefined, 10_000);
    const firstPid = pidOf(ready);

    process.kill(firstPid, 'SIGUSR2');
    const exited = await sup.waitFor('gateway.exited', (r) => r['gatewayPid'] === firstPid, 10_000);
    expect(exited).toMatchObject({ code: 0, outcome: 'restart-request', wasReady: true });
    const scheduled = await sup.waitFor('gateway.restart_scheduled', undefined, 5_000);
    expect(scheduled).toMatchObject({ reason: 'restart-request', delayMs: 0 });

    const respawned = await sup.waitFor('gateway.spawned', (r) => r['spawns'] === 2, 5_000);
    expect(timeOf(respawned) - timeOf(exited)).toBeLessThan(1_500);
    const readyAgain = await sup.waitFor('gateway.ready', (r) => r['gatewayPid'] === pidOf(respawned), 10_000);
    expect(readyAgain['gatewayPid']).not.toBe(firstPid);
    expect(await probe(sup.url('/readyz'))).toMatchObject({ ok: true, status: 200 });
    // A restart request is no failure.
    expect(sup.events('gateway.restart_scheduled').filter((r) => r['reason'] !== 'restart-request')).toHaveLength(0);
  });
});

describe('foreign signals and ports', () => {
  it('logs gateway.foreign_signal when someone else sends the gateway SIGTERM, then respawns it', async () => {
    sup = await startSupervisor();
    const ready = await sup.waitFor('gateway.ready', undefined, 10_000);
    const pid = pidOf(ready);

    process.kill(pid, 'SIGTERM');
    const foreign = await sup.waitFor('gateway.foreign_signal', undefined, 5_000);
    expect(foreign).toMatchObject({ level: 'warn', signal: 'SIGTERM', gatewayPid: pid });

    // The fake exits 0 on SIGTERM after it was ready: a restart request, so it comes back.
    await sup.waitFor('gateway.spawned', (r) => r['spawns'] === 2, 5_000);
    await sup.waitFor('gateway.ready', (r) => r['gatewayPid'] !== pid, 10_000);
    // Our own stop is not foreign.
    sup.signal('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    expect(sup.events('gateway.foreign_signal')).toHaveLength(1);
  });

  it('does not take a squatter on the gateway port for the gateway: port_in_use, bounded retries, crash loop', async () => {
    const gatewayPort = await freePort();
    // Answers 200 (with a fresh uptime) to everything, /startupz included.
    squatter = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, status: 'started', uptimeMs: 1 }));
    });
    await new Promise<void>((resolve) => squatter!.listen(gatewayPort, '127.0.0.1', resolve));

    sup = await startSupervisor({
      env: { SUPERVISOR_GATEWAY_PORT: String(gatewayPort), SUPERVISOR_RESTART_LIMIT_BURST: '3', SUPERVISOR_RESTART_DELAY_MS: '100' },
    });
    await sup.waitFor('supervisor.listening', undefined, 10_000);
    const readyz = pollInBackground(sup.url('/readyz'), 30);
    const exit = await sup.exited;
    const polls = await readyz.stop();

    expect(exit.code).toBe(1);
    const inUse = sup.events('gateway.port_in_use');
    expect(inUse).toHaveLength(3);
    expect(inUse[0]).toMatchObject({ level: 'error', gatewayPort });
    expect(sup.events('gateway.restart_scheduled').map((r) => r['reason'])).toEqual(['port-in-use', 'port-in-use']);
    expect(sup.events('gateway.crash_loop')).toHaveLength(1);
    expect(sup.events('gateway.ready')).toHaveLength(0);
    expect(sup.events('gateway.spawned')).toHaveLength(0);
    expect(polls.length).toBeGreaterThan(0);
    expect(polls.some((p) => p.ok && p.status === 200)).toBe(false);
    // A clean give-up, not an internal error.
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 1 })]);
    expect(sup.output.filter((line) => /^\s+at /.test(line))).toEqual([]);
  });
});
