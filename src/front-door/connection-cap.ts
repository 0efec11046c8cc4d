import type { Server } from 'node:net';
import type { Logger } from '../log/logger.js';
import { emit } from '../log/emit.js';

/** At most one `front_door.connections_capped` record per this period, with the count dropped in it. */
export const CAPPED_LOG_PERIOD_MS = 10_000;

/**
 * Keeps the front door's connections under `max`: past it Node closes each new
 * connection right at accept (the client sees the close at once instead of hanging), so the
 * descriptors the supervisor needs for itself, a gateway respawn's pipes first, stay free.
 */
export function capConnections(server: Server, max: number, logger: Logger, now: () => number = Date.now): void {
  server.maxConnections = max;
  let dropped = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  server.on('drop', () => {
    dropped++;
    const at = now();
    if (at - loggedAt < CAPPED_LOG_PERIOD_MS) return;
    emit(
      logger,
      'front_door.connections_capped',
      { maxConnections: max, dropped },
      `${dropped} connection(s) closed at accept: ${max} are open, the most this process's descriptor limit allows with a reserve for the gateway (raise ulimit -n)`,
    );
    loggedAt = at;
    dropped = 0;
  });
}
