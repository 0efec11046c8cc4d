import type { Dispatcher } from 'undici';
import type { Logger } from '../log/logger.js';
import { UpstreamIncidents } from './upstream-incidents.js';

/**
 * How long the gateway may take to send a response's headers, and to send the next piece of a
 * body. Railway's edge gives a request at most 5 minutes, so a longer wait has nobody to answer.
 */
export const UPSTREAM_HEADERS_TIMEOUT_MS = 300_000;
export const UPSTREAM_BODY_TIMEOUT_MS = 300_000;
/**
 * Connections to the gateway at once; requests beyond wait in the pool's queue (each bounded by its
 * client: a client that leaves takes its queued request with it). Uncapped, a burst of 1000 clients
 * opened 1000 upstream connections, each with its buffers in the supervisor and a socket in the
 * gateway. See BENCHMARKS.md for the measurement behind the figure.
 */
export const UPSTREAM_CONNECTIONS = 64;
/** A WebSocket handshake the gateway does not answer in this time gets 504. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

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
export async function connectUpstream(gatewayPort: number, logger: Logger): Promise<Upstream> {
  const { Pool } = await import('undici');
  const pool = new Pool(`http://127.0.0.1:${gatewayPort}`, {
    pipelining: 1,
    connections: UPSTREAM_CONNECTIONS,
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
