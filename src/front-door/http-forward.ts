import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { forwardedHeaders, type ForwardableAttribution } from './client-attribution.js';
import { bodyFraming, endToEndResponseHeaders } from './headers.js';
import { sendJson } from './responses.js';
import type { Upstream } from './upstream.js';

/**
 * A response the client has stopped reading for this long is abandoned: the connection is
 * destroyed and the gateway's request aborted, so a client that never reads holds nothing for ever.
 */
export const WRITE_STALL_TIMEOUT_MS = 60_000;

const CLIENT_GONE = Object.assign(new Error('the client closed its connection'), { code: 'CLIENT_GONE' });

/**
 * Forwards one request to the gateway and streams its response back. The request reaches the
 * gateway as exactly one request: same method and target, its body re-framed by undici from the
 * body it is given (the client's framing headers are never passed on). `done` is called exactly
 * once, when the exchange is over for whatever reason.
 */
export function forwardHttp(req: IncomingMessage, res: ServerResponse, attribution: ForwardableAttribution, upstream: Upstream, done: () => void): void {
  // Node detaches the socket from the message once the response is done: keep our own reference.
  const socket = req.socket;
  let controller: Dispatcher.DispatchController | null = null;
  let over = false;
  let stallTimer: NodeJS.Timeout | null = null;
  const finish = (): void => {
    if (over) return;
    over = true;
    if (stallTimer !== null) clearTimeout(stallTimer);
    socket.off('close', onClientGone);
    done();
  };
  // Ties are kept: the client's connection closing (even for a request still queued behind
  // another on it, as with HTTP/1.0 pipelining) aborts the gateway's request at once.
  const onClientGone = (): void => {
    controller?.abort(CLIENT_GONE);
    res.destroy();
    finish();
  };
  if (socket.destroyed || !socket.writable) {
    onClientGone();
    return;
  }
  socket.once('close', onClientGone);
  res.once('close', () => {
    if (!res.writableFinished) controller?.abort(CLIENT_GONE);
    finish();
  });

  const framing = bodyFraming(req);
  const body = framing.kind === 'none' ? null : req;
  const headers = forwardedHeaders(req, attribution);
  // A known length is kept (undici then checks the body against it); a chunked body stays chunked.
  if (framing.kind === 'length') headers.push('content-length', framing.length);
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(ctrl) {
      controller = ctrl;
      if (over) ctrl.abort(CLIENT_GONE);
    },
    onResponseStart(_ctrl, statusCode, headers, statusMessage) {
      upstream.incidents.succeeded();
      res.writeHead(statusCode, statusMessage, endToEndResponseHeaders(headers));
    },
    onResponseData(ctrl, chunk) {
      if (res.write(chunk)) return;
      ctrl.pause();
      stallTimer = setTimeout(() => res.destroy(), WRITE_STALL_TIMEOUT_MS);
      res.once('drain', () => {
        if (stallTimer !== null) clearTimeout(stallTimer);
        stallTimer = null;
        ctrl.resume();
      });
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError(_ctrl, error: Error & { code?: string }) {
      if (over || res.destroyed) return;
      if (res.headersSent) {
        // The gateway died mid-body: the client must see a cut response, not a complete one.
        res.destroy();
        return;
      }
      upstream.incidents.failed('http', error);
      const timedOut = error.code === 'UND_ERR_HEADERS_TIMEOUT';
      sendJson(
        res,
        timedOut ? 504 : 502,
        { error: timedOut ? 'gateway_timeout' : 'bad_gateway', message: timedOut ? 'the gateway did not answer in time' : 'the gateway did not answer; retry shortly' },
        { 'retry-after': '1' },
        true,
      );
    },
  };
  upstream.pool.dispatch({ method: req.method!, path: req.url!, headers, body }, handler);
}
