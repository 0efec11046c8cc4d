import type { Dispatcher } from 'undici';
import type { Logger } from '../log/logger.js';
import { UpstreamIncidents } from './upstream-incidents.js';
import { LOOPBACK_IPV4 } from '../host/loopback.js';
import { TIME_BOUNDS } from '../time-bounds.js';

/**
 * How long the gateway may take to send a response's headers, and to send the next piece of a
 * body. Railway's edge gives a request at most 5 minutes, so a longer wait has nobody to answer.
 */
export const UPSTREAM_HEADERS_TIMEOUT_MS = TIME_BOUNDS.upstreamHeaders.ms;
export const UPSTREAM_BODY_TIMEOUT_MS = TIME_BOUNDS.upstreamBody.ms;
/** A WebSocket handshake the gateway does not answer in this time gets 504. */
export const HANDSHAKE_TIMEOUT_MS = TIME_BOUNDS.upstreamHandshake.ms;

/** The gateway, as the front door reaches it: one undici pool on loopback for HTTP. */
export interface Upstream {
  readonly pool: Dispatcher;
  /** The gateway's loopback port: WebSocket upgrades connect to it directly (ws-connect.ts). */
  readonly gatewayPort: number;
  readonly incidents: UpstreamIncidents;
}

/**
 * undici is loaded only once the public port listens (its import costs ~70 ms, and nothing is
 * forwarded before the gateway is ready, seconds later). Why undici rather than node:http: it frames
 * every request body itself (Content-Length or chunked, whatever the method), refuses framing and
 * hop-by-hop headers in what it is given, and returns a socket to the pool only after a complete
 * exchange; after any error, abort or parse anomaly the socket is destroyed.
 */
export async function connectUpstream(gatewayPort: number, logger: Logger, maxConnections: number | null = null): Promise<Upstream> {
  const { Pool } = await import('undici');
  const pool = new Pool(`http://${LOOPBACK_IPV4}:${gatewayPort}`, {
    pipelining: 1,
    // Bounded by the front door's own connection cap (descriptors), not below: each client
    // connection has at most one exchange under way (connections.ts), so this only bounds sockets
    // kept idle. A lower cap measured no memory gain after a 1000-client burst (RSS 60 s after
    // 98.1-98.9 MB at 32, 64 and uncapped) and let 100 clients that never read a 32 MB answer hold
    // every socket: a plain GET behind them waited out the 60 s stall bound (BENCHMARKS.md).
    connections: maxConnections ?? undefined,
    // The gateway's server keeps idle sockets 5 s and says so (Keep-Alive: timeout=5); undici
    // retires ours 2 s before that, so a reused socket is never one the gateway is closing.
    keepAliveTimeout: 3_000,
    keepAliveMaxTimeout: 3_000,
    headersTimeout: UPSTREAM_HEADERS_TIMEOUT_MS,
    bodyTimeout: UPSTREAM_BODY_TIMEOUT_MS,
    strictContentLength: true,
    connect: { timeout: 2_000 },
  });
  return { pool, gatewayPort, incidents: new UpstreamIncidents(logger) };
}
