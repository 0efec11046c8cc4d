import type http from 'node:http';
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { CLOSE_GOING_AWAY } from './ws-frames.js';
import type { Tunnel, TunnelEnd } from './ws-tunnel.js';
import { TIME_BOUNDS } from '../time-bounds.js';

export interface DrainCounts {
  readonly httpCompleted: number;
  readonly httpRejected: number;
  readonly httpCut: number;
  readonly websocketsClosed: number;
  readonly websocketsCut: number;
}

/** At the drain deadline, how long a WebSocket client gets to take our close frame before its socket is destroyed. */
export const CUT_GRACE_MS = TIME_BOUNDS.cutGrace.ms;

/**
 * What is under way on the public port (forwarded requests, WebSocket handshakes and sessions) and
 * how it ends when the supervisor stops: wait for it, or cut it at the deadline, and count both.
 */
export class Drain {
  /** Forwarded requests whose exchange is not over yet. */
  readonly inflight = new Set<ServerResponse>();
  readonly tunnels = new Set<Tunnel>();
  /** Client sockets whose WebSocket handshake with the gateway is under way. */
  readonly handshaking = new Set<Duplex>();
  readonly #counts = { httpCompleted: 0, httpRejected: 0, httpCut: 0, websocketsClosed: 0, websocketsCut: 0 };
  readonly #waiters: Array<() => void> = [];
  #draining = false;

  constructor(private readonly server: http.Server) {}

  get draining(): boolean {
    return this.#draining;
  }

  counts(): DrainCounts {
    return { ...this.#counts };
  }

  /** A request turned away because the supervisor drains. */
  rejected(): void {
    this.#counts.httpRejected++;
  }

  /** Step 1: stop accepting, close idle keep-alive connections; false if it had started already. */
  start(): boolean {
    if (this.#draining) return false;
    this.#draining = true;
    this.server.close();
    this.server.closeIdleConnections();
    // Responses still in flight tell their clients that this connection ends with them.
    for (const res of this.inflight) if (!res.headersSent) res.shouldKeepAlive = false;
    return true;
  }

  /** A forwarded request's exchange is over; false if the deadline had cut it already. */
  httpEnded(res: ServerResponse): boolean {
    if (!this.inflight.delete(res)) return false;
    if (this.#draining) {
      if (res.writableFinished) this.#counts.httpCompleted++;
      else this.#counts.httpCut++;
      // Its connection is idle now: close it instead of keeping it alive.
      setImmediate(() => this.server.closeIdleConnections());
    }
    this.#changed();
    return true;
  }

  tunnelEnded(tunnel: Tunnel, end: TunnelEnd): void {
    if (!this.tunnels.delete(tunnel)) return;
    if (this.#draining) {
      if (end === 'cut') this.#counts.websocketsCut++;
      else this.#counts.websocketsClosed++;
    }
    this.#changed();
  }

  /** Resolves once no forwarded HTTP request is in flight. */
  async httpIdle(): Promise<void> {
    while (this.inflight.size > 0) await this.#nextChange();
  }

  /** Resolves once every WebSocket session has ended. */
  async websocketsClosed(): Promise<void> {
    while (this.tunnels.size > 0) await this.#nextChange();
  }

  /**
   * The drain deadline: close the WebSockets left with 1001, cut the HTTP requests left, destroy
   * every connection. Resolves within CUT_GRACE_MS whatever the clients do (a tunnel whose client
   * never reads is destroyed by then), so no exit ever waits on a leftover socket.
   */
  async cutRemaining(): Promise<void> {
    const cuts = [...this.tunnels].map((tunnel) => tunnel.cut(CLOSE_GOING_AWAY, 'supervisor shutting down', CUT_GRACE_MS));
    // A handshake still under way would otherwise open a session after the deadline.
    for (const socket of this.handshaking) socket.destroy();
    this.handshaking.clear();
    for (const res of this.inflight) {
      this.inflight.delete(res);
      this.#counts.httpCut++;
      res.destroy();
    }
    this.server.closeAllConnections();
    await Promise.all(cuts);
  }

  #nextChange(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #changed(): void {
    if (this.#waiters.length === 0) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
