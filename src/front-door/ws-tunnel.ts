import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { forwardedHeaders, type Peer } from './client-attribution.js';
import { writeRawResponse } from './responses.js';
import type { Upstream } from './http-forward.js';
import { CLOSE_SERVICE_RESTART, FrameBoundaryTracker, encodeCloseFrame } from './ws-frames.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

export type TunnelEnd = 'closed' | 'cut';

export interface Tunnel {
  /** Ends the session with a close frame of ours when the stream is between frames, else drops it. */
  cut(code: number, reason: string): Promise<void>;
}

export interface TunnelHooks {
  onOpen(tunnel: Tunnel): void;
  onEnd(tunnel: Tunnel, end: TunnelEnd): void;
}

/**
 * Forwards one WebSocket upgrade: the handshake goes through Node's HTTP client (so the gateway's
 * answer, subprotocol and extensions included, reaches the client verbatim), then the two sockets
 * are piped. The gateway-to-client direction is watched for frame boundaries so that the front
 * door can close the session cleanly itself when the gateway vanishes or the drain deadline hits.
 */
export function openTunnel(req: IncomingMessage, client: Duplex, head: Buffer, peer: Peer, upstream: Upstream, hooks: TunnelHooks): void {
  const upstreamReq = http.request({
    host: '127.0.0.1',
    port: upstream.port,
    method: req.method,
    path: req.url,
    headers: forwardedHeaders(req.headers, peer, true),
    agent: false,
    timeout: HANDSHAKE_TIMEOUT_MS,
  });
  let answered = false;
  const giveUp = (): void => {
    upstreamReq.destroy();
  };
  client.once('close', giveUp);

  upstreamReq.on('timeout', () => {
    answered = true;
    upstreamReq.destroy();
    writeRawResponse(client, 504, { error: 'gateway_timeout', message: 'the gateway did not answer the WebSocket handshake' });
  });
  upstreamReq.on('error', (error: Error & { code?: string }) => {
    if (answered || client.destroyed) return;
    answered = true;
    upstream.incidents.failed('websocket', error);
    writeRawResponse(client, 502, { error: 'bad_gateway', message: 'the gateway did not answer; retry shortly' }, { 'Retry-After': '1' });
  });
  // The gateway refused the upgrade (401, 403, 400 …): relay its answer as is.
  upstreamReq.on('response', (res) => {
    answered = true;
    upstream.incidents.succeeded();
    const lines = [`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}`];
    for (let i = 0; i < res.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(res.rawHeaders[i]!.toLowerCase())) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
    }
    lines.push('Connection: close');
    client.write(`${lines.join('\r\n')}\r\n\r\n`);
    res.pipe(client);
  });
  upstreamReq.on('upgrade', (res, gateway: Socket, gatewayHead: Buffer) => {
    answered = true;
    client.off('close', giveUp);
    upstream.incidents.succeeded();
    if (client.destroyed) {
      gateway.destroy();
      return;
    }
    const lines = [`HTTP/1.1 101 ${res.statusMessage ?? 'Switching Protocols'}`];
    for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
    client.write(`${lines.join('\r\n')}\r\n\r\n`);
    splice(client, head, gateway, gatewayHead, hooks);
  });
  upstreamReq.end();
}

function splice(client: Duplex, clientHead: Buffer, gateway: Socket, gatewayHead: Buffer, hooks: TunnelHooks): void {
  gateway.setNoDelay(true);
  const tracker = new FrameBoundaryTracker();
  let ended = false;
  let cutting = false;

  const finish = (end: TunnelEnd): void => {
    if (ended) return;
    ended = true;
    hooks.onEnd(tunnel, end);
  };
  /** Our own close frame, only between two frames and only if nobody closed yet. */
  const closeClient = (code: number, reason: string): void => {
    if (!tracker.closeSeen && tracker.atBoundary && client.writable) {
      tracker.closeSeen = true;
      client.end(encodeCloseFrame(code, reason));
    } else if (client.writable) {
      client.end();
    }
  };

  const tunnel: Tunnel = {
    cut(code, reason) {
      if (ended || client.destroyed) return Promise.resolve();
      cutting = true;
      gateway.unpipe(client);
      gateway.destroy();
      return new Promise((resolve) => {
        client.once('close', resolve);
        closeClient(code, reason);
        // A peer that does not finish the closing handshake must not hold the exit.
        client.once('finish', () => client.destroy());
        finish('cut');
      });
    },
  };

  if (gatewayHead.length > 0) {
    tracker.feed(gatewayHead);
    client.write(gatewayHead);
  }
  if (clientHead.length > 0) gateway.write(clientHead);
  gateway.on('data', tracker.feed);
  gateway.pipe(client, { end: false });
  client.pipe(gateway);

  // The gateway ended the connection: pass its close on, or close for it if it vanished mid-session
  // (a crash): 1012 tells the client to reconnect once the gateway is back.
  gateway.once('close', () => {
    if (!cutting) closeClient(CLOSE_SERVICE_RESTART, 'gateway restarting');
  });
  gateway.on('error', () => gateway.destroy());
  client.on('error', () => client.destroy());
  client.once('close', () => {
    gateway.destroy();
    finish(cutting ? 'cut' : 'closed');
  });
  hooks.onOpen(tunnel);
}
