import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { httpRequest, within } from '../helpers/front-door-clients.js';
import { pollInBackground, probe } from '../helpers/http-probe.js';
import { freePort } from '../helpers/ports.js';
import { isRunning } from '../helpers/proc.js';
import { pidOf, timeOf } from '../helpers/records.js';
import type { LogRecord } from '../helpers/supervisor.js';
import { expectGroupGone, onCleanup, signalAndWait, start, useSupervisors, type Supervised } from './helpers/common.js';
import { scenario } from './helpers/figures.js';

useSupervisors();

/** For each respawn: ms from the previous gateway's exit to the next spawn (log timestamps). */
function waitsBeforeRespawn(sup: Supervised): number[] {
  const exits = sup.events('gateway.exited');
  return sup
    .events('gateway.spawned')
    .slice(1)
    .map((spawned, i) => timeOf(spawned) - timeOf(exits[i]!));
}

/** The bounds p-retry's jittered backoff must keep for the n-th retry (n from 0): [d·fⁿ, 2·d·fⁿ], capped. */
function expectedBounds(n: number, initial: number, factor: number, cap: number): [number, number] {
  const base = initial * factor ** n;
  return [Math.min(Math.round(base), cap), Math.min(Math.round(2 * base), cap)];
}

/** Scheduling slack on a shared 2-core machine: port check, spawn, a busy event loop. */
const SLACK_MS = 700;

describe('faults: the gateway crashes', () => {
  it('crash loop: 10 immediate exits with growing, bounded delays, /healthz answering throughout, then gateway.crash_loop and exit 1', async () => {
    const fig = scenario('fault.crash-loop', 'fault');
    const initial = 25;
    const cap = 400;
    const burst = 10;
    const sup = await start({
      env: {
        FAKE_EXIT_CODE: '1',
        SUPERVISOR_RESTART_LIMIT_BURST: String(burst),
        SUPERVISOR_RESTART_DELAY_MS: String(initial),
        SUPERVISOR_RESTART_MAX_DELAY_MS: String(cap),
        SUPERVISOR_RESTART_FACTOR: '2',
      },
    });
    await sup.waitFor('supervisor.listening', undefined, 10_000);
    const health = pollInBackground(sup.url('/healthz'), 20);
    const exit = await within(sup.exited, 30_000, 'crash-loop exit');
    const polls = await health.stop();

    expect(exit.code).toBe(1);
    expect(sup.events('gateway.spawned')).toHaveLength(burst);
    expect(sup.events('gateway.exited').map((r) => [r['code'], r['outcome'], r['wasReady']])).toEqual(Array.from({ length: burst }, () => [1, 'failure', false]));

    // Announced: one restart per failure but the last, attempt n within [d·2ⁿ⁻¹, 2·d·2ⁿ⁻¹] capped at the maximum.
    const scheduled = sup.events('gateway.restart_scheduled');
    expect(scheduled.map((r) => [r['reason'], r['attempt'], r['delayMinMs'], r['delayMaxMs']])).toEqual(
      Array.from({ length: burst - 1 }, (_, n) => ['failure', n + 1, ...expectedBounds(n, initial, 2, cap)]),
    );
    const mins = scheduled.map((r) => Number(r['delayMinMs']));
    for (let i = 1; i < mins.length; i++) expect(mins[i]).toBeGreaterThanOrEqual(mins[i - 1]!);
    expect(mins.at(-1)).toBe(cap);

    // Kept: every wait between an exit and the next spawn within its announced bounds (plus slack).
    const waits = waitsBeforeRespawn(sup);
    expect(waits).toHaveLength(burst - 1);
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(Number(scheduled[i]!['delayMinMs']) - 2);
      expect(wait).toBeLessThanOrEqual(Number(scheduled[i]!['delayMaxMs']) + SLACK_MS);
    });
    // Grown: the last waits sit at the cap, at least 16 times the first delay.
    expect(Math.min(...waits.slice(-3))).toBeGreaterThanOrEqual(cap - 2);

    const crashLoop = sup.events('gateway.crash_loop');
    expect(crashLoop).toHaveLength(1);
    expect(crashLoop[0]).toMatchObject({ level: 'error', failures: burst, limitBurst: burst, lastExit: expect.objectContaining({ code: 1 }) });
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 1, reason: 'gateway crash loop' })]);

    // /healthz: 200 on every poll made while restarts were still within policy, never a refused connection.
    const crashLoopAt = timeOf(crashLoop[0]!);
    const during = polls.filter((p) => p.startedAt < crashLoopAt - 100);
    const bad = during.filter((p) => !p.ok || p.status !== 200);
    fig.set('spawns', sup.events('gateway.spawned').length);
    fig.set('announcedMinDelaysMs', mins);
    fig.set('respawnWaitsMs', waits);
    fig.set('healthzPolls', during.length);
    fig.set('timeToGiveUpMs', crashLoopAt - timeOf(sup.events('gateway.spawned')[0]!));
    fig.lost('healthzFailures', bad.length);
    expect(during.length).toBeGreaterThan(20);
    expect(bad).toEqual([]);
  });

  it('SIGKILL of the gateway (as the OOM killer would): gateway.exited with signal SIGKILL and cgroup memory, restarted with a growing backoff', async () => {
    const fig = scenario('fault.sigkill-oom', 'fault');
    const sup = await start({ env: { SUPERVISOR_RESTART_DELAY_MS: '200', SUPERVISOR_RESTART_MAX_DELAY_MS: '2000' } });
    const kills: Array<{ exited: LogRecord; scheduled: LogRecord; waitMs: number }> = [];
    let ready = await sup.waitFor('gateway.ready', undefined, 10_000);
    for (let round = 1; round <= 2; round++) {
      const pid = pidOf(ready);
      process.kill(pid, 'SIGKILL');
      const exited = await sup.waitFor('gateway.exited', (r) => r['gatewayPid'] === pid, 10_000);
      const scheduled = await sup.waitFor('gateway.restart_scheduled', (r) => r['attempt'] === round, 5_000);
      const spawned = await sup.waitFor('gateway.spawned', (r) => r['spawns'] === round + 1, 10_000);
      ready = await sup.waitFor('gateway.ready', (r) => r['gatewayPid'] === pidOf(spawned), 10_000);
      kills.push({ exited, scheduled, waitMs: timeOf(spawned) - timeOf(exited) });
      expect(isRunning(pid)).toBe(false);
    }

    for (const [i, { exited, scheduled, waitMs }] of kills.entries()) {
      expect(exited).toMatchObject({ level: 'error', code: null, signal: 'SIGKILL', outcome: 'failure', wasReady: true });
      // The cgroup counters are there (null-valued where unreadable), so the log tells an OOM kill from another SIGKILL.
      expect(exited).toHaveProperty('memory');
      const memory = exited['memory'] as Record<string, unknown> | null;
      if (memory !== null) {
        expect(Object.keys(memory).sort()).toEqual(['currentBytes', 'maxBytes', 'oom', 'oomKill']);
        expect(typeof memory['currentBytes']).toBe('number');
      }
      expect(scheduled).toMatchObject({ reason: 'failure', attempt: i + 1, delayMinMs: 200 * 2 ** i, delayMaxMs: 400 * 2 ** i });
      expect(waitMs).toBeGreaterThanOrEqual(Number(scheduled['delayMinMs']) - 2);
      expect(waitMs).toBeLessThanOrEqual(Number(scheduled['delayMaxMs']) + SLACK_MS);
    }
    // The supervisor did not send that SIGKILL: no gateway.killed.
    expect(sup.events('gateway.killed')).toHaveLength(0);
    // Serving again after the second kill.
    expect((await httpRequest({ port: sup.port, path: '/after-oom' })).status).toBe(200);

    const memory = kills[0]!.exited['memory'] as { currentBytes?: number } | null;
    fig.set('respawnWaitsMs', kills.map((k) => k.waitMs));
    fig.set('memoryFieldPresent', kills.every((k) => 'memory' in k.exited));
    fig.set('cgroupMemoryCurrentMb', memory?.currentBytes === undefined ? null : Math.round(memory.currentBytes / 1048576));
  });

  it('a gateway that hangs on SIGTERM (and a grandchild that ignores it) is SIGKILLed after SUPERVISOR_STOP_TIMEOUT_MS; nothing of its group survives', async () => {
    const fig = scenario('fault.hang-on-sigterm', 'fault');
    const stopTimeoutMs = 1_500;
    const sup = await start({ env: { FAKE_IGNORE_SIGTERM: '1', FAKE_GRANDCHILD_IGNORES_TERM: '1', SUPERVISOR_STOP_TIMEOUT_MS: String(stopTimeoutMs) } });
    const pid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const line = await sup.waitFor('gateway.log', (r) => /^grandchild \d+$/.test(String(r['line'])), 10_000);
    const grandchild = Number(String(line['line']).split(' ')[1]);
    expect(isRunning(grandchild)).toBe(true);

    const { code, afterMs } = await signalAndWait(sup, 'SIGTERM');
    fig.set('exitAfterSignalMs', afterMs);
    fig.set('stopTimeoutMs', stopTimeoutMs);
    expect(code).toBe(0);
    expect(afterMs).toBeGreaterThanOrEqual(stopTimeoutMs - 100);
    expect(afterMs).toBeLessThan(stopTimeoutMs + 2_000);
    expect(sup.events('gateway.killed')).toEqual([expect.objectContaining({ gatewayPid: pid, graceMs: stopTimeoutMs, reason: 'stop' })]);
    expect(sup.events('gateway.exited').at(-1)).toMatchObject({ gatewayPid: pid, signal: 'SIGKILL', outcome: 'requested-stop' });
    expect(sup.events('supervisor.signal')).toHaveLength(1);
    await expectGroupGone(pid);
    expect(isRunning(grandchild)).toBe(false);
    fig.lost('survivors', isRunning(grandchild) || isRunning(pid) ? 1 : 0);
  });

  it('a gateway that never becomes ready: startup timeout with the last stderr lines, killed (it ignores SIGTERM too) and restarted', async () => {
    const fig = scenario('fault.never-ready', 'fault');
    const sup = await start({
      env: { FAKE_NEVER_READY: '1', FAKE_PRINT_TOKEN: '1', FAKE_IGNORE_SIGTERM: '1', SUPERVISOR_STARTUP_TIMEOUT_MS: '800', SUPERVISOR_STOP_TIMEOUT_MS: '400', SUPERVISOR_RESTART_DELAY_MS: '50' },
    });
    await sup.waitFor('supervisor.listening', undefined, 10_000);
    const readyz = pollInBackground(sup.url('/readyz'), 50);
    const timeouts: LogRecord[] = [];
    for (let round = 1; round <= 2; round++) {
      const spawned = await sup.waitFor('gateway.spawned', (r) => r['spawns'] === round, 10_000);
      const pid = pidOf(spawned);
      const timeout = await sup.waitFor('gateway.startup_timeout', (r) => r['gatewayPid'] === pid, 10_000);
      expect(timeout).toMatchObject({ level: 'error', timeoutMs: 800 });
      expect(timeOf(timeout) - timeOf(spawned)).toBeGreaterThanOrEqual(790);
      // The stderr tail says what the gateway last said, redacted.
      expect(timeout['stderrTail']).toEqual(expect.arrayContaining(['debug: token=[REDACTED]']));
      expect(await sup.waitFor('gateway.killed', (r) => r['gatewayPid'] === pid, 5_000)).toMatchObject({ reason: 'startup timeout', graceMs: 400 });
      expect(await sup.waitFor('gateway.exited', (r) => r['gatewayPid'] === pid, 5_000)).toMatchObject({ signal: 'SIGKILL', outcome: 'failure', wasReady: false });
      expect(await sup.waitFor('gateway.restart_scheduled', (r) => r['attempt'] === round, 5_000)).toMatchObject({ reason: 'startup-timeout' });
      await expectGroupGone(pid);
      timeouts.push(timeout);
    }
    await sup.waitFor('gateway.spawned', (r) => r['spawns'] === 3, 10_000);
    const polls = await readyz.stop();
    expect(sup.events('gateway.ready')).toHaveLength(0);
    expect(polls.length).toBeGreaterThan(10);
    expect(polls.filter((p) => !p.ok || p.status !== 503)).toEqual([]);
    fig.set('startupTimeouts', timeouts.length);
    fig.set('timeoutAfterSpawnMs', timeouts.map((t, i) => timeOf(t) - timeOf(sup.events('gateway.spawned')[i]!)));
    fig.set('readyzPolls', polls.length);
    fig.lost('readyzNot503', polls.filter((p) => !p.ok || p.status !== 503).length);
  });
});

/** Another process on the gateway's internal port, answering 200 to everything, /startupz included. */
async function squatter(port: number): Promise<ChildProcess> {
  const code = `require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'application/json'});s.end(JSON.stringify({ok:true,status:'started',uptimeMs:1}))}).listen(${port},'127.0.0.1',()=>console.log('listening'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(() => {
    child.kill('SIGKILL');
  });
  await within(
    new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', () => resolve());
      child.once('exit', (code) => reject(new Error(`squatter exited with ${code}`)));
    }),
    10_000,
    'squatter listening',
  );
  return child;
}

describe('faults: the environment', () => {
  it('internal port already taken by another process: gateway.port_in_use, never taken for readiness, bounded retries, exit 1', async () => {
    const fig = scenario('fault.port-in-use', 'fault');
    const gatewayPort = await freePort();
    const other = await squatter(gatewayPort);
    const sup = await start({ env: { SUPERVISOR_GATEWAY_PORT: String(gatewayPort), SUPERVISOR_RESTART_LIMIT_BURST: '3', SUPERVISOR_RESTART_DELAY_MS: '100' } });
    await sup.waitFor('supervisor.listening', undefined, 10_000);
    const readyz = pollInBackground(sup.url('/readyz'), 30);
    const exit = await within(sup.exited, 20_000, 'port-in-use give-up');
    const polls = await readyz.stop();

    expect(exit.code).toBe(1);
    const inUse = sup.events('gateway.port_in_use');
    expect(inUse).toHaveLength(3);
    for (const record of inUse) expect(record).toMatchObject({ level: 'error', gatewayPort });
    expect(sup.events('gateway.restart_scheduled').map((r) => r['reason'])).toEqual(['port-in-use', 'port-in-use']);
    expect(sup.events('gateway.crash_loop')).toHaveLength(1);
    expect(sup.events('gateway.spawned')).toHaveLength(0);
    expect(sup.events('gateway.ready')).toHaveLength(0);
    expect(polls.length).toBeGreaterThan(0);
    const ready200 = polls.filter((p) => p.ok && p.status === 200).length;
    expect(ready200).toBe(0);
    // The other process was left alone.
    expect(other.exitCode).toBeNull();
    expect((await probe(`http://127.0.0.1:${gatewayPort}/startupz`)).ok).toBe(true);
    const first = inUse[0]!;
    fig.set('attempts', inUse.length);
    fig.set('timeToGiveUpMs', timeOf(sup.events('gateway.crash_loop')[0]!) - timeOf(first));
    fig.set('readyzPolls', polls.length);
    fig.lost('readyz200', ready200);
  });

  it('exit 78 (after it was ready): a refusal, no retry, gateway.refused with the stderr tail, supervisor exit 78', async () => {
    const fig = scenario('fault.exit-78', 'fault');
    const sup = await start({ env: { FAKE_EXIT_AFTER_MS: '400', FAKE_EXIT_CODE: '78' } });
    const ready = await sup.waitFor('gateway.ready', undefined, 10_000);
    const exit = await within(sup.exited, 10_000, 'exit 78');
    const at = await sup.exitedAt;
    expect(exit.code).toBe(78);
    expect(sup.events('gateway.spawned')).toHaveLength(1);
    expect(sup.events('gateway.restart_scheduled')).toHaveLength(0);
    expect(sup.events('gateway.exited')).toEqual([expect.objectContaining({ gatewayPid: pidOf(ready), code: 78, outcome: 'refused' })]);
    const refused = sup.events('gateway.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: 'error', code: 78 });
    expect(refused[0]!['stderrTail']).toContain('fake gateway: crashing with 78');
    expect(String(refused[0]!['msg'])).toMatch(/retrying cannot help/);
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 78, reason: 'gateway refused its configuration' })]);
    fig.set('exitAfterRefusalMs', at - timeOf(sup.events('gateway.exited')[0]!));
    fig.set('spawns', 1);
  });

  it('exit 0 after ready (SIGUSR2, a restart request), three times: respawned at once, no backoff, never counted as a failure', async () => {
    const fig = scenario('fault.exit-0-restart-request', 'fault');
    // A backoff would wait ≥ 3 s, and 2 failures would be a crash loop: neither may happen.
    const sup = await start({ env: { SUPERVISOR_RESTART_DELAY_MS: '3000', SUPERVISOR_RESTART_MAX_DELAY_MS: '6000', SUPERVISOR_RESTART_LIMIT_BURST: '2' } });
    let ready = await sup.waitFor('gateway.ready', undefined, 10_000);
    const respawnMs: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const pid = pidOf(ready);
      process.kill(pid, 'SIGUSR2');
      const exited = await sup.waitFor('gateway.exited', (r) => r['gatewayPid'] === pid, 10_000);
      expect(exited).toMatchObject({ code: 0, outcome: 'restart-request', wasReady: true });
      const spawned = await sup.waitFor('gateway.spawned', (r) => r['spawns'] === round + 1, 5_000);
      respawnMs.push(timeOf(spawned) - timeOf(exited));
      ready = await sup.waitFor('gateway.ready', (r) => r['gatewayPid'] === pidOf(spawned), 10_000);
    }
    fig.set('respawnAfterExitMs', respawnMs);
    for (const ms of respawnMs) expect(ms).toBeLessThan(1_000);
    expect(sup.events('gateway.restart_scheduled').map((r) => [r['reason'], r['delayMs']])).toEqual([
      ['restart-request', 0],
      ['restart-request', 0],
      ['restart-request', 0],
    ]);
    expect(sup.events('gateway.crash_loop')).toHaveLength(0);
    expect((await probe(sup.url('/readyz'))).ok).toBe(true);
    expect(await probe(sup.url('/readyz'))).toMatchObject({ status: 200 });
  });
});
