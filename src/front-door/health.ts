import type { GatewayState } from '../gateway/lifecycle.js';

export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';

export interface HealthView {
  readonly gatewayState: GatewayState;
  /** The drain has begun: no new connections, requests get 503. */
  readonly draining: boolean;
  /** Read only when a health endpoint answers (never on the forwarding path). */
  readonly details?: (() => HealthDetails) | undefined;
  /**
   * A stop was announced but the shutdown delay runs (Kubernetes endpoint propagation): /readyz
   * says 503 at once so the platform stops routing here, while traffic that still arrives is served.
   */
  readonly announcing?: boolean;
  /** The ready gateway fails its liveness probe (src/gateway/liveness.ts): not ready, still forwarded to. */
  readonly unresponsive?: boolean;
}

/**
 * What /healthz and /readyz add about the gateway: restarts, its last exit and how long
 * it has been ready, or since when it is not. Numbers and enumerated values only, nothing secret.
 */
export interface HealthDetails {
  /** Spawns after the first. */
  readonly restarts: number;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null; readonly reason: string; readonly at: string } | null;
  /** While ready: ms since it became ready; else null. */
  readonly readyForMs: number | null;
  /** While not ready: ms since it was last ready (null when it never was). */
  readonly lastReadyAgoMs: number | null;
}

export interface HealthAnswer {
  readonly status: 200 | 503;
  readonly body: { readonly status: 'ok' | 'unavailable'; readonly state: string; readonly gateway: GatewayState; readonly draining: boolean } & Partial<HealthDetails>;
}

/** `/healthz`: the supervisor runs and the gateway is alive or being restarted within policy. */
export function liveness(view: HealthView): HealthAnswer {
  const ok = view.gatewayState !== 'failed';
  return answer(ok, view);
}

/** `/readyz`: the gateway is ready and answers its liveness probe, and the supervisor is neither stopping nor draining. */
export function readiness(view: HealthView): HealthAnswer {
  return answer(isServing(view) && view.announcing !== true && view.unresponsive !== true, view);
}

export function isServing(view: HealthView): boolean {
  return view.gatewayState === 'ready' && !view.draining;
}

function answer(ok: boolean, view: HealthView): HealthAnswer {
  const state = view.draining || view.announcing === true ? 'draining' : view.unresponsive === true && view.gatewayState === 'ready' ? 'unresponsive' : view.gatewayState;
  const body = { status: ok ? ('ok' as const) : ('unavailable' as const), state, gateway: view.gatewayState, draining: view.draining };
  return { status: ok ? 200 : 503, body: view.details === undefined ? body : { ...body, ...view.details() } };
}
