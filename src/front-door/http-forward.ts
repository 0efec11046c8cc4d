import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ForwardableAttribution } from './client-attribution.js';
import { endToEndRawResponseHeaders } from './headers.js';
import { sendJson } from './responses.js';
import type { Upstream } from './upstream.js';
import { upstreamFailure } from './upstream-errors.js';
import { upstreamRequest } from './upstream-request.js';
import { TIME_BOUNDS } from '../time-bounds.js';

/**
 * A response the client has stopped reading for this long is abandoned: the connection is
 * destroyed and the gateway's request aborted, so a client that never reads holds nothing for ever.
 */
export const WRITE_STALL_TIMEOUT_MS = TIME_BOUNDS.frontDoorWriteStall.ms;

const CLIENT_GONE = Object.assign(new Error('the client closed its connection'), { code: 'CLIENT_GONE' });

/** What the caller calls, once, when the response closes (its one close listener). */
export interface ForwardedExchange {
  closed(): void;
}

const ALREADY_OVER: ForwardedExchange = { closed: () => undefined };

/**
 * One forwarded exchange, and its own undici handler: one object per request, its methods shared.
 * It speaks undici's own handler interface (onConnect … onComplete, what undici's core calls):
 * the newer controller interface is adapted to it by undici with two more objects per request and
 * a headers object built from the raw head, which is read here once instead (measured, BENCHMARKS.md).
 */
class HttpExchange implements Dispatcher.DispatchHandler, ForwardedExchange {
  #abort: ((reason?: Error) => void) | null = null;
  #aborted = false;
  #resume: (() => void) | null = null;
  #over = false;
  /** One timer per exchange, re-armed at each pause: armed while the client does not read. */
  #stallTimer: NodeJS.Timeout | null = null;
  #paused = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly upstream: Upstream,
    private readonly done: (res: ServerResponse) => void,
  ) {}

  /** The response closed (complete, cut, or its client gone): the gateway's request is aborted unless it finished. */
  closed(): void {
    if (!this.res.writableFinished) this.#abortRequest();
    this.#finish();
  }

  #finish(): void {
    if (this.#over) return;
    this.#over = true;
    if (this.#stallTimer !== null) clearTimeout(this.#stallTimer);
    this.done(this.res);
  }

  #abortRequest(): void {
    if (this.#abort === null || this.#aborted) return;
    this.#aborted = true;
    this.#abort(CLIENT_GONE);
  }

  #drained(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resume?.();
  }

  #stalled(): void {
    if (this.#paused) this.res.destroy();
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#abort = abort;
    if (this.#over) this.#abortRequest();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusMessage: string): boolean {
    this.#resume = resume;
    this.upstream.incidents.succeeded();
    this.res.writeHead(statusCode, statusMessage, endToEndRawResponseHeaders(rawHeaders));
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.#paused = true;
    if (this.#stallTimer === null) {
      this.#stallTimer = setTimeout(() => this.#stalled(), WRITE_STALL_TIMEOUT_MS);
      this.res.on('drain', () => this.#drained());
    } else {
      this.#stallTimer.refresh();
    }
    return false;
  }

  onComplete(): void {
    this.res.end();
  }

  onError(error: Error & { code?: string }): void {
    const res = this.res;
    if (this.#over || res.destroyed) return;
    if (res.headersSent) {
      // The gateway died mid-body: the client must see a cut response, not a complete one.
      res.destroy();
      return;
    }
    const failure = upstreamFailure(error.code);
    if (failure.incident) this.upstream.incidents.failed('http', error);
    sendJson(res, failure.status, failure.body, failure.headers, true);
  }
}

/**
 * Forwards one request to the gateway and streams its response back. The request reaches the
 * gateway as exactly one request: same method and target, its body re-framed by undici from the
 * body it is given (the client's framing headers are never passed on). `done` is called exactly
 * once, when the exchange is over for whatever reason. Returns what the caller calls when `res`
 * closes (the caller's one close listener; Node closes the response under way when its client's
 * connection closes, so that also aborts the gateway's request at once).
 */
export function forwardHttp(req: IncomingMessage, res: ServerResponse, attribution: ForwardableAttribution, upstream: Upstream, done: (res: ServerResponse) => void): ForwardedExchange {
  const socket = req.socket;
  if (socket.destroyed || !socket.writable) {
    res.destroy();
    done(res);
    return ALREADY_OVER;
  }
  const request = upstreamRequest(req as IncomingMessage & { method: string; url: string }, attribution, 'http');
  const exchange = new HttpExchange(res, upstream, done);
  upstream.pool.dispatch({ method: request.method, path: request.path, headers: request.headers, body: request.framing.kind === 'none' ? null : req }, exchange);
  return exchange;
}
