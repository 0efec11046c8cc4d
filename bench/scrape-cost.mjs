#!/usr/bin/env node
// Issue 13: does scraping /metrics every second move forwarding? Two supervisors with the fake
// gateway (ready at once): one with metrics off, one with SUPERVISOR_METRICS_PORT set. The second
// runs every case twice per round, once while a scraper GETs /metrics every second and once without,
// rounds rotated; wrk -t1 against each path. Also: the cost of one scrape (time, CPU, size).
//   node bench/scrape-cost.mjs [--rounds N] [--seconds S]
import http from 'node:http';
import { freePort } from '../test/helpers/supervisor-process.mjs';
import { cpuMs, killAll } from './lib/procs.mjs';
import { fmt, median } from './lib/stats.mjs';
import { startSupervisor } from './lib/supervisor.mjs';
import { findTools } from './lib/tools.mjs';
import { runWrk } from './lib/wrk.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 5);
const SECONDS = arg('seconds', 2);
const CASES = [
  { key: 'small1', path: '/hello', connections: 1, label: 'small GET, 1 conn' },
  { key: 'small50', path: '/hello', connections: 50, label: 'small GET, 50 conns' },
  { key: 'mb10', path: `/bytes?n=${1024 * 1024}`, connections: 10, label: '1 MB GET, 10 conns' },
];
const MODES = ['off', 'on-idle', 'on-scraped'];

const get = (port, path) =>
  new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let size = 0;
      res.on('data', (chunk) => (size += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode, size }));
    }).on('error', reject);
  });

const tools = findTools();
const metricsPort = await freePort();
const off = await startSupervisor({ env: { FAKE_READY_AFTER_MS: '0' } });
const on = await startSupervisor({ env: { FAKE_READY_AFTER_MS: '0', SUPERVISOR_METRICS_PORT: String(metricsPort), SUPERVISOR_METRICS_HOST: '127.0.0.1' } });
try {
  await off.waitFor('gateway.ready');
  await on.waitFor('gateway.ready');

  // One scrape: wall time, the supervisor's CPU, the size of the answer (after some traffic).
  await runWrk(tools.wrk, `http://127.0.0.1:${on.port}/hello`, { connections: 10, seconds: 1 });
  const scrapes = [];
  for (let i = 0; i < 50; i++) {
    const cpu0 = cpuMs(on.pid);
    const t0 = performance.now();
    const { status, size } = await get(metricsPort, '/metrics');
    scrapes.push({ ms: performance.now() - t0, cpuMs: cpuMs(on.pid) - cpu0, size, status });
  }
  console.log(`one scrape: median ${fmt(median(scrapes.map((s) => s.ms)), 'ms', 2)} wall, ${fmt(median(scrapes.map((s) => s.cpuMs)), 'ms', 2)} supervisor CPU, ${scrapes[0].size} bytes, status ${scrapes[0].status}`);

  const results = Object.fromEntries(CASES.map((c) => [c.key, Object.fromEntries(MODES.map((m) => [m, []]))]));
  const runCase = async (mode, c) => {
    const sup = mode === 'off' ? off : on;
    let scraper = null;
    let scraped = 0;
    if (mode === 'on-scraped') {
      scraper = setInterval(() => void get(metricsPort, '/metrics').then(() => scraped++), 1000);
      await get(metricsPort, '/metrics');
    }
    const cpu0 = cpuMs(sup.pid);
    const r = await runWrk(tools.wrk, `http://127.0.0.1:${sup.port}${c.path}`, { connections: c.connections, seconds: SECONDS });
    r.cpuUsPerRequest = ((cpuMs(sup.pid) - cpu0) * 1000) / r.requests;
    if (scraper) clearInterval(scraper);
    if (r.errors > 0) console.log(`warning: ${r.errors} errors (${mode}, ${c.label})`);
    r.scraped = scraped;
    return r;
  };
  for (const c of CASES) for (const mode of MODES) await runCase(mode, c); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of CASES) {
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]);
      for (const mode of order) results[c.key][mode].push(await runCase(mode, c));
      console.log(`round ${round + 1}/${ROUNDS} ${c.label}: ${MODES.map((m) => `${m} ${fmt(results[c.key][m][round].rps)}/s`).join(', ')}`);
    }
  }
  console.log('\ncase | scraped ÷ not scraped, same process: req/s (median of rounds, min..max) | supervisor CPU/request');
  for (const c of CASES) {
    const idle = results[c.key]['on-idle'];
    const scraped = results[c.key]['on-scraped'];
    const ratios = scraped.map((r, i) => r.rps / idle[i].rps);
    const cpu = scraped.map((r, i) => r.cpuUsPerRequest / idle[i].cpuUsPerRequest);
    console.log(`${c.label} | ${median(ratios).toFixed(3)}× (${Math.min(...ratios).toFixed(3)}..${Math.max(...ratios).toFixed(3)}) | ${median(cpu).toFixed(3)}×`);
  }
  console.log('\ncase | mode | req/s (median) | p50 | p99 | supervisor CPU/request | req/s vs off (each round: min..max)');
  for (const c of CASES) {
    const base = results[c.key].off;
    for (const mode of MODES) {
      const rs = results[c.key][mode];
      const ratios = rs.map((r, i) => r.rps / base[i].rps);
      console.log(
        `${c.label} | ${mode} | ${fmt(median(rs.map((r) => r.rps)))} | ${fmt(median(rs.map((r) => r.p50us)), 'µs')} | ${fmt(median(rs.map((r) => r.p99us)), 'µs')} | ${fmt(median(rs.map((r) => r.cpuUsPerRequest)), 'µs')} | ${median(ratios).toFixed(3)}× (${Math.min(...ratios).toFixed(3)}..${Math.max(...ratios).toFixed(3)})`,
      );
    }
  }
} finally {
  await off.stop();
  await on.stop();
  killAll();
}
