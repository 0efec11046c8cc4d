import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ForwardableAttribution } from './client-attribution.js';
import { endToEndResponseHeaders } from './headers.js';
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

/**
 * Forwards one request to the gateway and streams its response back. The request reaches the
 * gateway as exactly one request: same method and target, its body re-framed by undici from the
 * body it is given (the client's framing headers are never passed on). `done` is called exactly
 * once, when the exchange is over for whatever reason. Returns what the caller calls when `res`
 * closes (the caller's one close listener; Node closes the response under way when its client's
 * connection closes, so that also aborts the gateway's request at once).
 */
export function forwardHttp(req: IncomingMessage, res: ServerResponse, attribution: ForwardableAttribution, upstream: Upstream, done: () => void): () => void {
  let controller: Dispatcher.DispatchController | null = null;
  let over = false;
  /** One timer per exchange, re-armed at each pause: armed while the client does not read. */
  let stallTimer: NodeJS.Timeout | null = null;
  let paused = false;
  const finish = (): void => {
    if (over) return;
    over = true;
    if (stallTimer !== null) clearTimeout(stallTimer);
    done();
  };
  const onClose = (): void => {
    if (!res.writableFinished) controller?.abort(CLIENT_GONE);
    finish();
  };
  const socket = req.socket;
  if (socket.destroyed || !socket.writable) {
    res.destroy();
    finish();
    return onClose;
  }
  const onDrain = (): void => {
    if (!paused) return;
    paused = false;
    controller?.resume();
  };

  const request = upstreamRequest(req as IncomingMessage & { method: string; url: string }, attribution, 'http');
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
      paused = true;
      if (stallTimer === null) {
        stallTimer = setTimeout(() => {
          if (paused) res.destroy();
        }, WRITE_STALL_TIMEOUT_MS);
        res.on('drain', onDrain);
      } else {
        stallTimer.refresh();
      }
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
      const failure = upstreamFailure(error.code);
      if (failure.incident) upstream.incidents.failed('http', error);
      sendJson(res, failure.status, failure.body, failure.headers, true);
    },
  };
  upstream.pool.dispatch({ method: request.method, path: request.path, headers: request.headers, body: request.framing.kind === 'none' ? null : req }, handler);
  return onClose;
}
