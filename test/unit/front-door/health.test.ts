import { describe, expect, it } from 'vitest';
import { HEALTH_PATH, READY_PATH, isServing, liveness, readiness } from '../../../src/front-door/health.js';
import type { GatewayState } from '../../../src/gateway/lifecycle.js';

// [state, draining, liveness status, readiness status]
const TABLE: ReadonlyArray<[GatewayState, boolean, 200 | 503, 200 | 503]> = [
  ['idle', false, 200, 503],
  ['starting', false, 200, 503],
  ['ready', false, 200, 200],
  ['backoff', false, 200, 503],
  ['stopping', false, 200, 503],
  ['stopped', false, 200, 503],
  ['failed', false, 503, 503],
  ['idle', true, 200, 503],
  ['starting', true, 200, 503],
  ['ready', true, 200, 503],
  ['backoff', true, 200, 503],
  ['stopping', true, 200, 503],
  ['stopped', true, 200, 503],
  ['failed', true, 503, 503],
];

describe('paths', () => {
  it('are /healthz and /readyz', () => {
    expect([HEALTH_PATH, READY_PATH]).toEqual(['/healthz', '/readyz']);
  });
});

describe.each(TABLE)('gateway %s, draining %s', (gatewayState, draining, live, ready) => {
  const view = { gatewayState, draining };
  const state = draining ? 'draining' : gatewayState;

  it(`liveness ${live}`, () => {
    expect(liveness(view)).toEqual({ status: live, body: { status: live === 200 ? 'ok' : 'unavailable', state, gateway: gatewayState, draining } });
  });

  it(`readiness ${ready}`, () => {
    expect(readiness(view)).toEqual({ status: ready, body: { status: ready === 200 ? 'ok' : 'unavailable', state, gateway: gatewayState, draining } });
  });

  it(`isServing ${ready === 200}`, () => {
    expect(isServing(view)).toBe(ready === 200);
  });
});
