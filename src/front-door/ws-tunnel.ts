import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { forwardedHeaders, type ForwardableAttribution } from './client-attribution.js';
import { endToEndResponseHeaders } from './headers.js';
import { endSocket, writeRawResponse } from './responses.js';
import { HANDSHAKE_TIMEOUT_MS, type Upstream } from './upstream.js';
import { CLOSE_SERVICE_RESTART, FrameBoundaryTracker, encodeCloseFrame } from './ws-frames.js';

export type TunnelEnd = 'closed' | 'cut';

export interface Tunnel {
  /**
   * Ends the session with a close frame of ours when the stream is between frames, else drops it;
   * resolves once both sockets are gone, within `graceMs` whatever the client does.
   */
  cut(code: number, reason: string, graceMs: number): Promise<void>;
  /** Destroys both sockets now. */
  destroy(): void;
}

export interface TunnelHooks {
  onOpen(tunnel: Tunnel): void;
  onEnd(tunnel: Tunnel, end: TunnelEnd): void;
}

const CLIENT_GONE = Object.assign(new Error('the client closed its connection'), { code: 'CLIENT_GONE' });

/**
 * Forwards one WebSocket upgrade through the same undici pool as HTTP: the gateway's answer
 * (subprotocol and extensions included) reaches the client, a refusal (401, 403 …) too, then the
 * two sockets are spliced. The gateway-to-client direction is watched for frame boundaries so that
 * the front door can close the session cleanly itself when the gateway vanishes or the drain
 * deadline hits.
 */
export function openTunnel(req: IncomingMessage, client: Duplex, head: Buffer, attribution: ForwardableAttribution, upstream: Upstream, hooks: TunnelHooks): void {
  let controller: Dispatcher.DispatchController | null = null;
  let settled = false;
  const onClientGone = (): void => {
    settled = true;
    controller?.abort(CLIENT_GONE);
  };
  client.once('close', onClientGone);

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(ctrl) {
      controller = ctrl;
      if (settled) ctrl.abort(CLIENT_GONE);
    },
    onRequestUpgrade(_ctrl, statusCode, headers, gateway) {
      settled = true;
      client.off('close', onClientGone);
      upstream.incidents.succeeded();
      if (client.destroyed || !client.writable) {
        gateway.destroy();
        return;
      }
      client.write(statusHead(statusCode, 'Switching Protocols', { ...endToEndResponseHeaders(headers), connection: 'Upgrade', upgrade: 'websocket' }));
      splice(client, head, gateway as Socket, hooks);
    },
    // The gateway refused the upgrade (401, 403, 400 …): relay its answer, then close.
    onResponseStart(_ctrl, statusCode, headers, statusMessage) {
      settled = true;
      upstream.incidents.succeeded();
      client.write(statusHead(statusCode, statusMessage ?? '', { ...endToEndResponseHeaders(headers), connection: 'close' }));
    },
    onResponseData(_ctrl, chunk) {
      client.write(chunk);
    },
    onResponseEnd() {
      endSocket(client);
    },
    onResponseError(_ctrl, error: Error & { code?: string }) {
      if (client.destroyed || error === CLIENT_GONE) return;
      if (settled) {
        client.destroy();
        return;
      }
      settled = true;
      if (error.code === 'UND_ERR_HEADERS_TIMEOUT') {
        writeRawResponse(client, 504, { error: 'gateway_timeout', message: 'the gateway did not answer the WebSocket handshake' });
      } else if (error.code === 'UND_ERR_INVALID_ARG' || error.code === 'UND_ERR_NOT_SUPPORTED') {
        writeRawResponse(client, 400, { error: 'bad_request', message: error.message });
      } else {
        upstream.incidents.failed('websocket', error);
        writeRawResponse(client, 502, { error: 'bad_gateway', message: 'the gateway did not answer; retry shortly' }, { 'Retry-After': '1' });
      }
    },
  };
  upstream.pool.dispatch(
    { method: req.method!, path: req.url!, headers: forwardedHeaders(req, attribution), upgrade: 'websocket', headersTimeout: HANDSHAKE_TIMEOUT_MS },
    handler,
  );
}

function statusHead(statusCode: number, statusMessage: string, headers: Record<string, string | string[]>): string {
  let text = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    for (const line of Array.isArray(value) ? value : [value]) text += `${name}: ${line}\r\n`;
  }
  return `${text}\r\n`;
}

function splice(client: Duplex, clientHead: Buffer, gateway: Socket, hooks: TunnelHooks): void {
  gateway.setNoDelay(true);
  const tracker = new FrameBoundaryTracker();
  let ended = false;
  let cutting = false;

  const finish = (end: TunnelEnd): void => {
    if (ended) return;
    ended = true;
    hooks.onEnd(tunnel, end);
  };
  /** Our own close frame, only between two frames and only if nobody closed yet; then a bounded end. */
  const closeClient = (code: number, reason: string): void => {
    if (!tracker.closeSeen && tracker.atBoundary && client.writable) {
      tracker.closeSeen = true;
      endSocket(client, encodeCloseFrame(code, reason));
    } else {
      endSocket(client);
    }
  };

  const tunnel: Tunnel = {
    cut(code, reason, graceMs) {
      if (ended || client.destroyed) return Promise.resolve();
      cutting = true;
      gateway.unpipe(client);
      gateway.destroy();
      return new Promise((resolve) => {
        client.once('close', () => resolve());
        closeClient(code, reason);
        // At the deadline nobody waits for the closing handshake: gone once our frame is sent, or
        // after the grace if the client does not even read it.
        client.once('finish', () => client.destroy());
        setTimeout(() => client.destroy(), graceMs).unref();
        finish('cut');
      });
    },
    destroy() {
      gateway.destroy();
      client.destroy();
    },
  };

  gateway.on('data', tracker.feed);
  if (clientHead.length > 0) gateway.write(clientHead);
  gateway.pipe(client, { end: false });
  client.pipe(gateway);

  // The gateway ended the connection: pass its close on, or close for it if it vanished
  // mid-session (a crash): 1012 tells the client to reconnect once the gateway is back. Either way
  // the client's socket is gone within the linger bound, even if it never reads (backpressure).
  gateway.once('close', () => {
    if (!cutting) closeClient(CLOSE_SERVICE_RESTART, 'gateway restarting');
  });
  // The client half-closed: the gateway gets the same, and the pair a bounded time to finish.
  client.once('end', () => endSocket(gateway));
  gateway.on('error', () => gateway.destroy());
  client.on('error', () => client.destroy());
  client.once('close', () => {
    gateway.destroy();
    finish(cutting ? 'cut' : 'closed');
  });
  hooks.onOpen(tunnel);
}
