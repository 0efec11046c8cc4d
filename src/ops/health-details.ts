import type { HealthDetails } from '../front-door/health.js';
import { restartsOf, type GatewayState, type Lifecycle } from '../gateway/lifecycle.js';
import type { ExitSummary } from './ops-events.js';

/** What the gateway's lifecycle says (src/gateway/lifecycle.ts), as far as the health answers need it. */
export interface GatewayFacts {
  readonly state: GatewayState;
  readonly readyAt: number | null;
  readonly lastReadyAt: number | null;
  readonly restarts: number;
  /** The lifecycle's own record of the last exit (code, signal, time), for when no exit event was seen. */
  readonly lastExit: { readonly code: number | null; readonly signal: string | null; readonly at: number } | null;
}

export const factsOf = (lifecycle: Lifecycle): GatewayFacts => ({
  state: lifecycle.state,
  readyAt: lifecycle.readyAt,
  lastReadyAt: lifecycle.lastReadyAt,
  restarts: restartsOf(lifecycle),
  lastExit: lifecycle.lastExit,
});

/** The details /healthz and /readyz carry. Pure: the facts, the last exit as the ops events read it, the time. */
export function healthDetails(facts: GatewayFacts, lastExit: ExitSummary | null, now: number): HealthDetails {
  const exit = lastExit ?? (facts.lastExit === null ? null : { ...facts.lastExit, reason: 'unknown' });
  const ready = facts.state === 'ready' && facts.readyAt !== null;
  return {
    restarts: facts.restarts,
    lastExit: exit === null ? null : { code: exit.code, signal: exit.signal, reason: exit.reason, at: new Date(exit.at).toISOString() },
    readyForMs: ready ? Math.max(0, now - facts.readyAt!) : null,
    lastReadyAgoMs: ready || facts.lastReadyAt === null ? null : Math.max(0, now - facts.lastReadyAt),
  };
}
