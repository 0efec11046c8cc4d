// 8. Forwarding through the REAL gateway (the pinned openclaw on Node 24), side by side in
// interleaved rounds on five paths to the same gateway process: directly, through the supervisor
// that spawned it (on the supervisor's Node, i.e. Node 24 from .runtime/ like the image), through
// nginx, through http-proxy as the public Node templates run it (ws: true, no agent), and through
// the bare Node proxy (bench/peers/bare-proxy.mjs: node:http + undici Pool + raw WebSocket
// tunnel, the floor of a Node front door, for the supervisor's CPU per request). Traffic:
// the Control UI page (GET /), its largest JS bundle (found from the page), /health, and a
// WebSocket session setup (connect → challenge → `connect` with the token → hello-ok).
// Goals: on every row ≥ 1.0× http-proxy's rate and ≥ 0.8× nginx's, with an added p50 within 100 µs
// of nginx's (read on one connection: with several, p50 is the rate again), and a CPU per request
// at most 1.2× the bare Node proxy's.
import http from 'node:http';
import os from 'node:os';
import zlib from 'node:zlib';
import { join } from 'node:path';
import { startNginx } from './lib/nginx.mjs';
import { childrenOf } from './lib/paths.mjs';
import { startPeer } from './lib/peers.mjs';
import { take } from './lib/real-gateway-pool.mjs';
import { cpuMs, runToEnd } from './lib/procs.mjs';
import { row } from './lib/report.mjs';
import { fmt, fmtRatio, median, medianDiff, medianRatio } from './lib/stats.mjs';
import { IMAGE_ENV, IMAGE_NODE_FLAGS, startSupervisor } from './lib/supervisor.mjs';
import { runWrk } from './lib/wrk.mjs';

export const id = 'realfwd';
export const title = '8. Real gateway forwarding';

export const TARGETS = ['direct', 'supervisor', 'nginx', 'http-proxy', 'bare'];
const WS_CONNECT_LOAD = join(import.meta.dirname, 'lib', 'ws-connect-load.mjs');
const GOAL_OVER_HTTP_PROXY = 1.0;
const GOAL_OVER_NGINX = 0.8;
const GOAL_P50_OVER_NGINX_US = 100;
const GOAL_CPU_OVER_BARE = 1.2;

// What a browser sends: the gateway serves the Control UI's assets precompressed (.br/.gz) then.
const BROWSER_HEADERS = { 'accept-encoding': 'gzip, deflate, br' };
// The Control UI bundle the issue measured: ~107 KB as served to a browser (brotli).
const BUNDLE_TARGET_BYTES = 107 * 1024;

/** GET on loopback without keep-alive; resolves { status, body (Buffer, as served), encoding }. */
function get(port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), encoding: res.headers['content-encoding'] ?? null }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

/**
 * The Control UI bundle: of the scripts the page loads (script src and modulepreload), the one whose
 * size as served to a browser is nearest the ~107 KB of the issue's measurement.
 */
export async function findBundle(port) {
  const page = await get(port, '/', BROWSER_HEADERS);
  if (page.status !== 200) throw new Error(`GET / answered ${page.status}: ${page.body.toString('utf8').slice(0, 200)}`);
  const decode = { br: zlib.brotliDecompressSync, gzip: zlib.gunzipSync, deflate: zlib.inflateSync }[page.encoding] ?? ((body) => body);
  const html = decode(page.body).toString('utf8');
  const base = new URL('http://x/');
  const links = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+\.js)"/g)].map((m) => new URL(m[1], base).pathname);
  let best = null;
  for (const path of new Set(links)) {
    const res = await get(port, path, BROWSER_HEADERS);
    if (res.status !== 200) continue;
    const candidate = { path, bytes: res.body.length, encoding: res.encoding };
    if (best === null || Math.abs(candidate.bytes - BUNDLE_TARGET_BYTES) < Math.abs(best.bytes - BUNDLE_TARGET_BYTES)) best = candidate;
  }
  if (best === null) throw new Error(`no script found in the Control UI page (${page.body.length} B)`);
  return { pageBytes: page.body.length, pageEncoding: page.encoding, bundle: best };
}

async function wsConnectLoad(port, token, { connections }, { warmupMs, durationMs }) {
  const config = { url: `ws://127.0.0.1:${port}/`, token, connections, warmupMs, durationMs, maxSessions: 100_000 };
  const { code, lines } = await runToEnd(process.execPath, [WS_CONNECT_LOAD, JSON.stringify(config)], { timeoutMs: warmupMs + durationMs + 30_000 });
  const json = lines.filter((line) => line.startsWith('{')).pop();
  const result = json ? JSON.parse(json) : { error: lines.slice(-3).join(' | ') };
  if (code !== 0 || result.error) throw new Error(`ws connect load on port ${port} failed: ${result.error ?? code}`);
  return { requests: result.totalMessages, rps: result.rate, p50us: result.p50us, p99us: result.p99us, errors: result.errors, lastError: result.lastError };
}

/** Figures of one case from its per-round results on every path. */
export function fourPathFigures(by) {
  const s = (path, key) => by[path].map((round) => round[key]);
  const best = by.nginx.map((round, i) => Math.max(round.rps, by['http-proxy'][i].rps));
  const f = {
    supervisorOverBestPeer: medianRatio(s('supervisor', 'rps'), best),
    supervisorOverHttpProxy: medianRatio(s('supervisor', 'rps'), s('http-proxy', 'rps')),
    supervisorOverNginx: medianRatio(s('supervisor', 'rps'), s('nginx', 'rps')),
    supervisorOverDirect: medianRatio(s('supervisor', 'rps'), s('direct', 'rps')),
    nginxOverDirect: medianRatio(s('nginx', 'rps'), s('direct', 'rps')),
    httpProxyOverDirect: medianRatio(s('http-proxy', 'rps'), s('direct', 'rps')),
    supervisorP50OverNginxUs: medianDiff(s('supervisor', 'p50us'), s('nginx', 'p50us')),
    supervisorOverBare: by.bare ? medianRatio(s('supervisor', 'rps'), s('bare', 'rps')) : Number.NaN,
    supervisorCpuOverBare: by.bare ? medianRatio(s('supervisor', 'proxyCpuUsPerRequest'), s('bare', 'proxyCpuUsPerRequest')) : Number.NaN,
  };
  for (const path of TARGETS) {
    if (!by[path]) continue;
    const key = path === 'http-proxy' ? 'httpProxy' : path;
    f[`${key}Rps`] = median(s(path, 'rps'));
    f[`${key}P50us`] = median(s(path, 'p50us'));
    f[`${key}P99us`] = median(s(path, 'p99us'));
    f[`${key}GatewayCpuUsPerRequest`] = median(s(path, 'gatewayCpuUsPerRequest'));
    if (path !== 'direct') {
      f[`${key}AddedP50us`] = medianDiff(s(path, 'p50us'), s('direct', 'p50us'));
      f[`${key}CpuUsPerRequest`] = median(s(path, 'proxyCpuUsPerRequest'));
    }
  }
  return f;
}

export async function run({ smoke, log, tools }) {
  const rounds = smoke ? 1 : 5;
  const seconds = smoke ? 1 : 2;
  const wsTiming = smoke ? { warmupMs: 50, durationMs: 300 } : { warmupMs: 300, durationMs: 2000 };
  // Benchmark 7's last supervisor and real gateway when it ran just before (same settings), else a new one.
  const sup = take() ?? (await startSupervisor({ gateway: null, env: { SUPERVISOR_STARTUP_TIMEOUT_MS: '120000' } }));
  let nginx;
  let proxy;
  let bare;
  try {
    await sup.waitFor('gateway.ready', undefined, 120_000);
    const gatewayPid = sup.events('gateway.spawned').at(-1).record.gatewayPid;
    nginx = await startNginx(tools.nginx, sup.gatewayPort);
    proxy = await startPeer('http-proxy', sup.gatewayPort);
    // REALFWD_BARE_AS_IMAGE=1: the bare proxy with the supervisor's runtime settings (1 MB semi-space,
    // jemalloc), to tell the front door's own cost from the price of the image's memory bound.
    const asImage = process.env.REALFWD_BARE_AS_IMAGE === '1';
    bare = await startPeer('bare', sup.gatewayPort, asImage ? { nodeArgs: IMAGE_NODE_FLAGS, env: IMAGE_ENV } : {});
    const ports = { direct: sup.gatewayPort, supervisor: sup.port, nginx: nginx.port, 'http-proxy': proxy.port, bare: bare.port };
    const proxyPids = { direct: [], supervisor: [sup.pid], nginx: [nginx.proc.pid, ...childrenOf(nginx.proc.pid)], 'http-proxy': [proxy.pid], bare: [bare.pid] };
    const cpuOf = (pids) => pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
    const { pageBytes, pageEncoding, bundle } = await findBundle(sup.gatewayPort);
    log(`real gateway ready; Control UI page ${fmt(pageBytes / 1024, 'KB')} (${pageEncoding ?? 'identity'}), bundle ${bundle.path} ${fmt(bundle.bytes / 1024, 'KB')} (${bundle.encoding ?? 'identity'})`);

    const kb = (bytes) => `${Math.round(bytes / 1024)} KB`;
    const CASES = [
      { key: 'bundle_c1', path: bundle.path, connections: 1, label: `Control UI bundle (${kb(bundle.bytes)}${bundle.encoding ? ` ${bundle.encoding}` : ''}), 1 conn` },
      { key: 'wsconnect_c1', ws: true, connections: 1, label: 'WS connect → hello-ok, 1 conn' },
      // The smoke mode only checks that every path works: two cases are enough for that.
      ...(smoke
        ? []
        : [
            { key: 'page_c1', path: '/', connections: 1, label: `GET / (${kb(pageBytes)}${pageEncoding ? ` ${pageEncoding}` : ''}), 1 conn` },
            { key: 'health_c1', path: '/health', connections: 1, label: '/health, 1 conn' },
            { key: 'page_c8', path: '/', connections: 8, label: `GET / (${kb(pageBytes)}${pageEncoding ? ` ${pageEncoding}` : ''}), 8 conns` },
            { key: 'bundle_c8', path: bundle.path, connections: 8, label: `Control UI bundle (${kb(bundle.bytes)}${bundle.encoding ? ` ${bundle.encoding}` : ''}), 8 conns` },
            { key: 'health_c8', path: '/health', connections: 8, label: '/health, 8 conns' },
            { key: 'wsconnect_c4', ws: true, connections: 4, label: 'WS connect → hello-ok, 4 conns' },
          ]),
    ];
    const once = (target, c, secs) =>
      c.ws
        ? wsConnectLoad(ports[target], sup.token, c, secs === 1 ? { warmupMs: 100, durationMs: 1000 } : wsTiming)
        : runWrk(tools.wrk, `http://127.0.0.1:${ports[target]}${c.path}`, { connections: c.connections, seconds: secs, headers: BROWSER_HEADERS });
    // REALFWD_CASES=health_c1,bundle_c8: only these cases (A/B runs of one change); all by default.
    const only = process.env.REALFWD_CASES?.split(',');
    if (only) CASES.splice(0, CASES.length, ...CASES.filter((c) => only.includes(c.key)));
    const results = Object.fromEntries(CASES.map((c) => [c.key, Object.fromEntries(TARGETS.map((t) => [t, []]))]));
    // JIT, keep-alive pools and nginx's upstream connections warm before anything counts.
    if (!smoke) for (const c of CASES) for (const target of TARGETS) await once(target, c, 1);
    for (let r = 0; r < rounds; r++) {
      for (const c of CASES) {
        for (const target of TARGETS.map((_, i) => TARGETS[(i + r) % TARGETS.length])) {
          const cpu0 = cpuOf(proxyPids[target]);
          const gw0 = cpuMs(gatewayPid) ?? 0;
          const result = await once(target, c, seconds);
          result.proxyCpuUsPerRequest = ((cpuOf(proxyPids[target]) - cpu0) * 1000) / result.requests;
          result.gatewayCpuUsPerRequest = (((cpuMs(gatewayPid) ?? 0) - gw0) * 1000) / result.requests;
          if (result.errors > 0) log(`warning: ${result.errors} errors on ${target} ${c.label}${result.lastError ? ` (${result.lastError})` : ''}`);
          results[c.key][target].push(result);
        }
        log(`realfwd ${c.label} round ${r + 1}/${rounds}: ${TARGETS.map((t) => `${t} ${fmt(results[c.key][t][r].rps)}/s p50 ${fmt(results[c.key][t][r].p50us, 'µs')} cpu ${fmt(results[c.key][t][r].proxyCpuUsPerRequest, 'µs')}`).join(', ')}`);
      }
    }

    const figures = { pageKB: pageBytes / 1024, bundleKB: bundle.bytes / 1024 };
    const rows = [];
    for (const c of CASES) {
      const f = fourPathFigures(results[c.key]);
      for (const [name, value] of Object.entries(f)) figures[`${c.key}_${name}`] = value;
      const unit = c.ws ? 'sessions/s' : 'req/s';
      const rateMet = f.supervisorOverHttpProxy >= GOAL_OVER_HTTP_PROXY && f.supervisorOverNginx >= GOAL_OVER_NGINX;
      rows.push(
        row(
          `${c.label}: ${unit}, supervisor ÷ best peer`,
          `${fmtRatio(f.supervisorOverBestPeer)} (${fmt(f.supervisorRps)})`,
          `÷ http-proxy ${fmtRatio(f.supervisorOverHttpProxy)}, ÷ nginx ${fmtRatio(f.supervisorOverNginx)}, ÷ direct ${fmtRatio(f.supervisorOverDirect)}; direct ${fmt(f.directRps)}, nginx ${fmt(f.nginxRps)}, http-proxy ${fmt(f.httpProxyRps)}, bare ${fmt(f.bareRps)} (÷ bare ${fmtRatio(f.supervisorOverBare)})`,
          `≥ ${GOAL_OVER_HTTP_PROXY.toFixed(2)}× http-proxy, ≥ ${GOAL_OVER_NGINX.toFixed(2)}× nginx`,
          rateMet,
        ),
        row(
          `${c.label}: p50 / p99`,
          `${fmt(f.supervisorP50us, 'µs')} / ${fmt(f.supervisorP99us, 'µs')} (+${fmt(f.supervisorAddedP50us, 'µs')} p50, ${f.supervisorP50OverNginxUs >= 0 ? '+' : ''}${fmt(f.supervisorP50OverNginxUs, 'µs')} vs nginx)`,
          `direct ${fmt(f.directP50us, 'µs')} / ${fmt(f.directP99us, 'µs')}; nginx ${fmt(f.nginxP50us, 'µs')} (+${fmt(f.nginxAddedP50us, 'µs')}); http-proxy ${fmt(f.httpProxyP50us, 'µs')} (+${fmt(f.httpProxyAddedP50us, 'µs')}); bare ${fmt(f.bareP50us, 'µs')} (+${fmt(f.bareAddedP50us, 'µs')})`,
          c.connections === 1 ? `added p50 ≤ nginx's + ${GOAL_P50_OVER_NGINX_US} µs` : '',
          c.connections === 1 ? f.supervisorP50OverNginxUs <= GOAL_P50_OVER_NGINX_US : null,
        ),
        row(
          `${c.label}: proxy CPU per ${c.ws ? 'session' : 'request'}, supervisor (÷ bare Node proxy)`,
          `${fmt(f.supervisorCpuUsPerRequest, 'µs')} (${fmtRatio(f.supervisorCpuOverBare)})`,
          `bare ${fmt(f.bareCpuUsPerRequest, 'µs')}, nginx ${fmt(f.nginxCpuUsPerRequest, 'µs')}, http-proxy ${fmt(f.httpProxyCpuUsPerRequest, 'µs')}; the gateway's own: ${fmt(f.directGatewayCpuUsPerRequest, 'µs')} direct, ${fmt(f.supervisorGatewayCpuUsPerRequest, 'µs')} via the supervisor`,
          `≤ ${GOAL_CPU_OVER_BARE.toFixed(1)}× bare`,
          f.supervisorCpuOverBare <= GOAL_CPU_OVER_BARE,
        ),
      );
    }
    return {
      figures,
      rows,
      notes: [
        `${rounds} round(s) × ${seconds} s per path and case${smoke ? '' : ' after a 1 s warm-up of each'}, path order rotated per round; one real gateway (openclaw ${sup.events('gateway.spawned').at(-1)?.record?.version ?? 'pinned'}) behind all five paths; wrk -t1 for HTTP with a browser's Accept-Encoding (gzip, deflate, br), a closed-loop Node + ws session client for WS; http-proxy with ws: true, no agent; nginx: 1 worker, upstream keep-alive; bare: node:http + undici Pool, raw WebSocket tunnel${process.env.REALFWD_BARE_AS_IMAGE === '1' ? `, run as the image runs the supervisor (${IMAGE_NODE_FLAGS.join(' ')}, jemalloc)` : ", on Node's defaults"}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the end`,
      ],
    };
  } finally {
    await proxy?.stop();
    await bare?.stop();
    await nginx?.stop();
    await sup.stop('SIGTERM', 15_000);
  }
}
