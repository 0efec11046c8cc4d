import { scanHead, type RequestHead } from './headers.js';
import { HEALTH_PATH, READY_PATH, isServing, liveness, readiness, type HealthView } from './health.js';

/**
 * Header lines a request may have: Node's default `maxHeadersCount`, which the front door sets on
 * its server. Node 20 keeps parsing past it but drops the fields beyond it from `rawHeaders` (whole
 * batches of 32, measured), a `Content-Length` or `Transfer-Encoding` among them: the request would
 * be forwarded without its body. So `rawHeaders` at the cap (2 entries per line) means "maybe cut"
 * and is refused; Node 24 itself answers 431 past the cap.
 */
export const MAX_REQUEST_HEADERS = 1000;

/** Seconds a client should wait before retrying while the gateway is not ready. */
export const RETRY_AFTER_SECONDS = 5;

export interface Arrival extends RequestHead {
  readonly method: string;
  /** The raw request target. */
  readonly url: string;
  /** The Upgrade header of an upgrade request (Node's `upgrade` event), else null. */
  readonly upgrade: string | null;
}

/** An answer the front door gives itself. */
export interface Reply {
  readonly status: number;
  readonly body: object;
  readonly headers: Readonly<Record<string, string>>;
  /** The connection ends after this answer: its framing was in doubt, or the supervisor drains. */
  readonly close: boolean;
  /** A request turned away because the supervisor drains (counted in the drain record). */
  readonly drainRejected: boolean;
}

export type Admission = { readonly action: 'forward' } | ({ readonly action: 'reply' } & Reply);

/**
 * `..` or `.` path segments, raw or percent-encoded: never valid in a request to us or the gateway.
 * The gateway parses targets with WHATWG URL, for which `\` separates segments like `/` and `#`
 * ends the path: `/healthz\..\x` and `/x/..#y` are dot segments too.
 */
const TRAVERSAL = /(^|\/|\\|%2f|%5c)(\.|%2e){1,2}(\/|\\|%2f|%5c|#|$)/i;

const FORWARD: Admission = { action: 'forward' };

/**
 * What to do with one request or upgrade, decided from its head and the supervisor's state alone:
 * answer it here (health, a refusal, 503 while not serving) or forward it. The one gate that HTTP
 * requests and WebSocket upgrades both pass, in this order: header count, target, framing, own endpoints,
 * protocol, availability.
 */
export function admit(arrival: Arrival, view: HealthView): Admission {
  if (arrival.rawHeaders.length >= 2 * MAX_REQUEST_HEADERS) {
    return reply(431, { error: 'bad_request', message: `request head too large: at most ${MAX_REQUEST_HEADERS - 1} header lines` }, { close: true });
  }
  const url = arrival.url;
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  // A dot segment needs a `.` or a `%2e`: most paths have neither, and skip the expression.
  if (!url.startsWith('/') || ((path.includes('.') || path.includes('%')) && TRAVERSAL.test(path))) {
    return reply(400, { error: 'bad_request', message: 'the request target must be a path without . or .. segments' }, { close: true });
  }
  if (arrival.httpVersion !== '1.1' && arrival.httpVersion !== '1.0') {
    return reply(400, { error: 'bad_request', message: `HTTP/${arrival.httpVersion} is not spoken here: use HTTP/1.1` }, { close: true });
  }
  const scan = scanHead(arrival, arrival.upgrade !== null);
  const framing = scan.problem;
  if (framing !== null) {
    return reply(400, { error: 'ambiguous_framing', message: `refused: ${framing} (RFC 9112 §6); send one Content-Length or Transfer-Encoding: chunked` }, { close: true });
  }
  if (path === HEALTH_PATH || path === READY_PATH) {
    if (arrival.upgrade !== null) return reply(400, { error: 'bad_request', message: 'not a WebSocket endpoint' }, { close: true });
    if (arrival.method !== 'GET' && arrival.method !== 'HEAD') return reply(405, { error: 'method_not_allowed' }, { headers: { allow: 'GET, HEAD' }, close: view.draining });
    const answer = path === HEALTH_PATH ? liveness(view) : readiness(view);
    return reply(answer.status, answer.body, { close: view.draining });
  }
  if (arrival.upgrade !== null && (arrival.upgrade.toLowerCase() !== 'websocket' || arrival.method !== 'GET' || arrival.httpVersion !== '1.1')) {
    return reply(400, { error: 'unsupported_upgrade', message: 'only WebSocket upgrades (GET, HTTP/1.1) are forwarded' }, { close: true });
  }
  // Without a Host the engine would send its own (the gateway's loopback address): a request the
  // client never made. Only our own endpoints answer without one (old health checkers).
  if (!scan.hasHost) {
    return reply(400, { error: 'bad_request', message: 'a Host header is required' }, { close: true });
  }
  if (!isServing(view)) {
    const state = view.draining ? 'draining' : view.gatewayState;
    return reply(
      503,
      { error: 'unavailable', state, retryAfterSeconds: RETRY_AFTER_SECONDS },
      { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) }, close: view.draining || arrival.upgrade !== null, drainRejected: view.draining },
    );
  }
  return FORWARD;
}

function reply(status: number, body: object, options: { headers?: Record<string, string>; close: boolean; drainRejected?: boolean }): Admission {
  return { action: 'reply', status, body, headers: options.headers ?? {}, close: options.close, drainRejected: options.drainRejected ?? false };
}
