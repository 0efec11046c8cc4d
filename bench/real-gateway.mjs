// 7. With the real gateway (the pinned openclaw on Node 24): spawn → ready as the supervisor reports
// it vs spawn → the gateway's own `[gateway] ready` line. The gap has two parts, told apart by a
// bench-side probe of the gateway's /startupz every 5 ms from the ready line on: the gateway's own
// lag (its /startupz turns 200 after its line) and the supervisor's detection after that.
import http from 'node:http';
import { now, sleep } from './lib/procs.mjs';
import { park } from './lib/real-gateway-pool.mjs';
import { row } from './lib/report.mjs';
import { fmt, median } from './lib/stats.mjs';
import { recordTime, startSupervisor } from './lib/supervisor.mjs';

export const id = 'realgateway';
export const title = '7. Real gateway readiness';

const GOAL_ADDED_MS = 100;
const READY_LINE = /\[gateway\] ready$/;

function startupz(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/startupz', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/**
 * The first 200 of the gateway's /startupz: when the request that got it was sent and when its
 * answer arrived (a busy gateway answers late; the flip lies in between).
 */
async function firstStartupz200(port, deadline) {
  while (now() < deadline) {
    const sentAt = now();
    if ((await startupz(port)) === 200) return { sentAt, receivedAt: now() };
    await sleep(5);
  }
  return { sentAt: Number.NaN, receivedAt: Number.NaN };
}

/** One run; with `keep`, a successful run's supervisor is parked for benchmark 8 instead of stopped. */
async function oneRun(keep) {
  const sup = await startSupervisor({ gateway: null, env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '120000' } });
  let kept = false;
  try {
    const spawned = await sup.waitFor('gateway.spawned', undefined, 20_000);
    const line = await sup.waitFor('gateway.log', (record) => READY_LINE.test(record.line), 120_000);
    const probe = firstStartupz200(sup.gatewayPort, now() + 10_000);
    const ready = await sup.waitFor('gateway.ready', undefined, 30_000);
    const first200 = await probe;
    const spawnedAt = recordTime(spawned.record);
    // The gateway stamps its own lines (`2026-…+00:00 [gateway] ready`): its clock, same machine.
    const ownStamp = Date.parse(line.record.line.split(' ')[0]);
    const lineAt = Number.isFinite(ownStamp) ? ownStamp : recordTime(line.record);
    if (keep) {
      park(sup);
      kept = true;
    }
    return {
      sinceSpawnMs: ready.record.sinceSpawnMs,
      spawnToLineMs: lineAt - spawnedAt,
      // What the supervisor adds over the line: the goal's measure.
      lineToReadyMs: recordTime(ready.record) - lineAt,
      lineToStartupz200Ms: first200.receivedAt - lineAt,
      startupz200RoundTripMs: first200.receivedAt - first200.sentAt,
      // The supervisor's own share: /startupz already answered 200 (to the bench) → gateway.ready.
      startupz200ToReadyMs: recordTime(ready.record) - first200.receivedAt,
    };
  } finally {
    if (!kept) await sup.stop('SIGTERM', 15_000);
  }
}

export async function run({ smoke, log }) {
  const runs = smoke ? 1 : 3;
  const list = [];
  for (let r = 0; r < runs; r++) {
    const x = await oneRun(r === runs - 1);
    list.push(x);
    log(
      `real gateway run ${r + 1}/${runs}: ready after ${fmt(x.sinceSpawnMs, 'ms')}, ready line at ${fmt(x.spawnToLineMs, 'ms')}; line → /startupz 200 received ${fmt(x.lineToStartupz200Ms, 'ms')} (round trip ${fmt(x.startupz200RoundTripMs, 'ms')}) → gateway.ready ${fmt(x.startupz200ToReadyMs, 'ms')}`,
    );
  }
  const pick = (key) => median(list.map((x) => x[key]));
  const figures = {
    spawnToReadyMs: pick('sinceSpawnMs'),
    spawnToReadyLineMs: pick('spawnToLineMs'),
    readyLineToReadyMs: pick('lineToReadyMs'),
    readyLineToStartupz200Ms: pick('lineToStartupz200Ms'),
    startupz200RoundTripMs: pick('startupz200RoundTripMs'),
    startupz200ToReadyMs: pick('startupz200ToReadyMs'),
  };
  const rows = [
    row('spawn → gateway.ready (sinceSpawnMs)', fmt(figures.spawnToReadyMs, 'ms'), `spawn → gateway's own ready line ${fmt(figures.spawnToReadyLineMs, 'ms')}`),
    row(
      'ready line → gateway.ready',
      fmt(figures.readyLineToReadyMs, 'ms'),
      `the gateway's own lag, line → a 200 from its /startupz received: ${fmt(figures.readyLineToStartupz200Ms, 'ms')} (that request's round trip ${fmt(figures.startupz200RoundTripMs, 'ms')})`,
      `< ${GOAL_ADDED_MS} ms`,
      figures.readyLineToReadyMs < GOAL_ADDED_MS,
    ),
    row(
      "supervisor's own share: that 200 → gateway.ready",
      fmt(figures.startupz200ToReadyMs, 'ms'),
      'an independent probe every 5 ms; ≤ 0: the supervisor saw 200 no later',
      `< ${GOAL_ADDED_MS} ms`,
      figures.startupz200ToReadyMs < GOAL_ADDED_MS,
    ),
  ];
  return { figures, rows, notes: [`${runs} run(s) of the pinned openclaw; /startupz probed every 5 ms by the bench from the ready line on`] };
}
