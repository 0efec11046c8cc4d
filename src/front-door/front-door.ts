import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.js';
import { createTrustCheck, normalizeAddress, type Peer, type TrustCheck } from './client-attribution.js';
import { HEALTH_PATH, READY_PATH, isServing, liveness, readiness, type HealthView } from './health.js';
import { createUpstreamAgent, forwardHttp, type Upstream } from './http-forward.js';
import { RETRY_AFTER_SECONDS, sendJson, writeRawResponse } from './responses.js';
import { UpstreamIncidents } from './upstream-incidents.js';
import { CLOSE_GOING_AWAY } from './ws-frames.js';
import { openTunnel, type Tunnel } from './ws-tunnel.js';

export interface FrontDoorOptions {
  readonly host: string;
  readonly port: number;
  readonly gatewayPort: number;
  readonly trustedProxies: readonly string[];
  readonly logger: Logger;
  /** The gateway's state, read on every request. */
  readonly gatewayState: () => HealthView['gatewayState'];
}

export interface DrainCounts {
  readonly httpCompleted: number;
  readonly httpRejected: number;
  readonly httpCut: number;
  readonly websocketsClosed: number;
  readonly websocketsCut: number;
}

/**
 * `..` or `.` path segments, raw or percent-encoded: never valid in a request to us or the gateway.
 * The gateway parses targets with WHATWG URL, for which `\` separates segments like `/` and `#`
 * ends the path: `/healthz\..\x` and `/x/..#y` are dot segments too.
 */
const TRAVERSAL = /(^|\/|\\|%2f|%5c)(\.|%2e){1,2}(\/|\\|%2f|%5c|#|$)/i;

/** Railway's edge drops idle keep-alive connections after 60 s: ours must outlive that, or the edge reuses a socket we are closing (a 502). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Bounds slow-header (slowloris) clients. */
const HEADERS_TIMEOUT_MS = 15_000;

/**
 * The public listener: answers /healthz and /readyz itself, forwards every other request and every
 * WebSocket upgrade to the gateway on loopback, answers 503 instead of refusing while the gateway is
 * not ready, and drains on request.
 */
export class FrontDoor {
  readonly #options: FrontDoorOptions;
  readonly #server: http.Server;
  readonly #upstream: Upstream;
  readonly #trust: TrustCheck;
  readonly #inflight = new Set<ServerResponse>();
  readonly #tunnels = new Set<Tunnel>();
  readonly #changeWaiters: Array<() => void> = [];
  readonly #untrustedForwarders = new Set<string>();
  #draining = false;
  #counts = { httpCompleted: 0, httpRejected: 0, httpCut: 0, websocketsClosed: 0, websocketsCut: 0 };

  constructor(options: FrontDoorOptions) {
    this.#options = options;
    this.#trust = createTrustCheck(options.trustedProxies);
    this.#upstream = { port: options.gatewayPort, agent: createUpstreamAgent(), incidents: new UpstreamIncidents(options.logger) };
    this.#server = http.createServer({
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: 1_000,
      noDelay: true,
    });
    this.#server.on('request', (req, res) => this.#onRequest(req, res));
    this.#server.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
  }

  get openWebSockets(): number {
    return this.#tunnels.size;
  }

  get inflightRequests(): number {
    return this.#inflight.size;
  }

  /**
   * Listens on host:port; `::` is dual-stack (IPv4 and IPv6), and falls back to 0.0.0.0 on a host
   * without IPv6. Resolves with the bound address.
   */
  async listen(): Promise<{ address: string; port: number }> {
    try {
      return await this.#listenOn(this.#options.host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (this.#options.host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw error;
      return this.#listenOn('0.0.0.0');
    }
  }

  #listenOn(host: string): Promise<{ address: string; port: number }> {
    const { port } = this.#options;
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port, ipv6Only: false }, () => {
        this.#server.off('error', reject);
        const bound = this.#server.address();
        resolve(typeof bound === 'object' && bound ? { address: bound.address, port: bound.port } : { address: host, port });
      });
    });
  }

  /** Step 1 of the drain: not ready any more, stop accepting, close idle keep-alive connections. */
  startDrain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#server.close();
    this.#server.closeIdleConnections();
    // Responses still in flight tell their clients that this connection ends with them.
    for (const res of this.#inflight) if (!res.headersSent) res.shouldKeepAlive = false;
  }

  /** Resolves once no forwarded HTTP request is in flight. */
  async httpIdle(): Promise<void> {
    while (this.#inflight.size > 0) await this.#nextChange();
  }

  /** Resolves once every WebSocket session has ended. */
  async websocketsClosed(): Promise<void> {
    while (this.#tunnels.size > 0) await this.#nextChange();
  }

  /** The drain deadline: close the WebSockets left with 1001, cut the HTTP requests left. */
  async cutRemaining(): Promise<void> {
    const cuts = [...this.#tunnels].map((tunnel) => tunnel.cut(CLOSE_GOING_AWAY, 'supervisor shutting down'));
    for (const res of this.#inflight) {
      this.#inflight.delete(res);
      this.#counts.httpCut++;
      res.destroy();
    }
    this.#server.closeAllConnections();
    await Promise.all(cuts);
  }

  counts(): DrainCounts {
    return { ...this.#counts };
  }

  #view(): HealthView {
    return { gatewayState: this.#options.gatewayState(), draining: this.#draining };
  }

  #nextChange(): Promise<void> {
    return new Promise((resolve) => this.#changeWaiters.push(resolve));
  }

  #changed(): void {
    for (const resolve of this.#changeWaiters.splice(0)) resolve();
  }

  #peer(req: IncomingMessage): Peer {
    const address = normalizeAddress(req.socket.remoteAddress);
    const trusted = this.#trust(address);
    if (!trusted && req.headers['x-forwarded-for'] !== undefined) this.#noteUntrustedForwarder(address);
    return { address, trusted };
  }

  /** Once per peer (a few at most): how to find the address of a platform proxy to trust. */
  #noteUntrustedForwarder(address: string): void {
    if (this.#untrustedForwarders.has(address) || this.#untrustedForwarders.size >= 16) return;
    this.#untrustedForwarders.add(address);
    this.#options.logger.info(
      { event: 'front_door.forwarded_headers_replaced', peer: address },
      `X-Forwarded-For from ${address} replaced: that peer is not in SUPERVISOR_TRUSTED_PROXIES (add its range if it is your platform's proxy)`,
    );
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    const path = url.split('?', 1)[0]!;
    if (!url.startsWith('/') || TRAVERSAL.test(path)) {
      sendJson(res, 400, { error: 'bad_request', message: 'the request target must be a path without . or .. segments' }, { connection: 'close' });
      return;
    }
    if (path === HEALTH_PATH || path === READY_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' });
        return;
      }
      const answer = path === HEALTH_PATH ? liveness(this.#view()) : readiness(this.#view());
      if (this.#draining) res.shouldKeepAlive = false;
      sendJson(res, answer.status, answer.body);
      return;
    }
    const view = this.#view();
    if (!isServing(view)) {
      if (this.#draining) {
        this.#counts.httpRejected++;
        res.shouldKeepAlive = false;
      }
      sendJson(res, 503, { error: 'unavailable', state: view.draining ? 'draining' : view.gatewayState, retryAfterSeconds: RETRY_AFTER_SECONDS }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
      return;
    }
    this.#inflight.add(res);
    res.once('close', () => {
      this.#inflight.delete(res);
      if (this.#draining) {
        if (res.writableFinished) this.#counts.httpCompleted++;
        // Its connection is idle now: close it instead of keeping it alive.
        setImmediate(() => this.#server.closeIdleConnections());
      }
      this.#changed();
    });
    forwardHttp(req, res, this.#peer(req), this.#upstream);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '';
    const path = url.split('?', 1)[0]!;
    if (!url.startsWith('/') || TRAVERSAL.test(path) || path === HEALTH_PATH || path === READY_PATH) {
      writeRawResponse(socket, 400, { error: 'bad_request', message: 'not a WebSocket endpoint' });
      return;
    }
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      writeRawResponse(socket, 400, { error: 'unsupported_upgrade', message: 'only WebSocket upgrades are forwarded' });
      return;
    }
    const view = this.#view();
    if (!isServing(view)) {
      if (this.#draining) this.#counts.httpRejected++;
      writeRawResponse(socket, 503, { error: 'unavailable', state: view.draining ? 'draining' : view.gatewayState, retryAfterSeconds: RETRY_AFTER_SECONDS }, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
      return;
    }
    (socket as Socket).setNoDelay?.(true);
    openTunnel(req, socket, head, this.#peer(req), this.#upstream, {
      onOpen: (tunnel) => this.#tunnels.add(tunnel),
      onEnd: (tunnel, end) => {
        if (!this.#tunnels.delete(tunnel)) return;
        if (this.#draining) {
          if (end === 'cut') this.#counts.websocketsCut++;
          else this.#counts.websocketsClosed++;
        }
        this.#changed();
      },
    });
  }
}
