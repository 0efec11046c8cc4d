import { describe, expect, it } from 'vitest';
import type { FrontDoorStats } from '../../../src/front-door/front-door.js';
import type { GatewayState } from '../../../src/gateway/lifecycle.js';
import type { RestartCause } from '../../../src/gateway/restart-policy.js';
import type { MemoryEvidence } from '../../../src/host/evidence.js';
import { createMetrics } from '../../../src/ops/metrics.js';
import { FIELDS, event } from '../../helpers/alert-steps.js';

const NOW = 1_000_000;

function stats(overrides: Partial<FrontDoorStats> = {}): FrontDoorStats {
  return {
    httpResponses: { '1xx': 0, '2xx': 7, '3xx': 1, '4xx': 2, '5xx': 3, none: 1 },
    websocketsOpened: 4,
    websocketsOpen: 2,
    inflightRequests: 1,
    upstreamErrors: { http: 3, websocket: 1 },
    bytesReceived: 1234,
    bytesSent: 98765,
    drain: { httpCompleted: 5, httpRejected: 6, httpCut: 7, websocketsClosed: 8, websocketsCut: 9 },
    ...overrides,
  };
}

function setup(state: GatewayState = 'ready', memory: MemoryEvidence | null = { currentBytes: 500, maxBytes: 1000, oom: 2, oomKill: 1 }) {
  const gateway = { state, readyAt: state === 'ready' ? NOW - 90_000 : null };
  const metrics = createMetrics({ gateway: () => gateway, frontDoor: () => stats(), memory: () => memory, now: () => NOW }, { defaultMetrics: false });
  return { metrics, gateway };
}

/** `name{labels} value` lines of the exposition, without comments. */
async function samples(text: Promise<string>): Promise<Map<string, number>> {
  const map = new Map<string, number>();
  for (const line of (await text).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

describe('createMetrics', () => {
  it('declares every metric with its type', async () => {
    const { metrics } = setup();
    const text = await metrics.registry.metrics();
    const types = Object.fromEntries([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    expect(types).toEqual({
      openclaw_supervisor_gateway_state: 'gauge',
      openclaw_supervisor_gateway_ready_seconds: 'gauge',
      openclaw_supervisor_gateway_restarts_total: 'counter',
      openclaw_supervisor_gateway_exits_total: 'counter',
      openclaw_supervisor_gateway_give_ups_total: 'counter',
      openclaw_supervisor_gateway_ready_transitions_total: 'counter',
      openclaw_supervisor_gateway_spawn_to_ready_seconds: 'histogram',
      openclaw_supervisor_gateway_unresponsive_kills_total: 'counter',
      openclaw_supervisor_gateway_update_rollbacks_total: 'counter',
      openclaw_supervisor_drain_duration_seconds: 'histogram',
      openclaw_supervisor_drain_deadline_hits_total: 'counter',
      openclaw_supervisor_http_responses_total: 'counter',
      openclaw_supervisor_upstream_errors_total: 'counter',
      openclaw_supervisor_client_bytes_total: 'counter',
      openclaw_supervisor_websocket_sessions_total: 'counter',
      openclaw_supervisor_drain_requests_total: 'counter',
      openclaw_supervisor_websocket_sessions_open: 'gauge',
      openclaw_supervisor_http_requests_inflight: 'gauge',
      openclaw_supervisor_cgroup_memory_current_bytes: 'gauge',
      openclaw_supervisor_cgroup_memory_max_bytes: 'gauge',
      openclaw_supervisor_cgroup_oom_kills_total: 'counter',
      openclaw_supervisor_gateway_channel_failing: 'gauge',
    });
  });

  it.each<GatewayState>(['idle', 'starting', 'ready', 'backoff', 'stopping', 'stopped', 'failed'])('gateway_state is one-hot in state %s', async (state) => {
    const s = await samples(setup(state).metrics.registry.metrics());
    for (const other of ['idle', 'starting', 'ready', 'backoff', 'stopping', 'stopped', 'failed']) {
      expect(s.get(`openclaw_supervisor_gateway_state{state="${other}"}`)).toBe(other === state ? 1 : 0);
    }
    expect(s.get('openclaw_supervisor_gateway_ready_seconds')).toBe(state === 'ready' ? 90 : 0);
  });

  it('pulls the front door and cgroup figures at scrape time', async () => {
    const s = await samples(setup().metrics.registry.metrics());
    expect(s.get('openclaw_supervisor_http_responses_total{code_class="2xx"}')).toBe(7);
    expect(s.get('openclaw_supervisor_http_responses_total{code_class="5xx"}')).toBe(3);
    expect(s.get('openclaw_supervisor_http_responses_total{code_class="none"}')).toBe(1);
    expect(s.get('openclaw_supervisor_upstream_errors_total{kind="http"}')).toBe(3);
    expect(s.get('openclaw_supervisor_upstream_errors_total{kind="websocket"}')).toBe(1);
    expect(s.get('openclaw_supervisor_client_bytes_total{direction="in"}')).toBe(1234);
    expect(s.get('openclaw_supervisor_client_bytes_total{direction="out"}')).toBe(98765);
    expect(s.get('openclaw_supervisor_websocket_sessions_total')).toBe(4);
    expect(s.get('openclaw_supervisor_websocket_sessions_open')).toBe(2);
    expect(s.get('openclaw_supervisor_http_requests_inflight')).toBe(1);
    expect(s.get('openclaw_supervisor_drain_requests_total{kind="http",result="completed"}')).toBe(5);
    expect(s.get('openclaw_supervisor_drain_requests_total{kind="http",result="rejected"}')).toBe(6);
    expect(s.get('openclaw_supervisor_drain_requests_total{kind="http",result="cut"}')).toBe(7);
    expect(s.get('openclaw_supervisor_drain_requests_total{kind="websocket",result="completed"}')).toBe(8);
    expect(s.get('openclaw_supervisor_drain_requests_total{kind="websocket",result="cut"}')).toBe(9);
    expect(s.get('openclaw_supervisor_cgroup_memory_current_bytes')).toBe(500);
    expect(s.get('openclaw_supervisor_cgroup_memory_max_bytes')).toBe(1000);
    expect(s.get('openclaw_supervisor_cgroup_oom_kills_total')).toBe(1);
  });

  it('a second scrape reports the new values, not their sum', async () => {
    const { metrics } = setup();
    await metrics.registry.metrics();
    const s = await samples(metrics.registry.metrics());
    expect(s.get('openclaw_supervisor_client_bytes_total{direction="out"}')).toBe(98765);
  });

  it('leaves the cgroup series out where there is no cgroup, and the limit out when unlimited', async () => {
    const none = await samples(setup('ready', null).metrics.registry.metrics());
    expect([...none.keys()].filter((k) => k.includes('cgroup'))).toEqual([]);
    const unlimited = await samples(setup('ready', { currentBytes: 5, maxBytes: null, oom: null, oomKill: null }).metrics.registry.metrics());
    expect([...unlimited.keys()].filter((k) => k.includes('cgroup'))).toEqual(['openclaw_supervisor_cgroup_memory_current_bytes']);
  });

  it('counts events: restarts by cause, give-ups, ready flips, spawn-to-ready, exits, drains', async () => {
    const { metrics } = setup();
    const restart = (reason: RestartCause) => metrics.observe(event('gateway.restart_scheduled', { reason, delayMs: 0 }));
    metrics.observe(event('gateway.ready', { gatewayPid: 3, sinceSpawnMs: 1500 }));
    metrics.observe(event('gateway.exited', FIELDS.exited(null)));
    restart('failure');
    restart('failure');
    restart('restart-request');
    metrics.observe(event('gateway.ready', { gatewayPid: 4, sinceSpawnMs: 700 }));
    metrics.observe(event('gateway.crash_loop', FIELDS.crashLoop));
    metrics.observe(event('supervisor.drain_finished', { durationMs: 2500, deadlineHit: true, httpCompleted: 1, httpRejected: 0, httpCut: 0, websocketsClosed: 0, websocketsCut: 1 }));
    metrics.observe(event('gateway.unresponsive', FIELDS.unresponsive));
    restart('unresponsive');
    metrics.observe(event('gateway.update_rolled_back', { from: '2026.9.6', to: '2026.8.2', stage: 'preflight', reason: 'refused', restoredBackup: null }));
    restart('rolled-back');
    const s = await samples(metrics.registry.metrics());
    expect(s.get('openclaw_supervisor_gateway_unresponsive_kills_total')).toBe(1);
    expect(s.get('openclaw_supervisor_gateway_update_rollbacks_total{stage="preflight"}')).toBe(1);
    expect(s.get('openclaw_supervisor_gateway_restarts_total{cause="rolled-back"}')).toBe(1);
    expect(s.get('openclaw_supervisor_gateway_restarts_total{cause="unresponsive"}')).toBe(1);
    expect(s.get('openclaw_supervisor_gateway_restarts_total{cause="spawn-failed"}')).toBe(0);
    expect(s.get('openclaw_supervisor_gateway_restarts_total{cause="failure"}')).toBe(2);
    expect(s.get('openclaw_supervisor_gateway_restarts_total{cause="crash"}')).toBeUndefined();
    expect(s.get('openclaw_supervisor_gateway_restarts_total{cause="restart-request"}')).toBe(1);
    expect(s.get('openclaw_supervisor_gateway_restarts_total{cause="startup-timeout"}')).toBe(0);
    expect(s.get('openclaw_supervisor_gateway_restarts_total{cause="stable-failure"}')).toBe(0);
    expect(s.get('openclaw_supervisor_gateway_give_ups_total{reason="crash-loop"}')).toBe(1);
    expect(s.get('openclaw_supervisor_gateway_give_ups_total{reason="refused"}')).toBe(0);
    expect(s.get('openclaw_supervisor_gateway_ready_transitions_total{to="ready"}')).toBe(2);
    expect(s.get('openclaw_supervisor_gateway_ready_transitions_total{to="not_ready"}')).toBe(1);
    expect(s.get('openclaw_supervisor_gateway_exits_total{outcome="failure"}')).toBe(1);
    expect(s.get('openclaw_supervisor_gateway_exits_total{outcome="other"}')).toBe(0);
    expect(s.get('openclaw_supervisor_gateway_spawn_to_ready_seconds_count')).toBe(2);
    expect(s.get('openclaw_supervisor_gateway_spawn_to_ready_seconds_sum')).toBeCloseTo(2.2);
    expect(s.get('openclaw_supervisor_gateway_spawn_to_ready_seconds_bucket{le="1"}')).toBe(1);
    expect(s.get('openclaw_supervisor_gateway_spawn_to_ready_seconds_bucket{le="2"}')).toBe(2);
    expect(s.get('openclaw_supervisor_drain_duration_seconds_count')).toBe(1);
    expect(s.get('openclaw_supervisor_drain_deadline_hits_total')).toBe(1);
  });

  it('adds the process metrics of prom-client by default', async () => {
    const metrics = createMetrics({ gateway: () => ({ state: 'idle', readyAt: null }), frontDoor: () => stats(), memory: () => null });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^# TYPE process_cpu_seconds_total counter$/m);
    expect(text).toMatch(/^# TYPE process_resident_memory_bytes gauge$/m);
    expect(text).toMatch(/^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
  });
});
