import type { HealthDetails } from '../front-door/health.js';
import { restartsOf, type ExitReason, type GatewayState, type Lifecycle } from '../gateway/lifecycle.js';

/** The gateway's last exit as the health answers and alerts show it (`signal` as text: a spooled alert reads it back). */
export interface ExitSummary {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: ExitReason;
  readonly at: number;
}

/** What the gateway's lifecycle says (src/gateway/lifecycle.ts), as far as the health answers need it. */
export interface GatewayFacts {
  readonly state: GatewayState;
  readonly readyAt: number | null;
  readonly lastReadyAt: number | null;
  readonly restarts: number;
  readonly lastExit: ExitSummary | null;
}

export const factsOf = (lifecycle: Lifecycle): GatewayFacts => ({
  state: lifecycle.state,
  readyAt: lifecycle.readyAt,
  lastReadyAt: lifecycle.lastReadyAt,
  restarts: restartsOf(lifecycle),
  lastExit: lifecycle.lastExit,
});

/** The details /healthz and /readyz carry. Pure: the facts and the time. */
export function healthDetails(facts: GatewayFacts, now: number): HealthDetails {
  const exit = facts.lastExit;
  const ready = facts.state === 'ready' && facts.readyAt !== null;
  return {
    restarts: facts.restarts,
    lastExit: exit === null ? null : { code: exit.code, signal: exit.signal, reason: exit.reason, at: new Date(exit.at).toISOString() },
    readyForMs: ready ? Math.max(0, now - facts.readyAt!) : null,
    lastReadyAgoMs: ready || facts.lastReadyAt === null ? null : Math.max(0, now - facts.lastReadyAt),
  };
}
