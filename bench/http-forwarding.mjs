// 3. HTTP forwarding overhead: wrk against the fake gateway directly, through the supervisor and
// through nginx, round by round side by side.
import { TARGETS, rotated, startPaths } from './lib/paths.mjs';
import { row } from './lib/report.mjs';
import { fmt, fmtRatio, threePathFigures } from './lib/stats.mjs';
import { runWrk } from './lib/wrk.mjs';

export const id = 'http';
export const title = '3. HTTP forwarding';

// 50 connections for the small GET (a busy front door), 10 for 1 MB bodies (bandwidth, not
// request rate, is what those measure; more would only queue).
const CASES = [
  { key: 'small1', path: '/hello', connections: 1, label: 'small GET, 1 conn' },
  { key: 'small', path: '/hello', connections: 50, label: 'small GET, 50 conns' },
  { key: 'mb1', path: `/bytes?n=${1024 * 1024}`, connections: 10, label: '1 MB GET, 10 conns' },
];

export async function run({ smoke, log, tools }) {
  const rounds = smoke ? 1 : 5;
  const seconds = smoke ? 1 : 2;
  const paths = await startPaths(tools.nginx);
  const results = Object.fromEntries(CASES.map((c) => [c.key, Object.fromEntries(TARGETS.map((t) => [t, []]))]));
  const url = (target, c) => `http://127.0.0.1:${paths.ports[target]}${c.path}`;
  try {
    // JIT, keep-alive pools and nginx's upstream connections warm before anything counts.
    if (!smoke) for (const c of CASES) for (const target of TARGETS) await runWrk(tools.wrk, url(target, c), { connections: c.connections, seconds: 1 });
    for (let r = 0; r < rounds; r++) {
      for (const c of CASES) {
        for (const target of rotated(TARGETS, r)) {
          const cpu0 = paths.proxyCpuMs(target);
          const result = await runWrk(tools.wrk, url(target, c), { connections: c.connections, seconds });
          result.proxyCpuUsPerRequest = ((paths.proxyCpuMs(target) - cpu0) * 1000) / result.requests;
          if (result.errors > 0) log(`warning: ${result.errors} errors on ${target} ${c.label}`);
          results[c.key][target].push(result);
        }
        log(`http ${c.label} round ${r + 1}/${rounds}: ${TARGETS.map((t) => `${t} ${fmt(results[c.key][t][r].rps)}/s p50 ${fmt(results[c.key][t][r].p50us, 'µs')}`).join(', ')}`);
      }
    }
  } finally {
    await paths.stop();
  }

  const figures = {};
  const rows = [];
  for (const c of CASES) {
    const f = threePathFigures(results[c.key], 'rps', 'proxyCpuUsPerRequest');
    for (const [name, value] of Object.entries(f)) figures[`${c.key}_${name}`] = value;
    rows.push(
      row(
        `${c.label}: req/s, supervisor ÷ direct`,
        `${fmtRatio(f.supervisorOverDirect)} (${fmt(f.supervisorRps)} vs ${fmt(f.directRps)})`,
        `nginx ÷ direct ${fmtRatio(f.nginxOverDirect)} (${fmt(f.nginxRps)})`,
        '≥ 0.80×',
        f.supervisorOverDirect >= 0.8,
      ),
      row(`${c.label}: req/s, supervisor ÷ nginx`, fmtRatio(f.supervisorOverNginx), '', '≥ 0.80×', f.supervisorOverNginx >= 0.8),
      row(
        `${c.label}: latency p50 / p99`,
        `${fmt(f.supervisorP50us, 'µs')} / ${fmt(f.supervisorP99us, 'µs')} (+${fmt(f.supervisorAddedP50us, 'µs')} p50)`,
        `direct ${fmt(f.directP50us, 'µs')} / ${fmt(f.directP99us, 'µs')}; nginx ${fmt(f.nginxP50us, 'µs')} / ${fmt(f.nginxP99us, 'µs')} (+${fmt(f.nginxAddedP50us, 'µs')})`,
        // With many connections in a closed loop, p50 ≈ connections ÷ rate (Little's law): the
        // added latency there is the throughput ratio again; the goal is read on one connection.
        c.connections === 1 ? 'added p50 < 100 µs' : '',
        c.connections === 1 ? f.supervisorAddedP50us < 100 : null,
      ),
      row(`${c.label}: proxy CPU per request`, fmt(f.supervisorCpuUsPerRequest, 'µs'), `nginx ${fmt(f.nginxCpuUsPerRequest, 'µs')}`),
    );
  }
  return {
    figures,
    rows,
    notes: [`wrk -t1, ${rounds} round(s) × ${seconds} s per path and case${smoke ? '' : ', after a 1 s warm-up of each'}; the fake gateway (Node http) behind all three paths; nginx: 1 worker, upstream keep-alive`],
  };
}
