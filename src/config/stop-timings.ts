/** The three numbers that shape a graceful stop (all validated together by resolveConfig). */
export interface StopTimings {
  /** The whole stop, from the signal to the last socket: nothing runs past it. */
  readonly drainMs: number;
  /** The gateway's guaranteed grace between its SIGTERM and a SIGKILL. */
  readonly stopMs: number;
  /** Serving on, with /readyz 503, before the drain begins (endpoint propagation). */
  readonly shutdownDelayMs: number;
}

/**
 * Why these timings cannot make a stop plan (src/supervisor/stop-plan.ts), or null. A check of the
 * settings, so it lives with them: resolveConfig refuses such settings with this message.
 */
export function stopTimingsProblem(timings: StopTimings): string | null {
  if (timings.stopMs >= timings.drainMs) return `the gateway's stop timeout (${timings.stopMs} ms) must be below the drain deadline (${timings.drainMs} ms)`;
  if (timings.shutdownDelayMs + timings.stopMs > timings.drainMs) {
    return `the shutdown delay (${timings.shutdownDelayMs} ms) plus the gateway's stop timeout (${timings.stopMs} ms) exceed the drain deadline (${timings.drainMs} ms)`;
  }
  return null;
}
