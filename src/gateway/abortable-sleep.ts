import { setTimeout as sleep } from 'node:timers/promises';

/** Waits `ms`, or less when `signal` aborts first (the gateway exited, a stop began); never rejects. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  // timers/promises rejects on abort: that is an end of the wait like any other here, as in the runner's backoff.
  return sleep(ms, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
}
