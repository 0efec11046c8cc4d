import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pollInBackground } from '../helpers/http-probe.js';
import { pidOf, timeOf } from '../helpers/records.js';
import { ROOT, startSupervisor, type LogRecord, type RunningSupervisor } from '../helpers/supervisor.js';

const SEQUENCED_GATEWAY = resolve(ROOT, 'test', 'helpers', 'sequenced-gateway.mjs');

let sup: RunningSupervisor | undefined;
afterEach(async () => {
  await sup?.kill();
  sup = undefined;
});

/** For each restart: how long the supervisor waited between a gateway's exit and the next spawn. */
function waitsBeforeRespawn(s: RunningSupervisor): number[] {
  const exits = s.events('gateway.exited');
  const spawns = s.events('gateway.spawned');
  return spawns.slice(1).map((spawn, i) => timeOf(spawn) - timeOf(exits[i]!));
}

const scheduled = (s: RunningSupervisor): LogRecord[] => s.events('gateway.restart_scheduled');

describe('crash loop', () => {
  it('restarts a crashing gateway with growing delays, answers /healthz throughout, then exits 1', async () => {
    sup = await startSupervisor({
      env: {
        FAKE_EXIT_CODE: '1',
        SUPERVISOR_RESTART_LIMIT_BURST: '4',
        SUPERVISOR_RESTART_DELAY_MS: '150',
        SUPERVISOR_RESTART_MAX_DELAY_MS: '5000',
        SUPERVISOR_RESTART_FACTOR: '2',
      },
    });
    await sup.waitFor('supervisor.listening', undefined, 10_000);
    const health = pollInBackground(sup.url('/healthz'), 20);
    const exit = await sup.exited;
    const polls = await health.stop();

    expect(exit.code).toBe(1);
    expect(sup.events('gateway.spawned')).toHaveLength(4);
    const crashLoop = sup.events('gateway.crash_loop');
    expect(crashLoop).toHaveLength(1);
    expect(crashLoop[0]).toMatchObject({ level: 'error', failures: 4, limitBurst: 4, lastExit: { code: 1 } });
    expect(sup.events('supervisor.exited')).toEqual([expect.objectContaining({ code: 1 })]);

    // Announced bounds grow: [150, 300), [300, 600), [600, 1200).
    const restarts = scheduled(sup);
    expect(restarts.map((r) => [r['reason'], r['attempt'], r['delayMinMs'], r['delayMaxMs']])).toEqual([
      ['failure', 1, 150, 300],
      ['failure', 2, 300, 600],
      ['failure', 3, 600, 1200],
    ]);
    // And the supervisor kept to them (scheduling slack allowed on top).
    const waits = waitsBeforeRespawn(sup);
    expect(waits).toHaveLength(3);
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(Number(restarts[i]!['delayMinMs']) - 2);
      expect(wait).toBeLessThanOrEqual(Number(restarts[i]!['delayMaxMs']) + 400);
    });
    expect(waits[2]!).toBeGreaterThan(waits[0]!);

    // /healthz never refused a connection while the gateway was being restarted.
    const crashLoopAt = timeOf(crashLoop[0]!);
    const during = polls.filter((p) => p.startedAt < crashLoopAt - 100);
    expect(during.length).toBeGreaterThan(10);
    expect(during.filter((p) => !p.ok || p.status !== 200)).toEqual([]);
    const states = new Set(during.map((p) => (p.ok ? (JSON.parse(p.body) as { gateway: string }).gateway : 'error')));
    expect(states.has('backoff')).toBe(true);
  });

  it('exit 0 before ready is a failure: backoff, then a crash loop (exit 1), never a spin', async () => {
    sup = await startSupervisor({
      env: { FAKE_EXIT_CODE: '0', SUPERVISOR_RESTART_LIMIT_BURST: '3', SUPERVISOR_RESTART_DELAY_MS: '150', SUPERVISOR_RESTART_MAX_DELAY_MS: '5000' },
    });
    const exit = await sup.exited;
    expect(exit.code).toBe(1);
    expect(sup.events('gateway.spawned')).toHaveLength(3);
    expect(sup.events('gateway.exited').map((r) => [r['code'], r['outcome'], r['wasReady']])).toEqual([
      [0, 'failure', false],
      [0, 'failure', false],
      [0, 'failure', false],
    ]);
    expect(scheduled(sup).map((r) => r['reason'])).toEqual(['failure', 'failure']);
    expect(sup.events('gateway.crash_loop')).toHaveLength(1);
    const waits = waitsBeforeRespawn(sup);
    expect(waits[0]).toBeGreaterThanOrEqual(148);
    expect(waits[1]).toBeGreaterThanOrEqual(298);
  });
});

describe('crashes after ready', () => {
  it('restarts a gateway that crashes while ready with a growing backoff', async () => {
    sup = await startSupervisor({
      env: { FAKE_EXIT_AFTER_MS: '400', FAKE_EXIT_CODE: '3', SUPERVISOR_RESTART_DELAY_MS: '200', SUPERVISOR_RESTART_MAX_DELAY_MS: '5000' },
    });
    await sup.waitFor('gateway.restart_scheduled', (r) => r['attempt'] === 2, 15_000);
    await sup.waitFor('gateway.spawned', (r) => r['spawns'] === 3, 10_000);

    const exits = sup.events('gateway.exited').slice(0, 2);
    expect(exits.map((r) => [r['code'], r['outcome'], r['wasReady']])).toEqual([
      [3, 'failure', true],
      [3, 'failure', true],
    ]);
    // Each one had been ready before it crashed.
    const readyPids = sup.events('gateway.ready').map(pidOf);
    for (const exit of exits) expect(readyPids).toContain(pidOf(exit));
    expect(exits[0]!['stderrTail']).toContain('fake gateway: crashing with 3');

    const restarts = scheduled(sup);
    expect(restarts.slice(0, 2).map((r) => [r['reason'], r['attempt'], r['delayMinMs']])).toEqual([
      ['failure', 1, 200],
      ['failure', 2, 400],
    ]);
    const waits = waitsBeforeRespawn(sup);
    expect(waits[0]).toBeGreaterThanOrEqual(198);
    expect(waits[1]).toBeGreaterThanOrEqual(398);
  });

  it('resets the backoff when the gateway crashes after a stable run (reason stable-failure)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocs-seq-'));
    const sequence = [
      { FAKE_EXIT_CODE: '1' }, // failure 1: backoff attempt 1
      { FAKE_EXIT_CODE: '1' }, // failure 2: backoff attempt 2 (doubled)
      { FAKE_EXIT_AFTER_MS: '700', FAKE_EXIT_CODE: '1' }, // ready at 50 ms, crashes after a stable run
      { FAKE_EXIT_CODE: '1' }, // failure again: the backoff starts over at attempt 1
      {}, // stays up
    ];
    sup = await startSupervisor({
      gateway: [process.execPath, SEQUENCED_GATEWAY],
      env: {
        FAKE_SEQUENCE: JSON.stringify(sequence),
        FAKE_SEQUENCE_FILE: join(dir, 'spawns'),
        SUPERVISOR_RESTART_STABLE_MS: '250',
        SUPERVISOR_RESTART_DELAY_MS: '200',
        SUPERVISOR_RESTART_MAX_DELAY_MS: '5000',
        SUPERVISOR_RESTART_LIMIT_BURST: '10',
      },
    });
    const fifth = await sup.waitFor('gateway.spawned', (r) => r['spawns'] === 5, 20_000);
    await sup.waitFor('gateway.ready', (r) => r['gatewayPid'] === pidOf(fifth), 10_000);

    expect(sup.events('gateway.exited').map((r) => r['outcome'])).toEqual(['failure', 'failure', 'stable-failure', 'failure']);
    expect(scheduled(sup).map((r) => [r['reason'], r['attempt'] ?? null, r['delayMinMs'] ?? r['delayMs']])).toEqual([
      ['failure', 1, 200],
      ['failure', 2, 400],
      ['stable-failure', null, 0],
      ['failure', 1, 200],
    ]);
    const waits = waitsBeforeRespawn(sup);
    // After the stable run: respawned at once, not after the 800 ms that attempt 3 would have waited.
    expect(waits[2]).toBeLessThan(600);
    expect(waits[3]).toBeGreaterThanOrEqual(198);
    expect(waits[3]).toBeLessThan(800);
    expect(sup.events('gateway.crash_loop')).toHaveLength(0);
  });
});
