import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../helpers/ports.js';
import { pollUntil } from '../helpers/proc.js';
import { TEST_TOKEN, startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';
import { webhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const running: RunningSupervisor[] = [];
const servers: http.Server[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.kill()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  for (const rx of receivers.splice(0)) rx.close();
});

async function start(options: Parameters<typeof startSupervisor>[0]): Promise<RunningSupervisor> {
  const s = await startSupervisor(options);
  running.push(s);
  return s;
}

function get(url: string | http.RequestOptions): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

/** `name{labels}` → value, from a Prometheus text exposition. */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

const SECRET_PATH = 'services/T0/B0/hOoKsEcReT';

/** A local incoming-webhook receiver on loopback: `mode` 200, 500, or hang (reads, never answers). */
async function receiver(mode: 'ok' | 'fail' | 'hang'): Promise<WebhookReceiver> {
  const rx = await webhookReceiver({ path: `/${SECRET_PATH}`, answer: mode });
  receivers.push(rx);
  return rx;
}

const REQUIRED: Record<string, string> = {
  openclaw_supervisor_gateway_state: 'gauge',
  openclaw_supervisor_gateway_restarts_total: 'counter',
  openclaw_supervisor_gateway_give_ups_total: 'counter',
  openclaw_supervisor_gateway_spawn_to_ready_seconds: 'histogram',
  openclaw_supervisor_gateway_ready_transitions_total: 'counter',
  openclaw_supervisor_websocket_sessions_open: 'gauge',
  openclaw_supervisor_websocket_sessions_total: 'counter',
  openclaw_supervisor_http_responses_total: 'counter',
  openclaw_supervisor_upstream_errors_total: 'counter',
  openclaw_supervisor_client_bytes_total: 'counter',
  openclaw_supervisor_drain_duration_seconds: 'histogram',
  openclaw_supervisor_drain_requests_total: 'counter',
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
};

describe('metrics (SUPERVISOR_METRICS_PORT)', () => {
  it('are off by default: no listener, the public port forwards /metrics to the gateway', async () => {
    const s = await start({});
    await s.waitFor('gateway.ready');
    expect((await s.waitFor('supervisor.operations'))['metrics']).toBeNull();
    const answer = await get(s.url('/metrics'));
    expect(answer.body).toBe('fake gateway GET /metrics');
  });

  it('are scraped for real on their own port: names, types, values after traffic; no secret and no address in any label', async () => {
    const metricsPort = await freePort();
    const s = await start({ env: { SUPERVISOR_METRICS_PORT: String(metricsPort), SUPERVISOR_METRICS_HOST: '127.0.0.1' } });
    await s.waitFor('gateway.ready');
    expect((await s.waitFor('supervisor.operations'))['metrics']).toEqual({ address: '127.0.0.1', port: metricsPort, path: '/metrics' });

    // Traffic: 3 × 2xx forwarded, one own 200 (/readyz), one 400 (dot segments), one WebSocket session.
    for (let i = 0; i < 3; i++) expect((await get(s.url(`/page?i=${i}&client=10.9.8.7`))).status).toBe(200);
    expect((await get(s.url('/readyz'))).status).toBe(200);
    expect((await get({ host: '127.0.0.1', port: s.port, path: '/a/%2e%2e/b' })).status).toBe(400); // (a URL string would resolve the dots)
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send('hello');
    await new Promise((resolve) => ws.once('message', resolve));

    const scrape = await get(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const types = Object.fromEntries([...scrape.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    for (const [name, type] of Object.entries(REQUIRED)) expect(types[name], name).toBe(type);
    const v = samples(scrape.body);
    expect(v.get('openclaw_supervisor_gateway_state{state="ready"}')).toBe(1);
    expect(v.get('openclaw_supervisor_gateway_state{state="starting"}')).toBe(0);
    expect(v.get('openclaw_supervisor_gateway_spawn_to_ready_seconds_count')).toBe(1);
    expect(v.get('openclaw_supervisor_gateway_ready_transitions_total{to="ready"}')).toBe(1);
    expect(v.get('openclaw_supervisor_gateway_restarts_total{cause="failure"}')).toBe(0);
    expect(v.get('openclaw_supervisor_http_responses_total{code_class="2xx"}')).toBeGreaterThanOrEqual(4);
    expect(v.get('openclaw_supervisor_http_responses_total{code_class="4xx"}')).toBe(1);
    expect(v.get('openclaw_supervisor_websocket_sessions_total')).toBe(1);
    expect(v.get('openclaw_supervisor_websocket_sessions_open')).toBe(1);
    expect(v.get('openclaw_supervisor_client_bytes_total{direction="in"}')).toBeGreaterThan(300);
    expect(v.get('openclaw_supervisor_client_bytes_total{direction="out"}')).toBeGreaterThan(300);

    // Labels: enumerated values only.
    const labelValues = [...scrape.body.matchAll(/[a-z_]+="([^"]*)"/g)].map((m) => m[1]!);
    expect(labelValues.length).toBeGreaterThan(20);
    for (const value of labelValues) {
      expect(value).not.toContain(TEST_TOKEN);
      expect(value).not.toMatch(/\d+\.\d+\.\d+\.\d+|::|\//);
    }
    expect(scrape.body).not.toContain(TEST_TOKEN);
    expect(scrape.body).not.toContain('10.9.8.7');
    expect(scrape.body).not.toContain('203.0.113.9');

    // Only /metrics, only GET/HEAD.
    expect((await get(`http://127.0.0.1:${metricsPort}/`)).status).toBe(404);
    ws.close();
  });

  it('count a restart by cause and the new readiness', async () => {
    const metricsPort = await freePort();
    const s = await start({ env: { SUPERVISOR_METRICS_PORT: String(metricsPort), SUPERVISOR_METRICS_HOST: '127.0.0.1' } });
    const first = await s.waitFor('gateway.ready');
    process.kill(first['gatewayPid'] as number, 'SIGUSR2'); // exit 0 after ready: a restart request
    await s.waitFor('gateway.ready', (r) => r['gatewayPid'] !== first['gatewayPid']);
    const v = samples((await get(`http://127.0.0.1:${metricsPort}/metrics`)).body);
    expect(v.get('openclaw_supervisor_gateway_restarts_total{cause="restart-request"}')).toBe(1);
    expect(v.get('openclaw_supervisor_gateway_ready_transitions_total{to="ready"}')).toBe(2);
    expect(v.get('openclaw_supervisor_gateway_ready_transitions_total{to="not_ready"}')).toBe(1);
    expect(v.get('openclaw_supervisor_gateway_exits_total{outcome="restart-request"}')).toBe(1);
    expect(v.get('openclaw_supervisor_gateway_spawn_to_ready_seconds_count')).toBe(2);
  });

  it('count upstream errors, 5xx and answers cut when the gateway dies mid-request, and the crash', async () => {
    const metricsPort = await freePort();
    const s = await start({ env: { SUPERVISOR_METRICS_PORT: String(metricsPort), SUPERVISOR_METRICS_HOST: '127.0.0.1', FAKE_LOG_REQUESTS: '1' } });
    const ready = await s.waitFor('gateway.ready');
    const reached = (path: string) => s.waitFor('gateway.log', (r) => String(r['line']).endsWith(`GET ${path} received`));
    // A client that leaves before its answer, once the gateway has its request: no status went out.
    const leaving = http.get({ host: '127.0.0.1', port: s.port, path: '/slow?ms=3000' });
    leaving.on('error', () => undefined);
    await reached('/slow?ms=3000');
    leaving.destroy();
    // A request in flight when the gateway is SIGKILLed: 502.
    const pending = get({ host: '127.0.0.1', port: s.port, path: '/slow?ms=5000' });
    await reached('/slow?ms=5000');
    process.kill(ready['gatewayPid'] as number, 'SIGKILL');
    expect((await pending).status).toBe(502);
    await s.waitFor('gateway.ready', (r) => r['gatewayPid'] !== ready['gatewayPid']);
    const v = samples((await get(`http://127.0.0.1:${metricsPort}/metrics`)).body);
    expect(v.get('openclaw_supervisor_upstream_errors_total{kind="http"}')).toBe(1);
    expect(v.get('openclaw_supervisor_http_responses_total{code_class="5xx"}')).toBe(1);
    expect(v.get('openclaw_supervisor_http_responses_total{code_class="none"}')).toBe(1);
    expect(v.get('openclaw_supervisor_gateway_restarts_total{cause="failure"}')).toBe(1);
    expect(v.get('openclaw_supervisor_gateway_exits_total{outcome="failure"}')).toBe(1);
    expect(v.get('openclaw_supervisor_gateway_ready_transitions_total{to="not_ready"}')).toBe(1);
  });

  it('a metrics port in use is a start failure (exit 1) naming the setting', async () => {
    const blocker = http.createServer();
    servers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const s = await start({ env: { SUPERVISOR_METRICS_PORT: String(port), SUPERVISOR_METRICS_HOST: '127.0.0.1' } });
    const exit = await s.exited;
    expect(exit.code).toBe(1);
    expect(s.output.join('\n')).toContain('SUPERVISOR_METRICS_PORT');
  });
});

describe('/readyz and /healthz details', () => {
  it('carry the state, restarts, the last exit and the time ready; nothing secret', async () => {
    const s = await start({});
    const first = await s.waitFor('gateway.ready');
    const before = JSON.parse((await get(s.url('/readyz'))).body) as Record<string, unknown>;
    expect(before).toMatchObject({ status: 'ok', state: 'ready', gateway: 'ready', draining: false, restarts: 0, lastExit: null, lastReadyAgoMs: null });
    expect(before['readyForMs']).toBeGreaterThanOrEqual(0);

    process.kill(first['gatewayPid'] as number, 'SIGUSR2');
    await s.waitFor('gateway.ready', (r) => r['gatewayPid'] !== first['gatewayPid']);
    // readyForMs must have grown past 0 (a bounded poll, not a guess of how long that takes).
    expect(await pollUntil(async () => (JSON.parse((await get(s.url('/readyz'))).body) as { readyForMs: number }).readyForMs > 0, 5_000)).toBe(true);
    const ready = await get(s.url('/readyz'));
    const live = await get(s.url('/healthz'));
    for (const answer of [ready, live]) {
      expect(answer.status).toBe(200);
      const body = JSON.parse(answer.body) as Record<string, unknown>;
      expect(body).toMatchObject({ state: 'ready', restarts: 1, lastExit: { code: 0, signal: null, reason: 'restart-request' }, lastReadyAgoMs: null });
      expect(Date.parse((body['lastExit'] as { at: string }).at)).toBeGreaterThan(Date.now() - 30_000);
      expect(body['readyForMs']).toBeGreaterThan(0);
      expect(answer.body).not.toContain(TEST_TOKEN);
    }
  });
});

describe('alerts (SUPERVISOR_ALERT_WEBHOOK)', () => {
  const crashing = { FAKE_EXIT_CODE: '1', FAKE_PRINT_TOKEN: '1', SUPERVISOR_RESTART_LIMIT_BURST: '3' };

  it('a crash-loop give-up produces exactly one alert, with a text and structured fields, and never the token', async () => {
    const rx = await receiver('ok');
    const s = await start({ env: { ...crashing, SUPERVISOR_ALERT_WEBHOOK: rx.url } });
    const exit = await s.exited;
    expect(exit.code).toBe(1);
    expect(rx.bodies).toHaveLength(1);
    const alert = rx.bodies[0]!;
    expect(alert).toMatchObject({ kind: 'crash_loop', severity: 'critical', gateway: { state: 'failed', restarts: 2, lastExit: { code: 1, signal: null, reason: 'failure' } }, facts: { failures: 3, limitBurst: 3, exitCode: 1 } });
    expect(alert['text']).toMatch(/^🔴 openclaw-supervisor on .*the gateway failed 3 times/);
    expect(JSON.stringify(alert)).not.toContain(TEST_TOKEN);
    expect(s.events('ops.alert_sent')).toHaveLength(1);
    // The webhook URL (its secret path) is in no log line.
    expect(s.output.join('\n')).not.toContain('hOoKsEcReT');
  });

  it('N failure restarts within the window alert once before the give-up', async () => {
    const rx = await receiver('ok');
    const s = await start({ env: { ...crashing, SUPERVISOR_RESTART_LIMIT_BURST: '5', SUPERVISOR_ALERT_RESTARTS: '2', SUPERVISOR_ALERT_WINDOW_MS: '60000', SUPERVISOR_ALERT_WEBHOOK: rx.url } });
    expect((await s.exited).code).toBe(1);
    expect(rx.bodies.map((b) => b['kind'])).toEqual(['restarts', 'crash_loop']);
    expect(rx.bodies[0]).toMatchObject({ severity: 'warning', facts: { restartsInWindow: 2, threshold: 2, windowMs: 60_000, lastCause: 'failure' } });
  });

  it('a refusal (78) produces one alert and exit 78', async () => {
    const rx = await receiver('ok');
    const s = await start({ env: { FAKE_EXIT_CODE: '78', SUPERVISOR_ALERT_WEBHOOK: rx.url } });
    expect((await s.exited).code).toBe(78);
    expect(rx.bodies.map((b) => b['kind'])).toEqual(['refused']);
    expect(rx.bodies[0]).toMatchObject({ facts: { gatewayExitCode: 78, exitCode: 78 }, gateway: { lastExit: { code: 78, reason: 'refused' } } });
  });

  it('a receiver that hangs delays the exit by at most the 2 s bound', async () => {
    const rx = await receiver('hang');
    const s = await start({ env: { ...crashing, SUPERVISOR_ALERT_WEBHOOK: rx.url } });
    const gaveUp = await s.waitFor('gateway.crash_loop');
    const exit = await s.exited;
    expect(exit.code).toBe(1);
    const supervisorExited = await s.waitFor('supervisor.exited').catch(() => null);
    expect(supervisorExited).not.toBeNull();
    const delay = exit.at - Date.parse(String(gaveUp['time']));
    // cut of the sessions left (≤ 0.5 s) + the flush bound (2 s) + process exit.
    expect(delay).toBeGreaterThanOrEqual(1_900);
    expect(delay).toBeLessThan(3_500);
    expect(rx.bodies).toHaveLength(1);
    expect(s.events('ops.alerts_abandoned')).toEqual([expect.objectContaining({ abandoned: 1, boundMs: 2000 })]);
  });

  it('a receiver that answers 500 is retried within the bound, and the exit code stays 1', async () => {
    const rx = await receiver('fail');
    const s = await start({ env: { ...crashing, SUPERVISOR_ALERT_WEBHOOK: rx.url } });
    const gaveUp = await s.waitFor('gateway.crash_loop');
    const exit = await s.exited;
    expect(exit.code).toBe(1);
    expect(exit.at - Date.parse(String(gaveUp['time']))).toBeLessThan(3_500);
    // First attempt at once, the second 0.5-1 s later, the third 1-2 s after that (if within the bound).
    expect(rx.bodies.length).toBeGreaterThanOrEqual(2);
    expect(rx.bodies.length).toBeLessThanOrEqual(3);
    expect(new Set(rx.bodies.map((b) => b['kind']))).toEqual(new Set(['crash_loop']));
  });
});
