// 2. WebSocket forwarding overhead: closed-loop echo through the supervisor vs directly to the same
// echo server vs through nginx, measured round by round side by side.
import { join } from 'node:path';
import { runToEnd } from './lib/procs.mjs';
import { TARGETS, rotated, startPaths } from './lib/paths.mjs';
import { row } from './lib/report.mjs';
import { fmt, fmtRatio, threePathFigures } from './lib/stats.mjs';

export const id = 'ws';
export const title = '2. WebSocket forwarding';

const WS_LOAD = join(import.meta.dirname, 'lib', 'ws-load.mjs');
export const CASES = [
  { key: 'b64_c1', size: 64, connections: 1, label: '64 B, 1 conn' },
  { key: 'b64_c100', size: 64, connections: 100, label: '64 B, 100 conns' },
  { key: 'kb16_c1', size: 16 * 1024, connections: 1, label: '16 KB, 1 conn' },
  { key: 'kb16_c100', size: 16 * 1024, connections: 100, label: '16 KB, 100 conns' },
];

/** One closed-loop run in a separate load-generator process. */
export async function wsLoad(port, { size, connections }, { warmupMs, durationMs }) {
  const config = { url: `ws://127.0.0.1:${port}/`, size, connections, warmupMs, durationMs, maxMessages: 2_000_000 };
  const { code, lines } = await runToEnd(process.execPath, [WS_LOAD, JSON.stringify(config)], { timeoutMs: warmupMs + durationMs + 30_000 });
  const json = lines.filter((line) => line.startsWith('{')).pop();
  const result = json ? JSON.parse(json) : { error: lines.slice(-3).join(' | ') };
  if (code !== 0 || result.error) throw new Error(`ws load on port ${port} failed: ${result.error ?? code}`);
  return result;
}

export async function run({ smoke, log, tools }) {
  const rounds = smoke ? 1 : 5;
  const timing = smoke ? { warmupMs: 50, durationMs: 200 } : { warmupMs: 300, durationMs: 1500 };
  const paths = await startPaths(tools.nginx);
  /** results[case][target] = one result per round */
  const results = Object.fromEntries(CASES.map((c) => [c.key, Object.fromEntries(TARGETS.map((t) => [t, []]))]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const c of CASES) {
        for (const target of rotated(TARGETS, r)) {
          const cpu0 = paths.proxyCpuMs(target);
          const result = await wsLoad(paths.ports[target], c, timing);
          // CPU per echo is the proxies' efficiency, far less sensitive to scheduling noise than rates.
          result.proxyCpuUsPerMessage = ((paths.proxyCpuMs(target) - cpu0) * 1000) / result.totalMessages;
          if (result.errors > 0) log(`warning: ${result.errors} errors on ${target} ${c.label}`);
          results[c.key][target].push(result);
        }
        const line = TARGETS.map((t) => `${t} ${fmt(results[c.key][t][r].rate)}/s p50 ${fmt(results[c.key][t][r].p50us, 'µs')}`).join(', ');
        log(`ws ${c.label} round ${r + 1}/${rounds}: ${line}`);
      }
    }
  } finally {
    await paths.stop();
  }

  const figures = {};
  const rows = [];
  for (const c of CASES) {
    const f = threePathFigures(results[c.key], 'rate', 'proxyCpuUsPerMessage');
    for (const [name, value] of Object.entries(f)) figures[`${c.key}_${name}`] = value;
    rows.push(
      row(
        `${c.label}: msgs/s, supervisor ÷ direct`,
        `${fmtRatio(f.supervisorOverDirect)} (${fmt(f.supervisorRate)} vs ${fmt(f.directRate)})`,
        `nginx ÷ direct ${fmtRatio(f.nginxOverDirect)} (${fmt(f.nginxRate)})`,
        '≥ 0.80×',
        f.supervisorOverDirect >= 0.8,
      ),
      row(`${c.label}: msgs/s, supervisor ÷ nginx`, fmtRatio(f.supervisorOverNginx), '', '≥ 0.80×', f.supervisorOverNginx >= 0.8),
      row(
        `${c.label}: p50 / p99 round trip`,
        `${fmt(f.supervisorP50us, 'µs')} / ${fmt(f.supervisorP99us, 'µs')} (+${fmt(f.supervisorAddedP50us, 'µs')} p50)`,
        `direct ${fmt(f.directP50us, 'µs')} / ${fmt(f.directP99us, 'µs')}; nginx ${fmt(f.nginxP50us, 'µs')} / ${fmt(f.nginxP99us, 'µs')} (+${fmt(f.nginxAddedP50us, 'µs')})`,
        // With 100 connections in a closed loop, p50 ≈ connections ÷ rate (Little's law): the
        // added latency there is the throughput ratio again, not a forwarding delay.
        c.connections === 1 ? 'added p50 < 100 µs' : '',
        c.connections === 1 ? f.supervisorAddedP50us < 100 : null,
      ),
      row(`${c.label}: proxy CPU per echo`, fmt(f.supervisorCpuUsPerMessage, 'µs'), `nginx ${fmt(f.nginxCpuUsPerMessage, 'µs')}`),
    );
  }
  return {
    figures,
    rows,
    notes: [`${rounds} round(s) × ${timing.durationMs} ms per path and case after ${timing.warmupMs} ms warm-up; load generator: Node + ws in its own process; one fake-gateway echo server behind all three paths`],
  };
}
