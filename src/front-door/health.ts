import type { GatewayState } from '../gateway/lifecycle.js';

export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';

export interface HealthView {
  readonly gatewayState: GatewayState;
  readonly draining: boolean;
}

export interface HealthAnswer {
  readonly status: 200 | 503;
  readonly body: { readonly status: 'ok' | 'unavailable'; readonly state: string; readonly gateway: GatewayState; readonly draining: boolean };
}

/** `/healthz`: the supervisor runs and the gateway is alive or being restarted within policy. */
export function liveness(view: HealthView): HealthAnswer {
  const ok = view.gatewayState !== 'failed';
  return answer(ok, view);
}

/** `/readyz`: the gateway is ready and the supervisor is not draining. */
export function readiness(view: HealthView): HealthAnswer {
  return answer(isServing(view), view);
}

export function isServing(view: HealthView): boolean {
  return view.gatewayState === 'ready' && !view.draining;
}

function answer(ok: boolean, view: HealthView): HealthAnswer {
  const state = view.draining ? 'draining' : view.gatewayState;
  return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'unavailable', state, gateway: view.gatewayState, draining: view.draining } };
}
