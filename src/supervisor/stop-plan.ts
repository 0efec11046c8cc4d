/** The three numbers that shape a graceful stop (all validated together by resolveConfig). */
export interface StopTimings {
  /** The whole stop, from the signal to the last socket: nothing runs past it. */
  readonly drainMs: number;
  /** The gateway's guaranteed grace between its SIGTERM and a SIGKILL. */
  readonly stopMs: number;
  /** Serving on, with /readyz 503, before the drain begins (endpoint propagation). */
  readonly shutdownDelayMs: number;
}

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

/** Why these timings cannot make a stop plan (resolveConfig refuses them with this), or null. */
export function stopTimingsProblem(timings: StopTimings): string | null {
  if (timings.stopMs >= timings.drainMs) return `the gateway's stop timeout (${timings.stopMs} ms) must be below the drain deadline (${timings.drainMs} ms)`;
  if (timings.shutdownDelayMs + timings.stopMs > timings.drainMs) {
    return `the shutdown delay (${timings.shutdownDelayMs} ms) plus the gateway's stop timeout (${timings.stopMs} ms) exceed the drain deadline (${timings.drainMs} ms)`;
  }
  return null;
}
