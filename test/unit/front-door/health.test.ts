import { describe, expect, it } from 'vitest';
import { admit, type Arrival } from '../../../src/front-door/admission.js';
import { isServing, liveness, readiness, type HealthAnswer, type HealthView } from '../../../src/front-door/health.js';

const OK = 'ok' as const;
const UNAVAILABLE = 'unavailable' as const;

/**
 * Every view the supervisor can be in, with the answers written out: `/healthz` (liveness) fails
 * only once the gateway failed for good (crash loop, refusal); `/readyz` (readiness) passes only
 * while the gateway is ready and nothing drains. The body names the supervisor's state ("draining"
 * wins over the gateway's), the gateway's own state and the draining flag.
 */
const TABLE: ReadonlyArray<{ view: HealthView; live: HealthAnswer; ready: HealthAnswer }> = [
  {
    view: { gatewayState: 'idle', draining: false },
    live: { status: 200, body: { status: OK, state: 'idle', gateway: 'idle', draining: false } },
    ready: { status: 503, body: { status: UNAVAILABLE, state: 'idle', gateway: 'idle', draining: false } },
  },
  {
    view: { gatewayState: 'starting', draining: false },
    live: { status: 200, body: { status: OK, state: 'starting', gateway: 'starting', draining: false } },
    ready: { status: 503, body: { status: UNAVAILABLE, state: 'starting', gateway: 'starting', draining: false } },
  },
  {
    view: { gatewayState: 'ready', draining: false },
    live: { status: 200, body: { status: OK, state: 'ready', gateway: 'ready', draining: false } },
    ready: { status: 200, body: { status: OK, state: 'ready', gateway: 'ready', draining: false } },
  },
  {
    view: { gatewayState: 'backoff', draining: false },
    live: { status: 200, body: { status: OK, state: 'backoff', gateway: 'backoff', draining: false } },
    ready: { status: 503, body: { status: UNAVAILABLE, state: 'backoff', gateway: 'backoff', draining: false } },
  },
  {
    view: { gatewayState: 'stopping', draining: false },
    live: { status: 200, body: { status: OK, state: 'stopping', gateway: 'stopping', draining: false } },
    ready: { status: 503, body: { status: UNAVAILABLE, state: 'stopping', gateway: 'stopping', draining: false } },
  },
  {
    view: { gatewayState: 'stopped', draining: false },
    live: { status: 200, body: { status: OK, state: 'stopped', gateway: 'stopped', draining: false } },
    ready: { status: 503, body: { status: UNAVAILABLE, state: 'stopped', gateway: 'stopped', draining: false } },
  },
  {
    view: { gatewayState: 'failed', draining: false },
    live: { status: 503, body: { status: UNAVAILABLE, state: 'failed', gateway: 'failed', draining: false } },
    ready: { status: 503, body: { status: UNAVAILABLE, state: 'failed', gateway: 'failed', draining: false } },
  },
  {
    view: { gatewayState: 'ready', draining: true },
    live: { status: 200, body: { status: OK, state: 'draining', gateway: 'ready', draining: true } },
    ready: { status: 503, body: { status: UNAVAILABLE, state: 'draining', gateway: 'ready', draining: true } },
  },
  {
    view: { gatewayState: 'starting', draining: true },
    live: { status: 200, body: { status: OK, state: 'draining', gateway: 'starting', draining: true } },
    ready: { status: 503, body: { status: UNAVAILABLE, state: 'draining', gateway: 'starting', draining: true } },
  },
  {
    view: { gatewayState: 'stopping', draining: true },
    live: { status: 200, body: { status: OK, state: 'draining', gateway: 'stopping', draining: true } },
    ready: { status: 503, body: { status: UNAVAILABLE, state: 'draining', gateway: 'stopping', draining: true } },
  },
  {
    view: { gatewayState: 'failed', draining: true },
    live: { status: 503, body: { status: UNAVAILABLE, state: 'draining', gateway: 'failed', draining: true } },
    ready: { status: 503, body: { status: UNAVAILABLE, state: 'draining', gateway: 'failed', draining: true } },
  },
];

const get = (url: string, method = 'GET'): Arrival => ({ method, url, upgrade: null, httpVersion: '1.1', rawHeaders: ['Host', 'localhost'] });

describe.each(TABLE)('gateway $view.gatewayState, draining $view.draining', ({ view, live, ready }) => {
  it(`liveness ${live.status}`, () => {
    expect(liveness(view)).toEqual(live);
  });

  it(`readiness ${ready.status}`, () => {
    expect(readiness(view)).toEqual(ready);
  });

  it(`forwards other requests only when ready answers 200 (${ready.status})`, () => {
    expect(isServing(view)).toBe(ready.status === 200);
    expect(admit(get('/chat'), view).action).toBe(ready.status === 200 ? 'forward' : 'reply');
  });

  it('GET /healthz and /readyz (with a query) are answered here with those answers, never forwarded', () => {
    expect(admit(get('/healthz'), view)).toMatchObject({ action: 'reply', status: live.status, body: live.body });
    expect(admit(get('/readyz?verbose=1', 'HEAD'), view)).toMatchObject({ action: 'reply', status: ready.status, body: ready.body });
  });
});

describe('health paths', () => {
  const ready: HealthView = { gatewayState: 'ready', draining: false };

  it.each(['/health', '/healthz/', '/readyz/x', '/HEALTHZ', '/ready'])('%s is not a health endpoint: forwarded to the gateway', (path) => {
    expect(admit(get(path), ready).action).toBe('forward');
  });

  it('POST /healthz is refused (405, Allow: GET, HEAD)', () => {
    expect(admit(get('/healthz', 'POST'), ready)).toMatchObject({ action: 'reply', status: 405, headers: { allow: 'GET, HEAD' } });
  });
});

describe('a ready gateway that fails its liveness probe (issue 19)', () => {
  const view: HealthView = { gatewayState: 'ready', draining: false, unresponsive: true };

  it('/readyz 503 with state "unresponsive"; /healthz stays 200 (the supervisor handles it)', () => {
    expect(readiness(view)).toEqual({ status: 503, body: { status: UNAVAILABLE, state: 'unresponsive', gateway: 'ready', draining: false } });
    expect(liveness(view)).toEqual({ status: 200, body: { status: OK, state: 'unresponsive', gateway: 'ready', draining: false } });
  });

  it('requests are still forwarded: a stall may end, and the kill decides otherwise', () => {
    expect(admit(get('/chat'), view).action).toBe('forward');
  });

  it('draining still names the state', () => {
    expect(readiness({ ...view, draining: true }).body.state).toBe('draining');
  });
});
