import { describe, expect, it } from 'vitest';
import { admit, type Arrival } from '../../../src/front-door/admission.js';
import { liveness, readiness, type HealthDetails, type HealthView } from '../../../src/front-door/health.js';
import { healthDetails, type GatewayFacts } from '../../../src/ops/health-details.js';

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);
const NOW = T0 + 60_000;

const DETAILS: HealthDetails = { restarts: 2, lastExit: { code: 1, signal: null, reason: 'failure', at: '2026-12-03T10:00:00.000Z' }, readyForMs: 1500, lastReadyAgoMs: null };

describe('health answers with details (issue 13)', () => {
  // The status codes stay those of the plain table (health.test.ts); the body gains the details.
  it.each<[string, HealthView, 200 | 503, 200 | 503, string]>([
    ['ready', { gatewayState: 'ready', draining: false }, 200, 200, 'ready'],
    ['backoff', { gatewayState: 'backoff', draining: false }, 200, 503, 'backoff'],
    ['failed', { gatewayState: 'failed', draining: false }, 503, 503, 'failed'],
    ['draining', { gatewayState: 'ready', draining: true }, 200, 503, 'draining'],
  ])('%s', (_name, view, live, ready, state) => {
    const withDetails: HealthView = { ...view, details: () => DETAILS };
    const base = { state, gateway: view.gatewayState, draining: view.draining };
    expect(liveness(withDetails)).toEqual({ status: live, body: { status: live === 200 ? 'ok' : 'unavailable', ...base, ...DETAILS } });
    expect(readiness(withDetails)).toEqual({ status: ready, body: { status: ready === 200 ? 'ok' : 'unavailable', ...base, ...DETAILS } });
    // Without a details source, the body is as before.
    expect(readiness(view).body).toEqual({ status: ready === 200 ? 'ok' : 'unavailable', ...base });
  });

  const arrival = (url: string): Arrival => ({ method: 'GET', url, upgrade: null, httpVersion: '1.1', rawHeaders: ['Host', 'x'] });

  it('admit() answers /readyz and /healthz with the details, and reads them only there', () => {
    let reads = 0;
    const view: HealthView = { gatewayState: 'ready', draining: false, details: () => (reads++, DETAILS) };
    expect(admit(arrival('/readyz'), view)).toMatchObject({ action: 'reply', status: 200, body: { state: 'ready', ...DETAILS } });
    expect(admit(arrival('/healthz'), view)).toMatchObject({ action: 'reply', status: 200, body: { state: 'ready', ...DETAILS } });
    expect(reads).toBe(2);
    expect(admit(arrival('/anything'), view)).toEqual({ action: 'forward' });
    expect(admit(arrival('/anything'), { ...view, gatewayState: 'starting' })).toMatchObject({ action: 'reply', status: 503 });
    expect(reads).toBe(2);
  });
});

describe('healthDetails', () => {
  const facts = (over: Partial<GatewayFacts>): GatewayFacts => ({ state: 'ready', readyAt: null, lastReadyAt: null, restarts: 0, lastExit: null, ...over });

  it.each<[string, GatewayFacts, HealthDetails]>([
    ['starting, never ready, no exit yet', facts({ state: 'starting' }), { restarts: 0, lastExit: null, readyForMs: null, lastReadyAgoMs: null }],
    ['ready for 20 s', facts({ state: 'ready', readyAt: NOW - 20_000, lastReadyAt: NOW - 20_000 }), { restarts: 0, lastExit: null, readyForMs: 20_000, lastReadyAgoMs: null }],
    [
      'in backoff after a crash, ready 5 s ago',
      facts({ state: 'backoff', lastReadyAt: NOW - 5_000, restarts: 3, lastExit: { code: 1, signal: null, reason: 'failure', at: T0 } }),
      { restarts: 3, lastExit: { code: 1, signal: null, reason: 'failure', at: '2026-12-03T10:00:00.000Z' }, readyForMs: null, lastReadyAgoMs: 5_000 },
    ],
    [
      'killed by SIGKILL after the startup timeout: the reason the runner kept',
      facts({ state: 'backoff', restarts: 1, lastExit: { code: null, signal: 'SIGKILL', reason: 'startup-timeout', at: T0 } }),
      { restarts: 1, lastExit: { code: null, signal: 'SIGKILL', reason: 'startup-timeout', at: '2026-12-03T10:00:00.000Z' }, readyForMs: null, lastReadyAgoMs: null },
    ],
    [
      'refused its config: failed',
      facts({ state: 'failed', restarts: 4, lastExit: { code: 78, signal: null, reason: 'refused', at: T0 } }),
      { restarts: 4, lastExit: { code: 78, signal: null, reason: 'refused', at: '2026-12-03T10:00:00.000Z' }, readyForMs: null, lastReadyAgoMs: null },
    ],
  ])('%s', (_name, given, expected) => {
    expect(healthDetails(given, NOW)).toEqual(expected);
  });
});
