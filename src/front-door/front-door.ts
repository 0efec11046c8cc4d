import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.js';
import { startMemoryRelease } from '../host/memory-release.js';
import { MAX_REQUEST_HEADERS, admit, type Admission, type Arrival } from './admission.js';
import { Attributor, attributionRefusal } from './attributor.js';
import { createTrustCheck, type LoopbackClients } from './client-attribution.js';
import { clientErrorAction } from './client-errors.js';
import { capConnections } from './connection-cap.js';
import { Connections, isClosing, markClosing, pendingAnswers, type Closing } from './connections.js';
import { Drain, type DrainCounts } from './drain.js';
import type { HealthDetails, HealthView } from './health.js';
import { forwardHttp } from './http-forward.js';
import { sendJson, writeRawResponse } from './responses.js';
import { AnswerCounts, type FrontDoorStats } from './stats.js';
import { connectUpstream, type Upstream } from './upstream.js';
import { openTunnel } from './ws-connect.js';
import { ALL_INTERFACES, ALL_IPV4_INTERFACES } from '../host/loopback.js';
import { TIME_BOUNDS } from '../time-bounds.js';

export { MAX_PIPELINED } from './connections.js';
export { CUT_GRACE_MS, type DrainCounts } from './drain.js';
export type { FrontDoorStats, StatusClass } from './stats.js';

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
  /** Client connections accepted at once (src/host/fd-limit.ts connectionCap); more are closed at accept. The upstream pool's bound too. */
  readonly maxConnections?: number | null;
  /** The client-side time bounds; the defaults below unless a test needs shorter ones. */
  readonly limits?: Partial<FrontDoorLimits>;
}

export interface FrontDoorLimits {
  readonly keepAliveTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: FrontDoorLimits = {
  /** Railway's edge drops idle keep-alive connections after 60 s: ours must outlive that, or the edge reuses a socket we are closing (a 502). */
  keepAliveTimeoutMs: TIME_BOUNDS.frontDoorKeepAlive.ms,
  /** Bounds slow-header (slowloris) clients: the whole request head must arrive within this time (else 408). */
  headersTimeoutMs: TIME_BOUNDS.frontDoorHeaders.ms,
  /** Bounds slow-body clients: the whole request, head and body, must arrive within this time (else 408). */
  requestTimeoutMs: TIME_BOUNDS.frontDoorRequest.ms,
};

/**
 * The public listener: answers /healthz and /readyz itself, admits or refuses every request and
 * upgrade (admission.ts), forwards the rest to the gateway on loopback (HTTP through undici,
 * WebSockets on a socket of their own), answers 503 instead of refusing while the gateway is not
 * ready, and drains on request (drain.ts).
 */
export class FrontDoor {
  readonly #options: FrontDoorOptions;
  readonly #server: http.Server;
  readonly #drain: Drain;
  readonly #connections = new Connections();
  readonly #answers = new AnswerCounts();
  readonly #attributor: Attributor;
  readonly #handle = (req: IncomingMessage, res: ServerResponse): Closing | void => this.#handleRequest(req, res);
  /** A forwarded exchange is over: not in flight any more (cut at the drain deadline: no status went out). */
  readonly #httpEnded = (res: ServerResponse): void => {
    this.#answers.count(this.#drain.httpEnded(res) && res.headersSent && res.writableFinished ? res.statusCode : 0);
  };
  #upstream: Upstream | null = null;
  #upstreamLoading: Promise<Upstream> | null = null;
  #healthDetails: (() => HealthDetails) | undefined;
  #announcing = false;
  #websocketsOpened = 0;
  /** Gives a burst's memory back once the front door is quiet (src/host/memory-release.ts); from listen to drain. */
  #memoryRelease: { close(): void } | null = null;

  constructor(options: FrontDoorOptions) {
    this.#options = options;
    this.#attributor = new Attributor({ trustedProxies: createTrustCheck(options.trustedProxies), loopbackClients: options.loopbackClients ?? 'local' }, options.logger);
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
    this.#drain = new Drain(this.#server);
    if (options.maxConnections != null) capConnections(this.#server, options.maxConnections, options.logger);
    this.#server.on('connection', (socket: Socket) => this.#connections.accept(socket));
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#connections.enqueue(req, res, this.#handle));
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => this.#onClientError(error, socket));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
  }

  get openWebSockets(): number {
    return this.#drain.tunnels.size;
  }

  get inflightRequests(): number {
    return this.#drain.inflight.size;
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
      if (this.#options.host !== ALL_INTERFACES || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw error;
      bound = await this.#listenOn(ALL_IPV4_INTERFACES);
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
    this.#upstreamLoading ??= connectUpstream(this.#options.gatewayPort, this.#options.logger, this.#options.maxConnections ?? null).then((upstream) => (this.#upstream = upstream));
    return this.#upstreamLoading;
  }

  /** A stop is coming: /readyz answers 503 from now on, while everything else is still served. */
  announceShutdown(): void {
    this.#announcing = true;
  }

  /** Step 1 of the drain: not ready any more, stop accepting, close idle keep-alive connections. */
  startDrain(): void {
    if (this.#drain.start()) this.#memoryRelease?.close();
  }

  /** Resolves once no forwarded HTTP request is in flight. */
  httpIdle(): Promise<void> {
    return this.#drain.httpIdle();
  }

  /** Resolves once every WebSocket session has ended. */
  websocketsClosed(): Promise<void> {
    return this.#drain.websocketsClosed();
  }

  /** The drain deadline (drain.ts): whatever is left is closed or cut, within CUT_GRACE_MS. */
  cutRemaining(): Promise<void> {
    return this.#drain.cutRemaining();
  }

  /** Where /healthz and /readyz read their details from, from now on. */
  setHealthDetails(source: () => HealthDetails): void {
    this.#healthDetails = source;
  }

  counts(): DrainCounts {
    return this.#drain.counts();
  }

  stats(): FrontDoorStats {
    const bytes = this.#connections.bytes();
    return {
      httpResponses: this.#answers.byClass(),
      websocketsOpened: this.#websocketsOpened,
      websocketsOpen: this.#drain.tunnels.size,
      inflightRequests: this.#drain.inflight.size,
      upstreamErrors: this.#upstream?.incidents.totals() ?? { http: 0, websocket: 0 },
      bytesReceived: bytes.received,
      bytesSent: bytes.sent,
      drain: this.#drain.counts(),
    };
  }

  /** What memory-release.ts reads at each poll: in flight, and a count that moves with any request, connection or WebSocket. */
  #activity(): { inflight: number; served: number } {
    return { inflight: this.#drain.inflight.size + this.#drain.handshaking.size, served: this.#answers.total + this.#websocketsOpened + this.#connections.accepted };
  }

  #view(): HealthView {
    return { gatewayState: this.#options.gatewayState(), draining: this.#drain.draining, details: this.#healthDetails, announcing: this.#announcing, unresponsive: this.#options.gatewayResponsive?.() === false };
  }

  /** The admission decision, with the drain's count of refused requests. */
  #admit(req: IncomingMessage, upgrade: string | null): Admission {
    const arrival: Arrival = { method: req.method ?? '', url: req.url ?? '', upgrade, httpVersion: req.httpVersion, rawHeaders: req.rawHeaders };
    const admission = admit(arrival, this.#view());
    if (admission.action === 'reply' && admission.drainRejected) this.#drain.rejected();
    // Admitted while the engine is still loading (only in the first milliseconds): not ready yet.
    if (admission.action === 'forward' && this.#upstream === null) {
      return admit(arrival, { gatewayState: 'starting', draining: this.#drain.draining });
    }
    return admission;
  }

  /** One request, in its turn on its connection (connections.ts); returns what runs when its response closes. */
  #handleRequest(req: IncomingMessage, res: ServerResponse): Closing | void {
    const socket = req.socket;
    if (socket.destroyed || isClosing(socket)) {
      res.destroy();
      return;
    }
    const admission = this.#admit(req, null);
    if (admission.action === 'reply') {
      this.#answers.count(admission.status);
      sendJson(res, admission.status, admission.body, admission.headers, admission.close);
      return;
    }
    const attribution = this.#attributor.attribute(req);
    if (attribution.kind === 'refused') {
      this.#answers.count(403);
      sendJson(res, 403, attributionRefusal(attribution));
      return;
    }
    this.#drain.inflight.add(res);
    return forwardHttp(req, res, attribution, this.#upstream!, this.#httpEnded);
  }

  /** A request Node's parser refused (client-errors.ts decides what it gets). */
  #onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    const decision = clientErrorAction(error.code, { writable: socket.writable, bytesWritten: (socket as Socket).bytesWritten ?? 0, pending: pendingAnswers(socket) });
    if (decision.action === 'close-after-pending') {
      markClosing(socket);
    } else if (decision.action === 'answer') {
      this.#answers.count(decision.status);
      writeRawResponse(socket, decision.status, decision.body);
    } else {
      socket.destroy();
    }
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    // Node announces an upgrade as soon as its head is parsed, even behind requests still waiting
    // for their answers: a 101 (or a refusal) would overtake them, and their answers would land in
    // the tunnel. The connection's framing is in doubt: it ends here, nothing is forwarded.
    if (pendingAnswers(socket) > 0 || isClosing(socket)) {
      socket.destroy();
      return;
    }
    const admission = this.#admit(req, req.headers.upgrade ?? '');
    if (admission.action === 'reply') {
      this.#answers.count(admission.status);
      writeRawResponse(socket, admission.status, admission.body, admission.headers);
      return;
    }
    const attribution = this.#attributor.attribute(req);
    if (attribution.kind === 'refused') {
      this.#answers.count(403);
      writeRawResponse(socket, 403, attributionRefusal(attribution));
      return;
    }
    (socket as Socket).setNoDelay?.(true);
    const handshaking = this.#drain.handshaking;
    handshaking.add(socket);
    socket.once('close', () => handshaking.delete(socket));
    openTunnel(req, socket, head, attribution, this.#upstream!, {
      onOpen: (tunnel) => {
        handshaking.delete(socket);
        this.#websocketsOpened++;
        this.#drain.tunnels.add(tunnel);
      },
      onEnd: (tunnel, end) => this.#drain.tunnelEnded(tunnel, end),
    });
  }
}
