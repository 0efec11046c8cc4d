import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.js';
import { startMemoryRelease } from '../host/memory-release.js';
import { MAX_REQUEST_HEADERS, admit, type Admission, type Arrival } from './admission.js';
import { attributeClient, createTrustCheck, isLoopback, normalizeAddress, type Attribution, type AttributionPolicy, type LoopbackClients } from './client-attribution.js';
import type { HealthDetails, HealthView } from './health.js';
import { capConnections } from './connection-cap.js';
import { forwardHttp } from './http-forward.js';
import { isClosing, markClosing, sendJson, writeRawResponse } from './responses.js';
import { connectUpstream, type Upstream } from './upstream.js';
import { CLOSE_GOING_AWAY } from './ws-frames.js';
import { openTunnel, type Tunnel } from './ws-tunnel.js';

export interface FrontDoorOptions {
  readonly host: string;
  readonly port: number;
  readonly gatewayPort: number;
  readonly trustedProxies: readonly string[];
  /** SUPERVISOR_LOOPBACK_CLIENTS (default local): whether a loopback peer without forwarding headers is a local client or a relay. */
  readonly loopbackClients?: LoopbackClients;
  readonly logger: Logger;
  /** The gateway's state, read on every request. */
  readonly gatewayState: () => HealthView['gatewayState'];
  /** False while the ready gateway fails its liveness probe: /readyz 503 (read by the health endpoints only). */
  readonly gatewayResponsive?: () => boolean;
  /** Client connections accepted at once (src/host/fd-limit.ts connectionCap); more are closed at accept. */
  readonly maxConnections?: number | null;
  /** What /healthz and /readyz add about the gateway (restarts, last exit, time ready); see also setHealthDetails. */
  readonly healthDetails?: () => HealthDetails;
  /** The client-side time bounds; the defaults below unless a test needs shorter ones. */
  readonly limits?: Partial<FrontDoorLimits>;
}

export interface FrontDoorLimits {
  readonly keepAliveTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export interface DrainCounts {
  readonly httpCompleted: number;
  readonly httpRejected: number;
  readonly httpCut: number;
  readonly websocketsClosed: number;
  readonly websocketsCut: number;
}

/** HTTP answers by status class; `none`: no status went out (the client left, or the answer was cut). */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'none';

/** The front door's counters since it started: plain numbers, read when metrics are scraped. */
export interface FrontDoorStats {
  /** HTTP answers on the public port, its own and forwarded ones (accepted WebSocket upgrades excluded). */
  readonly httpResponses: Readonly<Record<StatusClass, number>>;
  readonly websocketsOpened: number;
  readonly websocketsOpen: number;
  readonly inflightRequests: number;
  /** Requests the gateway did not answer (502/504 sent, or the WebSocket handshake failed). */
  readonly upstreamErrors: { readonly http: number; readonly websocket: number };
  /** Bytes read from and written to clients' connections on the public port. */
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly drain: DrainCounts;
}

/** Requests one connection may have waiting for their answers (pipelining depth); more ends the connection. */
export const MAX_PIPELINED = 16;

/** At the drain deadline, how long a WebSocket client gets to take our close frame before its socket is destroyed. */
export const CUT_GRACE_MS = 500;

export const DEFAULT_LIMITS: FrontDoorLimits = {
  /** Railway's edge drops idle keep-alive connections after 60 s: ours must outlive that, or the edge reuses a socket we are closing (a 502). */
  keepAliveTimeoutMs: 65_000,
  /** Bounds slow-header (slowloris) clients: the whole request head must arrive within this time (else 408). */
  headersTimeoutMs: 15_000,
  /** Bounds slow-body clients: the whole request, head and body, must arrive within this time (else 408). */
  requestTimeoutMs: 60_000,
};

/**
 * The public listener: answers /healthz and /readyz itself, admits or refuses every request and
 * upgrade (admission.ts), forwards the rest to the gateway on loopback through undici, answers 503
 * instead of refusing while the gateway is not ready, and drains on request.
 */
export class FrontDoor {
  readonly #options: FrontDoorOptions;
  readonly #server: http.Server;
  readonly #attribution: AttributionPolicy;
  /** Forwarded requests whose exchange is not over yet. */
  readonly #inflight = new Set<ServerResponse>();
  readonly #tunnels = new Set<Tunnel>();
  readonly #changeWaiters: Array<() => void> = [];
  readonly #untrustedForwarders = new Set<string>();
  readonly #refusedForwarders = new Set<string>();
  /** Requests on a connection whose answer is not complete yet. */
  readonly #unanswered = new WeakMap<object, number>();
  /** Client sockets whose WebSocket handshake with the gateway is under way. */
  readonly #handshaking = new Set<Duplex>();
  /** Per connection: settles when the answer to its latest request is complete. */
  readonly #lastExchange = new WeakMap<object, Promise<void>>();
  #upstream: Upstream | null = null;
  #upstreamLoading: Promise<Upstream> | null = null;
  #draining = false;
  #healthDetails: (() => HealthDetails) | undefined;
  #announcing = false;
  #counts = { httpCompleted: 0, httpRejected: 0, httpCut: 0, websocketsClosed: 0, websocketsCut: 0 };
  /** Answers by status class: index 0 none, 1 to 5 for 1xx to 5xx. */
  readonly #responses = [0, 0, 0, 0, 0, 0];
  #websocketsOpened = 0;
  /** Open client connections (their bytes so far are read at scrape time), and the bytes of closed ones. */
  readonly #connections = new Set<Socket>();
  #closedBytesReceived = 0;
  #closedBytesSent = 0;
  #connectionsAccepted = 0;
  /** Gives a burst's memory back once the front door is quiet (src/host/memory-release.ts); from listen to drain. */
  #memoryRelease: { close(): void } | null = null;

  constructor(options: FrontDoorOptions) {
    this.#options = options;
    this.#healthDetails = options.healthDetails;
    this.#attribution = { trustedProxies: createTrustCheck(options.trustedProxies), loopbackClients: options.loopbackClients ?? 'local' };
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#server = http.createServer({
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: 1_000,
      // Spelled out because the front door's framing rules rely on them (both are Node's defaults).
      insecureHTTPParser: false,
      requireHostHeader: true,
      noDelay: true,
    });
    // Node's default, spelled out: on Node 20 the fields past it are dropped without an error, a
    // Content-Length among them, so admission refuses a head that reaches it (Node 24 answers 431).
    this.#server.maxHeadersCount = MAX_REQUEST_HEADERS;
    if (options.maxConnections != null) capConnections(this.#server, options.maxConnections, options.logger);
    this.#server.on('connection', (socket: Socket) => this.#onConnection(socket));
    this.#server.on('request', (req, res) => this.#onRequest(req, res));
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => this.#onClientError(error, socket));
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
   * without IPv6. Resolves with the bound address. The forwarding engine loads after that.
   */
  async listen(): Promise<{ address: string; port: number }> {
    let bound: { address: string; port: number };
    try {
      bound = await this.#listenOn(this.#options.host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (this.#options.host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw error;
      bound = await this.#listenOn('0.0.0.0');
    }
    void this.#loadUpstream();
    this.#memoryRelease ??= startMemoryRelease({ activity: () => this.#activity(), logger: this.#options.logger });
    return bound;
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

  #loadUpstream(): Promise<Upstream> {
    this.#upstreamLoading ??= connectUpstream(this.#options.gatewayPort, this.#options.logger).then((upstream) => (this.#upstream = upstream));
    return this.#upstreamLoading;
  }

  /** A stop is coming: /readyz answers 503 from now on, while everything else is still served. */
  announceShutdown(): void {
    this.#announcing = true;
  }

  /** Step 1 of the drain: not ready any more, stop accepting, close idle keep-alive connections. */
  startDrain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#memoryRelease?.close();
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

  /**
   * The drain deadline: close the WebSockets left with 1001, cut the HTTP requests left, destroy
   * every connection. Resolves within CUT_GRACE_MS whatever the clients do (a tunnel whose client
   * never reads is destroyed by then), so no exit ever waits on a leftover socket.
   */
  async cutRemaining(): Promise<void> {
    const cuts = [...this.#tunnels].map((tunnel) => tunnel.cut(CLOSE_GOING_AWAY, 'supervisor shutting down', CUT_GRACE_MS));
    // A handshake still under way would otherwise open a session after the deadline.
    for (const socket of this.#handshaking) socket.destroy();
    this.#handshaking.clear();
    for (const res of this.#inflight) {
      this.#inflight.delete(res);
      this.#counts.httpCut++;
      res.destroy();
    }
    this.#server.closeAllConnections();
    await Promise.all(cuts);
  }

  /** Where /healthz and /readyz read their details from, from now on. */
  setHealthDetails(source: () => HealthDetails): void {
    this.#healthDetails = source;
  }

  counts(): DrainCounts {
    return { ...this.#counts };
  }

  stats(): FrontDoorStats {
    let bytesReceived = this.#closedBytesReceived;
    let bytesSent = this.#closedBytesSent;
    for (const socket of this.#connections) {
      bytesReceived += socket.bytesRead;
      bytesSent += socket.bytesWritten;
    }
    const r = this.#responses;
    return {
      httpResponses: { none: r[0]!, '1xx': r[1]!, '2xx': r[2]!, '3xx': r[3]!, '4xx': r[4]!, '5xx': r[5]! },
      websocketsOpened: this.#websocketsOpened,
      websocketsOpen: this.#tunnels.size,
      inflightRequests: this.#inflight.size,
      upstreamErrors: this.#upstream?.incidents.totals() ?? { http: 0, websocket: 0 },
      bytesReceived,
      bytesSent,
      drain: this.counts(),
    };
  }

  /** What memory-release.ts reads at each poll: in flight, and a count that moves with any request, connection or WebSocket. */
  #activity(): { inflight: number; served: number } {
    const r = this.#responses;
    return { inflight: this.#inflight.size + this.#handshaking.size, served: r[0]! + r[1]! + r[2]! + r[3]! + r[4]! + r[5]! + this.#websocketsOpened + this.#connectionsAccepted };
  }

  #onConnection(socket: Socket): void {
    this.#connectionsAccepted++;
    this.#connections.add(socket);
    socket.once('close', () => {
      this.#connections.delete(socket);
      this.#closedBytesReceived += socket.bytesRead;
      this.#closedBytesSent += socket.bytesWritten;
    });
  }

  #countAnswer(status: number): void {
    const index = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
    this.#responses[index]!++;
  }

  #view(): HealthView {
    return { gatewayState: this.#options.gatewayState(), draining: this.#draining, details: this.#healthDetails, announcing: this.#announcing, unresponsive: this.#options.gatewayResponsive?.() === false };
  }

  #nextChange(): Promise<void> {
    return new Promise((resolve) => this.#changeWaiters.push(resolve));
  }

  #changed(): void {
    for (const resolve of this.#changeWaiters.splice(0)) resolve();
  }

  /** Who the client is (client-attribution.ts), with the records a proxy's operator needs. */
  #attribute(req: IncomingMessage): Attribution {
    const address = normalizeAddress(req.socket.remoteAddress);
    const attribution = attributeClient(req, address, this.#attribution);
    if (attribution.kind === 'remote' && attribution.replaced) this.#noteUntrustedForwarder(address);
    if (attribution.kind === 'refused') this.#noteRefusedForwarder(address, attribution.code);
    return attribution;
  }

  /** Once per peer and reason (a few at most): a proxy that speaks for clients without naming them. */
  #noteRefusedForwarder(address: string, code: string): void {
    const key = `${address} ${code}`;
    if (this.#refusedForwarders.has(key) || this.#refusedForwarders.size >= 16) return;
    this.#refusedForwarders.add(key);
    this.#options.logger.warn(
      { event: 'front_door.attribution_refused', peer: address, reason: code },
      `requests from ${address} refused (403): it sends forwarding headers that do not name the client (${code}); make the proxy send X-Forwarded-For with the client's address (nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for)`,
    );
  }

  /** Once per peer (a few at most): how to find the address of a platform proxy to trust. */
  #noteUntrustedForwarder(address: string): void {
    if (this.#untrustedForwarders.has(address) || this.#untrustedForwarders.size >= 16) return;
    this.#untrustedForwarders.add(address);
    // A loopback peer is heard only as "remote" here (SUPERVISOR_LOOPBACK_CLIENTS=remote): adding
    // loopback to the list would let every relayed client name its own address again.
    const advice = isLoopback(address)
      ? 'with SUPERVISOR_LOOPBACK_CLIENTS=remote a relay on this host could name any client, so a proxy here is heard only from an address of its own: give it one (nginx: proxy_bind 127.0.0.2) and list only that address'
      : "add its range if it is your platform's proxy";
    this.#options.logger.info(
      { event: 'front_door.forwarded_headers_replaced', peer: address },
      `X-Forwarded-For from ${address} replaced: that peer is not in SUPERVISOR_TRUSTED_PROXIES (${advice})`,
    );
  }

  /** The admission decision, with the drain's count of refused requests. */
  #admit(req: IncomingMessage, upgrade: string | null): Admission {
    const arrival: Arrival = { method: req.method ?? '', url: req.url ?? '', upgrade, httpVersion: req.httpVersion, rawHeaders: req.rawHeaders };
    const admission = admit(arrival, this.#view());
    if (admission.action === 'reply' && admission.drainRejected) this.#counts.httpRejected++;
    // Admitted while the engine is still loading (only in the first milliseconds): not ready yet.
    if (admission.action === 'forward' && this.#upstream === null) {
      return admit(arrival, { gatewayState: 'starting', draining: this.#draining });
    }
    return admission;
  }

  /**
   * Pipelined requests are forwarded one at a time, each once the answer before it is complete
   * (as nginx does): Node's server parses ahead, and a request behind an answer that ends the
   * connection (a refusal, HTTP/1.0 without a length) would otherwise reach the gateway with
   * nobody left to read its answer.
   */
  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const unanswered = (this.#unanswered.get(socket) ?? 0) + 1;
    // Each request parsed ahead holds a request, a response and a queue entry: a client that
    // pipelines thousands behind an answer it does not read must not make us hold them all.
    if (unanswered > MAX_PIPELINED) {
      socket.destroy();
      return;
    }
    const previous = this.#lastExchange.get(socket);
    this.#unanswered.set(socket, unanswered);
    this.#lastExchange.set(
      socket,
      new Promise<void>((resolve) =>
        res.once('close', () => {
          this.#unanswered.set(socket, (this.#unanswered.get(socket) ?? 1) - 1);
          resolve();
        }),
      ),
    );
    if (previous === undefined) this.#handle(req, res, socket);
    else void previous.then(() => this.#handle(req, res, socket));
  }

  #handle(req: IncomingMessage, res: ServerResponse, socket: Duplex): void {
    if (socket.destroyed || isClosing(socket)) {
      res.destroy();
      return;
    }
    const admission = this.#admit(req, null);
    if (admission.action === 'reply') {
      this.#countAnswer(admission.status);
      sendJson(res, admission.status, admission.body, admission.headers, admission.close);
      return;
    }
    const attribution = this.#attribute(req);
    if (attribution.kind === 'refused') {
      this.#countAnswer(403);
      sendJson(res, 403, refusal(attribution));
      return;
    }
    this.#inflight.add(res);
    forwardHttp(req, res, attribution, this.#upstream!, () => {
      if (!this.#inflight.delete(res)) {
        this.#countAnswer(0); // cut at the drain deadline
        return;
      }
      this.#countAnswer(res.headersSent && res.writableFinished ? res.statusCode : 0);
      if (this.#draining) {
        if (res.writableFinished) this.#counts.httpCompleted++;
        else this.#counts.httpCut++;
        // Its connection is idle now: close it instead of keeping it alive.
        setImmediate(() => this.#server.closeIdleConnections());
      }
      this.#changed();
    });
  }

  /**
   * A request Node's parser refused (malformed, ambiguous, too large, too slow). Its status goes out
   * only when no earlier answer is pending on the connection (or, for a timeout, only the slow
   * request's own): written in front of a pending answer, the client would take it as that one's.
   * Either way the connection is destroyed: nothing after a parse error can be framed with certainty.
   */
  #onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const pending = this.#unanswered.get(socket) ?? 0;
    // Bytes after a request that closes the connection: that request is certain and gets its
    // answer, after which the connection ends (its own Connection: close); the rest is dropped.
    if (error.code === 'HPE_CLOSED_CONNECTION' && pending > 0) {
      markClosing(socket);
      return;
    }
    if (socket.writable && (socket as Socket).bytesWritten === 0 && pending <= (timedOut ? 1 : 0)) {
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : timedOut ? 408 : 400;
      this.#countAnswer(status);
      const message = status === 431 ? 'request head too large' : timedOut ? 'the request did not arrive in time' : 'malformed or ambiguous request';
      writeRawResponse(socket, status, { error: status === 408 ? 'request_timeout' : 'bad_request', message });
    } else {
      socket.destroy();
    }
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const admission = this.#admit(req, req.headers.upgrade ?? '');
    if (admission.action === 'reply') {
      this.#countAnswer(admission.status);
      writeRawResponse(socket, admission.status, admission.body, admission.headers);
      return;
    }
    const attribution = this.#attribute(req);
    if (attribution.kind === 'refused') {
      this.#countAnswer(403);
      writeRawResponse(socket, 403, refusal(attribution));
      return;
    }
    (socket as Socket).setNoDelay?.(true);
    this.#handshaking.add(socket);
    socket.once('close', () => this.#handshaking.delete(socket));
    openTunnel(req, socket, head, attribution, this.#upstream!, {
      onOpen: (tunnel) => {
        this.#handshaking.delete(socket);
        this.#websocketsOpened++;
        this.#tunnels.add(tunnel);
      },
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

/** The same body for an HTTP request and a WebSocket upgrade, as the gateway names the same refusal. */
function refusal(attribution: Extract<Attribution, { kind: 'refused' }>): object {
  return { error: 'proxy_attribution_required', reason: attribution.code, message: `refused: ${attribution.message} (see the README, "HTTPS in front")` };
}
