import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { delay, httpRequest, within } from '../helpers/front-door-clients.js';
import { pidOf, timeOf } from '../helpers/records.js';
import { firstSignalRecord, onCleanup, peakRssBytes, rssBytes, start, useSupervisors } from './helpers/common.js';
import { mb, scenario } from './helpers/figures.js';
import { exchange, maxOpenFiles, openClients, roundTrip, summarize, untilClosed, type LoadClient } from './helpers/ws-load.js';

useSupervisors();

const CONNECTIONS = 1_000;
/** The supervisor holds two sockets per session, the clients (this process) one each. */
const FDS_NEEDED = 4 * CONNECTIONS;

beforeAll(() => {
  // The supervisor and the gateway inherit this process's limit. A soft limit below the hard one is
  // raised (prlimit needs no privilege for that); a hard limit too low is a setup error, said so.
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\d+)\s+(\d+|unlimited)/m.exec(limits);
  const soft = Number(match?.[1] ?? 0);
  const hard = match?.[2] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match?.[2] ?? 0);
  if (soft < FDS_NEEDED && hard >= FDS_NEEDED) {
    const target = Number.isFinite(hard) ? hard : 65_536;
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${Number.isFinite(hard) ? hard : 'unlimited'}`]);
  }
  expect(maxOpenFiles(process.pid), `the load tests need ulimit -n ≥ ${FDS_NEEDED}`).toBeGreaterThanOrEqual(FDS_NEEDED);
});

function track(clients: LoadClient[]): (client: LoadClient) => void {
  onCleanup(() => {
    for (const client of clients) client.ws.terminate();
  });
  return (client) => clients.push(client);
}

describe('load: 1000 concurrent WebSockets', () => {
  it('1000 WebSockets exchange messages for 5 s through the front door: no unexpected close, no lost or reordered message', async () => {
    const fig = scenario('load.websockets-1000', 'load');
    const sup = await start();
    const gatewayPid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const pid = sup.process.pid!;
    fig.set('supervisorMaxOpenFiles', maxOpenFiles(pid));
    const rssBefore = rssBytes(pid);

    const all: LoadClient[] = [];
    const openedAt = Date.now();
    const clients = await openClients(`ws://127.0.0.1:${sup.port}/`, CONNECTIONS, track(all));
    const openMs = Date.now() - openedAt;
    const rssOpen = rssBytes(pid);
    const exchangeStarted = Date.now();
    await exchange(clients, 5_000, 250);
    const exchangeMs = Date.now() - exchangeStarted;
    const rssAfter = rssBytes(pid);
    const summary = summarize(clients);

    fig.set('connections', summary.connections);
    fig.set('openAllMs', openMs);
    fig.set('messagesSent', summary.sent);
    fig.set('messagesEchoed', summary.echoed);
    fig.set('exchangeMs', exchangeMs);
    fig.set('framesPerSecondBothWays', Math.round((2 * summary.echoed) / (exchangeMs / 1000)));
    fig.set('supervisorRssBeforeMb', mb(rssBefore));
    fig.set('supervisorRssAllOpenMb', mb(rssOpen));
    fig.set('supervisorRssAfterExchangeMb', mb(rssAfter));
    fig.set('supervisorRssPeakMb', mb(peakRssBytes(pid)));
    fig.lost('lostMessages', summary.lost);
    fig.lost('reorderedMessages', summary.outOfOrder);
    fig.lost('unexpectedCloses', summary.unexpectedCloses);
    fig.lost('clientErrors', summary.errors);

    expect(summary.connections).toBe(CONNECTIONS);
    expect(summary.unexpectedCloses).toBe(0);
    expect(summary.errors).toBe(0);
    expect(summary.sent).toBeGreaterThanOrEqual(CONNECTIONS * 10);
    expect(summary.lost).toBe(0);
    expect(summary.outOfOrder).toBe(0);

    // The clients close; the gateway answers each close, the front door passes it through.
    for (const client of clients) {
      client.closeExpected = true;
      client.ws.close(1000, 'done');
    }
    expect(await untilClosed(clients, 30_000)).toBe(0);
    const codes = new Map<number, number>();
    for (const client of clients) codes.set(client.close!.code, (codes.get(client.close!.code) ?? 0) + 1);
    fig.set('closeCodes', Object.fromEntries([...codes].map(([code, n]) => [String(code), n])));
    expect([...codes.keys()]).toEqual([1000]);

    // Nothing happened to the gateway or the forwarding meanwhile.
    expect(sup.events('gateway.exited')).toHaveLength(0);
    expect(sup.events('gateway.ready').map(pidOf)).toEqual([gatewayPid]);
    expect(sup.events('front_door.upstream_error')).toHaveLength(0);
  });

  it('1000 WebSockets during SIGTERM: every one gets a close code before the supervisor exits, and drain_finished counts what clients saw', async () => {
    const fig = scenario('load.websockets-1000-sigterm', 'load');
    const sup = await start({ env: { SUPERVISOR_DRAIN_TIMEOUT_MS: '30000', SUPERVISOR_STOP_TIMEOUT_MS: '20000', FAKE_DRAIN_MS: '20000' } });
    const gatewayPid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const all: LoadClient[] = [];
    const clients = await openClients(`ws://127.0.0.1:${sup.port}/`, CONNECTIONS, track(all));
    await roundTrip(clients);
    const before = summarize(clients);
    expect(before.lost).toBe(0);
    expect(before.unexpectedCloses).toBe(0);

    for (const client of clients) client.closeExpected = true;
    const signalledAt = Date.now();
    sup.signal('SIGTERM');
    const started = await sup.waitFor('supervisor.drain_started', undefined, 10_000);
    expect(started).toMatchObject({ openWebSockets: CONNECTIONS });
    const [exit, exitedAt] = await within(Promise.all([sup.exited, sup.exitedAt]), 40_000, 'supervisor exit after SIGTERM');
    // Close events already received by the kernel may still be queued in this process's event loop.
    const stillOpen = await untilClosed(clients, 10_000);

    const codes = new Map<number, number>();
    for (const client of clients) if (client.close) codes.set(client.close.code, (codes.get(client.close.code) ?? 0) + 1);
    const finished = sup.events('supervisor.drain_finished');
    const shutdownEvents = clients.reduce((n, c) => n + c.shutdownEvents, 0);
    const lastCloseAt = Math.max(...clients.map((c) => c.close?.at ?? 0));
    const abnormal = codes.get(1006) ?? 0;
    fig.set('connections', clients.length);
    fig.set('closeCodes', Object.fromEntries([...codes].map(([code, n]) => [String(code), n])));
    fig.set('shutdownEventsReceived', shutdownEvents);
    fig.set('drainFinished', finished[0] ? { websocketsClosed: Number(finished[0]['websocketsClosed']), websocketsCut: Number(finished[0]['websocketsCut']), durationMs: Number(finished[0]['durationMs']), deadlineHit: Boolean(finished[0]['deadlineHit']) } : null);
    fig.set('exitAfterSignalMs', exitedAt - signalledAt);
    fig.set('lastClientCloseSeenAfterExitMs', lastCloseAt - exitedAt);
    fig.lost('withoutCloseFrame', abnormal + stillOpen);

    expect(exit.code).toBe(0);
    firstSignalRecord(sup, 'SIGTERM');
    expect(stillOpen).toBe(0);
    // A close code (not 1006) means a close frame arrived, which only a living supervisor could pass on.
    expect(abnormal).toBe(0);
    expect([...codes.keys()].filter((code) => code !== 1012 && code !== 1001)).toEqual([]);
    expect(finished).toHaveLength(1);
    const counts = finished[0]!;
    expect(Number(counts['websocketsClosed']) + Number(counts['websocketsCut'])).toBe(CONNECTIONS);
    expect(counts['websocketsClosed']).toBe(codes.get(1012) ?? 0);
    expect(counts['websocketsCut']).toBe(codes.get(1001) ?? 0);
    // With a cooperative gateway and a 30 s deadline, nothing needed cutting: the gateway closed them all (1012, passed through).
    expect(counts['deadlineHit']).toBe(false);
    expect(codes.get(1012)).toBe(CONNECTIONS);
    // Those the gateway closed itself were told why first.
    expect(shutdownEvents).toBeGreaterThanOrEqual(codes.get(1012) ?? 0);
    expect(sup.events('gateway.exited')).toEqual([expect.objectContaining({ gatewayPid, outcome: 'requested-stop' })]);
  });
});

describe('load: HTTP during a gateway crash', () => {
  it('32 concurrent HTTP clients while the gateway is SIGKILLed and restarted: every request answered 200, 502 or 503, none refused, none hung', async () => {
    const fig = scenario('load.http-during-crash', 'load');
    const sup = await start({ env: { SUPERVISOR_RESTART_DELAY_MS: '300', SUPERVISOR_RESTART_MAX_DELAY_MS: '1000' } });
    const firstPid = pidOf(await sup.waitFor('gateway.ready', undefined, 10_000));
    const statuses = new Map<number, number>();
    const errors: string[] = [];
    let maxLatencyMs = 0;
    let running = true;
    let requests = 0;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; running && i < 100_000; i++) {
        const path = i % 2 === 0 ? `/load?w=${w}&i=${i}` : `/slow?ms=150&w=${w}`;
        const startedAt = Date.now();
        requests++;
        try {
          const res = await httpRequest({ port: sup.port, path, timeoutMs: 10_000 });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        } catch (error) {
          errors.push(`${path}: ${(error as Error & { code?: string }).code ?? (error as Error).message}`);
        }
        maxLatencyMs = Math.max(maxLatencyMs, Date.now() - startedAt);
      }
    };
    const workers = Promise.all(Array.from({ length: 32 }, (_, w) => worker(w)));
    try {
      await delay(1_000);
      const killedAt = Date.now();
      process.kill(-firstPid, 'SIGKILL');
      const exited = await sup.waitFor('gateway.exited', (r) => r['gatewayPid'] === firstPid, 10_000);
      const ready = await sup.waitFor('gateway.ready', (r) => r['gatewayPid'] !== firstPid, 20_000);
      fig.set('outageMs', timeOf(ready) - timeOf(exited));
      fig.set('killToReadyMs', timeOf(ready) - killedAt);
      // Load continues on the new gateway for a while.
      await delay(1_000);
    } finally {
      running = false;
      await within(workers, 20_000, 'HTTP workers to finish');
    }

    const count = (status: number): number => statuses.get(status) ?? 0;
    const unexpected = [...statuses.keys()].filter((status) => ![200, 502, 503].includes(status));
    fig.set('requests', requests);
    fig.set('status200', count(200));
    fig.set('status502', count(502));
    fig.set('status503', count(503));
    fig.set('maxLatencyMs', maxLatencyMs);
    fig.lost('refusedOrReset', errors.filter((e) => !/within/.test(e)).length);
    fig.lost('hung', errors.filter((e) => /within/.test(e)).length);
    fig.lost('otherStatuses', unexpected.reduce((n, status) => n + count(status), 0));

    expect(errors).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(count(502) + count(503)).toBeGreaterThan(0);
    expect(count(200)).toBeGreaterThan(100);
    expect(maxLatencyMs).toBeLessThan(10_000);
    expect(sup.events('gateway.spawned')).toHaveLength(2);
    expect(sup.events('front_door.upstream_error').length).toBeGreaterThanOrEqual(count(502) > 0 ? 1 : 0);
  });
});
