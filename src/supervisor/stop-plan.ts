import type { StopTimings } from '../config/stop-timings.js';

/** The instants of a stop, in ms after the signal. */
export interface StopPlan {
  /** The shutdown delay ends and the listener closes. */
  readonly drainStartsAt: number;
  /** The gateway gets SIGTERM at the latest here, even if HTTP requests are still in flight. */
  readonly sigtermLatestAt: number;
  /** A gateway still alive this long after its SIGTERM is SIGKILLed (the sessions left are cut first). */
  readonly killAfterSigtermMs: number;
  /** Everything left is cut and the gateway group SIGKILLed. */
  readonly deadlineAt: number;
}

/**
 * The stop timeline as one pure function:
 *
 *   0 ── shutdown delay ──▶ drainStartsAt ── in-flight HTTP finishes ──▶ SIGTERM (≤ sigtermLatestAt)
 *     ── the gateway drains its WebSockets (≤ killAfterSigtermMs) ──▶ exit ……… deadlineAt
 *
 * SIGTERM goes out when the last in-flight request is done, and no later than `stopMs` before the
 * deadline, so the gateway's own drain always gets its whole grace.
 */
export function planStop(timings: StopTimings): StopPlan {
  return {
    drainStartsAt: timings.shutdownDelayMs,
    sigtermLatestAt: Math.max(timings.shutdownDelayMs, timings.drainMs - timings.stopMs),
    killAfterSigtermMs: timings.stopMs,
    deadlineAt: timings.drainMs,
  };
}
