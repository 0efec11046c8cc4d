// 4. Supervisor footprint: RSS and CPU of the supervisor process alone (its gateway is another
// process), idle and under benchmark 2's heaviest message rate, next to a bare Node process that
// only keeps an interval timer (the floor any Node supervisor starts from).
import { join } from 'node:path';
import { cpuMs, now, rssBytes, sleep, start } from './lib/procs.mjs';
import { row } from './lib/report.mjs';
import { fmt, fmtRatio, median, medianRatio } from './lib/stats.mjs';
import { SUPERVISOR_NODE, startSupervisor } from './lib/supervisor.mjs';

export const id = 'footprint';
export const title = '4. Supervisor footprint';

const WS_LOAD = join(import.meta.dirname, 'lib', 'ws-load.mjs');
// Issue 10: < 80 MB (the gateway tree next to it is ~1 GB).
const GOAL_IDLE_RSS_MB = 80;
const MB = 1024 * 1024;

/** CPU share (% of one core) and peak RSS of `pid` over `ms`, sampled every 100 ms. */
async function sample(pid, ms) {
  const cpu0 = cpuMs(pid);
  const t0 = now();
  let peak = rssBytes(pid) ?? 0;
  while (now() - t0 < ms) {
    await sleep(Math.min(100, ms));
    peak = Math.max(peak, rssBytes(pid) ?? 0);
  }
  const cpuPercent = ((cpuMs(pid) - cpu0) / (now() - t0)) * 100;
  return { cpuPercent, rssMB: (rssBytes(pid) ?? Number.NaN) / MB, peakRssMB: peak / MB };
}

export async function run({ smoke, log }) {
  const runs = smoke ? 1 : 3;
  const settleMs = smoke ? 300 : 1000;
  const idleMs = smoke ? 500 : 2000;
  const loadMs = smoke ? 500 : 2000;
  const idle = [];
  const bare = [];
  const loaded = [];
  for (let r = 0; r < runs; r++) {
    // Side by side: the bare process lives through the same seconds as the supervisor.
    const reference = start(SUPERVISOR_NODE, ['-e', 'setInterval(()=>{},1000)']);
    const sup = await startSupervisor({ env: { FAKE_READY_AFTER_MS: '0' } });
    try {
      await sup.waitFor('gateway.ready');
      await sleep(settleMs);
      const [s, b] = await Promise.all([sample(sup.pid, idleMs), sample(reference.pid, idleMs)]);
      idle.push(s);
      bare.push(b);
      // Benchmark 2's heaviest rate: 100 connections of 64 B messages through the front door.
      const config = { url: `ws://127.0.0.1:${sup.port}/`, size: 64, connections: 100, warmupMs: 200, durationMs: loadMs + 200, maxMessages: 5_000_000 };
      const load = start(process.execPath, [WS_LOAD, JSON.stringify(config)]);
      const result = load.waitLine((line) => line.startsWith('{'), loadMs + 30_000);
      await sleep(config.warmupMs + 100);
      const l = await sample(sup.pid, loadMs);
      const { rate } = JSON.parse((await result).line);
      // CPU time per forwarded echo (both directions): comparable across machines better than %.
      loaded.push({ ...l, rate, cpuUsPerMessage: ((l.cpuPercent / 100) * 1e6) / rate });
      await load.stop('SIGKILL', 1000);
      log(`footprint run ${r + 1}/${runs}: idle ${fmt(s.rssMB, 'MB')} ${fmt(s.cpuPercent, '%')} (bare node ${fmt(b.rssMB, 'MB')}), loaded ${fmt(l.peakRssMB, 'MB')} ${fmt(l.cpuPercent, '%')} at ${fmt(rate)} msgs/s`);
    } finally {
      await sup.stop();
      await reference.stop('SIGKILL', 1000);
    }
  }
  const figures = {
    idleRssMB: median(idle.map((x) => x.rssMB)),
    idleCpuPercent: median(idle.map((x) => x.cpuPercent)),
    bareNodeRssMB: median(bare.map((x) => x.rssMB)),
    bareNodeCpuPercent: median(bare.map((x) => x.cpuPercent)),
    idleRssOverBare: medianRatio(
      idle.map((x) => x.rssMB),
      bare.map((x) => x.rssMB),
    ),
    loadedPeakRssMB: median(loaded.map((x) => x.peakRssMB)),
    loadedCpuPercent: median(loaded.map((x) => x.cpuPercent)),
    loadedMessagesPerSecond: median(loaded.map((x) => x.rate)),
    loadedCpuUsPerMessage: median(loaded.map((x) => x.cpuUsPerMessage)),
  };
  const rows = [
    row('idle RSS', fmt(figures.idleRssMB, 'MB'), `bare node ${fmt(figures.bareNodeRssMB, 'MB')} (${fmtRatio(figures.idleRssOverBare)})`, `< ${GOAL_IDLE_RSS_MB} MB`, figures.idleRssMB < GOAL_IDLE_RSS_MB),
    row('idle CPU', fmt(figures.idleCpuPercent, '% of a core', 2), `bare node ${fmt(figures.bareNodeCpuPercent, '%', 2)}`),
    row(
      'under load (64 B × 100 conns WebSocket echo)',
      `peak RSS ${fmt(figures.loadedPeakRssMB, 'MB')}, CPU ${fmt(figures.loadedCpuPercent, '% of a core')}`,
      `${fmt(figures.loadedMessagesPerSecond)} msgs/s → ${fmt(figures.loadedCpuUsPerMessage, 'µs')} CPU per echo`,
    ),
  ];
  return { figures, rows, notes: [`${runs} run(s); idle window ${idleMs} ms after ${settleMs} ms settling; CPU from /proc/<pid>/task/*/schedstat (all threads)`] };
}
