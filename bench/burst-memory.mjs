// 10. Memory after a burst (issue 19): the supervisor's RSS at idle, at the peak of a burst of
// clients that each ask for a 1 MB body and never read it, and 60 s after they left. A supervisor
// that keeps the burst's memory takes it from the gateway next to it (a 1 GB container holds a
// ~900 MB gateway tree). Where the RSS sits is read from /proc/<pid>/smaps, nothing in the process
// changes: glibc's main malloc arena (Buffers' backing stores), other anonymous memory (V8's heap
// pages, threads' arenas and stacks), files (code).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { now, rssBytes, sleep, start } from './lib/procs.mjs';
import { row } from './lib/report.mjs';
import { residentByKind } from './lib/smaps.mjs';
import { fmt, median } from './lib/stats.mjs';
import { startSupervisor } from './lib/supervisor.mjs';

export const id = 'burst';
export const title = '10. Memory after a burst';

const CLIENTS = join(import.meta.dirname, 'lib', 'never-reading-clients.mjs');
const GOAL_AFTER_MB = 100;
const MB = 1024 * 1024;
// 1 MB: more than the client's receive buffer, less than what Linux lets our send buffer grow to on
// loopback (~4 MB), so every exchange completes into the kernel: the supervisor forwards 1 GB in
// 64 KB chunks while 1000 connections are open, which is what left the RSS high.
const BODY_BYTES = 1024 * 1024;

/** Established TCP connections to 127.0.0.1:port (IPv4, from /proc/net/tcp): the supervisor's sockets to its gateway. */
function connectionsTo(port) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let count = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[2]?.endsWith(hex) && fields[3] === '01') count++;
  }
  return count;
}

export async function run({ smoke, log }) {
  const runs = smoke ? 1 : 2;
  const count = smoke ? 100 : 1000;
  const holdMs = smoke ? 1000 : 20_000;
  const afterMs = smoke ? 2000 : 60_000;
  const settleMs = smoke ? 300 : 2000;
  const results = [];
  for (let r = 0; r < runs; r++) {
    const sup = await startSupervisor({ env: { FAKE_READY_AFTER_MS: '0' } });
    try {
      await sup.waitFor('gateway.ready');
      await sleep(settleMs);
      const idleMB = rssBytes(sup.pid) / MB;
      const config = { port: sup.port, count, path: `/bytes?n=${BODY_BYTES}`, holdMs };
      const clients = start(process.execPath, [CLIENTS, JSON.stringify(config)]);
      const opened = clients.waitLine((line) => line.startsWith('{"open"'), 120_000);
      let peak = 0;
      let upstreamPeak = 0;
      let gone = false;
      void clients.exited.then(() => (gone = true));
      // Bounded by the clients' own bound (holdMs + 60 s) and this loop's.
      const deadline = now() + holdMs + 180_000;
      while (!gone && now() < deadline) {
        peak = Math.max(peak, rssBytes(sup.pid) ?? 0);
        upstreamPeak = Math.max(upstreamPeak, connectionsTo(sup.gatewayPort));
        await sleep(100);
      }
      const { open, failed } = JSON.parse((await opened).line);
      const left = now();
      let underGoalAfterS = null;
      while (now() - left < afterMs) {
        await sleep(Math.min(1000, afterMs));
        const rss = rssBytes(sup.pid) / MB;
        peak = Math.max(peak, rss * MB);
        if (underGoalAfterS === null && rss < GOAL_AFTER_MB) underGoalAfterS = (now() - left) / 1000;
      }
      const afterMB = rssBytes(sup.pid) / MB;
      const where = residentByKind(sup.pid);
      results.push({ idleMB, peakMB: peak / MB, afterMB, underGoalAfterS, where, open, failed, upstreamPeak });
      log(`burst run ${r + 1}/${runs}: ${open} clients (${failed} refused), upstream connections at most ${upstreamPeak}, RSS idle ${fmt(idleMB, 'MB')}, peak ${fmt(peak / MB, 'MB')}, ${afterMs / 1000} s after ${fmt(afterMB, 'MB')} (malloc arena ${fmt(where?.mallocMB, 'MB')}, other anonymous ${fmt(where?.anonMB, 'MB')}, files ${fmt(where?.fileMB, 'MB')})`);
    } finally {
      await sup.stop();
    }
  }
  const medianRun = [...results].sort((a, b) => a.afterMB - b.afterMB)[Math.floor((results.length - 1) / 2)];
  const figures = {
    clients: count,
    idleRssMB: median(results.map((x) => x.idleMB)),
    peakRssMB: median(results.map((x) => x.peakMB)),
    afterRssMB: median(results.map((x) => x.afterMB)),
    // The breakdown of one run (the one at the median of the RSS after), so that its parts add up.
    afterMallocArenaMB: medianRun.where?.mallocMB ?? Number.NaN,
    afterOtherAnonMB: medianRun.where?.anonMB ?? Number.NaN,
    afterFilesMB: medianRun.where?.fileMB ?? Number.NaN,
    upstreamConnectionsPeak: median(results.map((x) => x.upstreamPeak)),
  };
  const under = results.map((x) => x.underGoalAfterS);
  const afterLabel = `${afterMs / 1000} s after`;
  const rows = [
    row(
      `RSS idle → peak → ${afterLabel} ${count} clients that never read a 1 MB body`,
      `${fmt(figures.idleRssMB, 'MB')} → ${fmt(figures.peakRssMB, 'MB')} → ${fmt(figures.afterRssMB, 'MB')}`,
      `under ${GOAL_AFTER_MB} MB ${under.map((s) => (s === null ? 'never' : `after ${s.toFixed(0)} s`)).join(', ')}; connections to the gateway at most ${figures.upstreamConnectionsPeak} (sampled every 100 ms)`,
      `< ${GOAL_AFTER_MB} MB ${afterLabel}`,
      figures.afterRssMB < GOAL_AFTER_MB,
    ),
    row(
      `where the RSS sits ${afterLabel}`,
      `malloc arena ${fmt(figures.afterMallocArenaMB, 'MB')}, other anonymous ${fmt(figures.afterOtherAnonMB, 'MB')}, files ${fmt(figures.afterFilesMB, 'MB')}`,
      'from /proc/<pid>/smaps: [heap]; V8 pages, thread arenas and stacks; code',
    ),
  ];
  return {
    figures,
    rows,
    notes: [`${runs} run(s); ${count} raw TCP clients send one GET each and never read, hold ${holdMs / 1000} s, then close; RSS sampled every 100 ms, then every 1 s for ${afterMs / 1000} s`],
  };
}
