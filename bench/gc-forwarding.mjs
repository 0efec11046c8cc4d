// 9. Garbage collection while forwarding large bodies: the supervisor's heap left after GC, its full
// mark-compacts and its CPU per 1000 forwarded responses of 100 KB and 1 MB, next to a bare Node
// proxy (http.request + pipe) and http-proxy in front of the same fake gateway, on the same Node.
// Why (issue 10): once a Node proxy's heap left after GC passes ~8 MB, forwarded Buffers make V8
// run a full mark-compact every few dozen responses and the CPU per response about doubles; a
// heap figure next to the CPU figure shows on which side of that point a build sits.
// Each process is started with the GC probe (lib/gc-probe.mjs, a --import preload: v8.GCProfiler,
// read by SIGWINCH); the supervisor also once more with REMEDY_FLAGS on its node command line.
import { gcProbeArgs, gcSnapshot } from './lib/gc.mjs';
import { startPeer } from './lib/peers.mjs';
import { cpuMs } from './lib/procs.mjs';
import { row } from './lib/report.mjs';
import { fmt, median } from './lib/stats.mjs';
import { startSupervisor } from './lib/supervisor.mjs';
import { runWrk } from './lib/wrk.mjs';

export const id = 'gc';
export const title = '9. Forwarding GC';

/**
 * The V8 flags measured as the remedy (bench/gc-remedy.mjs has the study), run as a fifth target:
 * the supervisor started with them on the node command line.
 */
export const REMEDY_FLAGS = ['--no-incremental-marking'];

const CASES = [
  { key: 'kb100', bytes: 100 * 1024, connections: 10, label: '100 KB responses, 10 conns' },
  { key: 'mb1', bytes: 1024 * 1024, connections: 10, label: '1 MB responses, 10 conns' },
];
const MB = 2 ** 20;

export async function run({ smoke, log, tools }) {
  const rounds = smoke ? 1 : 5;
  const seconds = smoke ? 1 : 2;
  const probe = gcProbeArgs();
  const sup = await startSupervisor({ nodeArgs: probe, env: { FAKE_READY_AFTER_MS: '0' } });
  const started = [];
  try {
    await sup.waitFor('gateway.ready');
    const targets = { supervisor: { port: sup.port, proc: sup.proc } };
    const bare = await startPeer('bare', sup.gatewayPort, { nodeArgs: probe });
    started.push(bare);
    targets.bare = { port: bare.port, proc: bare.proc };
    // The smoke mode only checks that the probe works: the supervisor and the bare proxy suffice.
    if (!smoke) {
      const remedy = await startSupervisor({ nodeArgs: [...REMEDY_FLAGS, ...probe], env: { FAKE_READY_AFTER_MS: '0' } });
      started.push({ stop: () => remedy.stop() });
      await remedy.waitFor('gateway.ready');
      targets.remedy = { port: remedy.port, proc: remedy.proc };
      const httpProxy = await startPeer('http-proxy', sup.gatewayPort, { nodeArgs: probe });
      started.push(httpProxy);
      targets.httpProxy = { port: httpProxy.port, proc: httpProxy.proc };
    }
    const names = Object.keys(targets);
    const url = (t, c) => `http://127.0.0.1:${targets[t].port}/bytes?n=${c.bytes}`;
    const cases = smoke ? CASES.slice(0, 1) : CASES;
    const results = Object.fromEntries(cases.map((c) => [c.key, Object.fromEntries(names.map((t) => [t, []]))]));
    if (!smoke) for (const c of cases) for (const t of names) await runWrk(tools.wrk, url(t, c), { connections: c.connections, seconds: 1 });
    for (let r = 0; r < rounds; r++) {
      for (const c of cases) {
        for (const t of names.map((_, i) => names[(i + r) % names.length])) {
          const { proc } = targets[t];
          await gcSnapshot(proc);
          const cpu0 = cpuMs(proc.pid);
          const w = await runWrk(tools.wrk, url(t, c), { connections: c.connections, seconds });
          const cpu = cpuMs(proc.pid) - cpu0;
          const gc = await gcSnapshot(proc);
          if (w.errors > 0) log(`warning: ${w.errors} errors on ${t} ${c.label}`);
          results[c.key][t].push({
            rps: w.rps,
            cpuUsPerResponse: (cpu * 1000) / w.requests,
            gcCostUsPerResponse: gc.gcCostUs / w.requests,
            markCompactsPer1000: (gc.markCompacts * 1000) / w.requests,
            scavengesPer1000: (gc.scavenges * 1000) / w.requests,
            // After a mark-compact when the window had one, else the lowest after any GC.
            heapAfterGcMB: (gc.heapAfterMarkCompactBytes ?? gc.heapAfterMinBytes ?? gc.heapUsedBytes) / MB,
          });
        }
        const last = (t, key) => results[c.key][t][r][key];
        log(`gc ${c.label} round ${r + 1}/${rounds}: ${names.map((t) => `${t} ${fmt(last(t, 'cpuUsPerResponse'), 'µs')} MC ${fmt(last(t, 'markCompactsPer1000'))}/1000 heap ${fmt(last(t, 'heapAfterGcMB'), 'MB')}`).join(', ')}`);
      }
    }

    const figures = {};
    const rows = [];
    for (const c of cases) {
      const m = (t, key) => (results[c.key][t] ? median(results[c.key][t].map((x) => x[key])) : Number.NaN);
      for (const t of names) {
        for (const key of ['rps', 'cpuUsPerResponse', 'gcCostUsPerResponse', 'markCompactsPer1000', 'scavengesPer1000', 'heapAfterGcMB']) {
          figures[`${c.key}_${t}_${key}`] = m(t, key);
        }
      }
      const peers = (key, unit) => `bare Node proxy ${fmt(m('bare', key), unit)}, http-proxy ${fmt(m('httpProxy', key), unit)}; supervisor with ${REMEDY_FLAGS.join(' ')}: ${fmt(m('remedy', key), unit)}`;
      rows.push(
        row(`${c.label}: supervisor heap after GC`, fmt(m('supervisor', 'heapAfterGcMB'), 'MB'), peers('heapAfterGcMB', 'MB')),
        row(`${c.label}: mark-compacts per 1000 responses`, fmt(m('supervisor', 'markCompactsPer1000')), peers('markCompactsPer1000', '')),
        row(
          `${c.label}: CPU per response (of it in GC pauses)`,
          `${fmt(m('supervisor', 'cpuUsPerResponse'), 'µs')} (${fmt(m('supervisor', 'gcCostUsPerResponse'), 'µs')})`,
          peers('cpuUsPerResponse', 'µs'),
        ),
      );
    }
    return {
      figures,
      rows,
      notes: [
        `${rounds} round(s) × ${seconds} s per process and body${smoke ? '' : ' after a 1 s warm-up of each'}, order rotated per round; wrk -t1; all on the supervisor's Node, each with the GC probe (v8.GCProfiler preload); heap after GC: median after the window's mark-compacts (else the lowest after any GC); CPU: all threads, from /proc`,
      ],
    };
  } finally {
    for (const proc of started.reverse()) await proc.stop().catch(() => undefined);
    await sup.stop();
  }
}
