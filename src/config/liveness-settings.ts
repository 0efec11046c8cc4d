import { TIME_BOUNDS } from '../time-bounds.js';

/** How often the ready gateway is probed, and how many failed probes get it killed (src/gateway/liveness.ts). */
export interface LivenessSettings {
  /** Pause between the end of one probe and the start of the next. */
  readonly intervalMs: number;
  /** A probe not answered 200 within this is a failure. */
  readonly timeoutMs: number;
  /** Consecutive failures that get the gateway killed (and restarted under the restart policy). */
  readonly failuresToKill: number;
}

/**
 * Measured on openclaw@2026.9.6, Node 24, 2 cores shared with other work (load average 8-16),
 * `node bench/liveness-stall.mjs`: GET /healthz every 250 ms from a process of its own, 6 runs.
 * - Ordinary load: the slowest answer was MEASURED_ORDINARY_MAX_MS (startup right after ready
 *   0.35-1.9 s; 3 × 100 WebSocket connects with 5 `health` RPCs each 0.1-1.3 s; `openclaw status`
 *   ×2 and `doctor` ×2 in parallel 0.3-1.8 s; all of it at once 0.5-0.6 s).
 * - A 300-agent config reload: answers after 8.2 s, then 15 s for the load above on that config
 *   (the gateway logged a synchronous "slow SQLite coordinator lock wait"); in another run one answer
 *   after 4.5 s, then none for 45 s (the gateway then exited for a restart); in a third, after
 *   `doctor` had run on such a config, two probes went unanswered for their whole 60 s and one
 *   answer took 31 s: MEASURED_RELOAD_STALL_MS, a lower bound. A gateway busy like that is alive
 *   and must not be killed.
 * Hence: /readyz 503 only after 30 s without an answer (15× the ordinary worst, so it flips only
 * for stalls of the reload kind), and a kill only after 5 such probes in a row:
 * 5 × 30 s + 4 × 10 s = 190 s without a single answer, 3× the longest stall seen. A frozen gateway
 * is killed within intervalMs + that = 200 s (Docker's HEALTHCHECK defaults take 90-120 s).
 */
export const MEASURED_ORDINARY_MAX_MS = 1_920;
export const MEASURED_RELOAD_STALL_MS = 60_000;
export const DEFAULT_LIVENESS: LivenessSettings = { intervalMs: TIME_BOUNDS.livenessInterval.ms, timeoutMs: TIME_BOUNDS.livenessTimeout.ms, failuresToKill: 5 };
