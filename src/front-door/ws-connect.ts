import type { IncomingMessage } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ForwardableAttribution } from './client-attribution.js';
import { endToEndResponseHeaders } from './headers.js';
import { endSocket, writeRawResponse } from './responses.js';
import { HANDSHAKE_TIMEOUT_MS, type Upstream } from './upstream.js';
import { BAD_HANDSHAKE, HANDSHAKE_TIMEOUT, upstreamFailure } from './upstream-errors.js';
import { serializeRequestHead, upstreamRequest } from './upstream-request.js';
import { acceptFor, parseHandshakeHead } from './ws-handshake.js';
import { splice, type TunnelHooks } from './ws-tunnel.js';
import { LOOPBACK_IPV4 } from '../host/loopback.js';

/** Bytes a client may send behind its upgrade request before the gateway's 101 (frames it should not send yet). */
const MAX_EARLY_BYTES = 64 * 1024;

/**
 * Forwards one WebSocket upgrade on a connection of its own to the gateway: the request head is
 * written once, the answer head read strictly (ws-handshake.ts). A 101 is relayed (subprotocol and
 * extensions included) and the two sockets spliced (ws-tunnel.ts); a refusal (401, 403, 400 …) is
 * relayed and the connection closed; anything in doubt gets the client 502 and both sockets are
 * destroyed. No HTTP client library here: an upgrade needs none of a pool's work, and undici's
 * upgrade path cost an error object with its stack per session.
 */
export function openTunnel(req: IncomingMessage, client: Duplex, clientHead: Buffer, attribution: ForwardableAttribution, upstream: Upstream, hooks: TunnelHooks): void {
  const key = soleHeader(req.rawHeaders, 'sec-websocket-key');
  const expectedAccept = key === null ? null : acceptFor(key);
  const request = upstreamRequest(req as IncomingMessage & { method: string; url: string }, attribution, 'websocket');
  const gateway = net.connect({ host: LOOPBACK_IPV4, port: upstream.gatewayPort, noDelay: true });
  let received: Buffer | null = null;
  let settled = false;
  /** The client is read during the handshake, to see it leave; what it sends early goes after the 101. */
  let early = clientHead;

  const detach = (): void => {
    settled = true;
    clearTimeout(timer);
    gateway.off('data', onData);
    gateway.off('error', onError);
    gateway.off('close', onGatewayClose);
    client.off('close', onClientGone);
    client.off('end', onClientGone);
    client.off('data', onClientData);
  };
  const fail = (code: string | undefined, error: Error & { code?: string }): void => {
    if (settled) return;
    detach();
    gateway.on('error', () => undefined);
    gateway.destroy();
    const failure = upstreamFailure(code);
    if (failure.incident) upstream.incidents.failed('websocket', error);
    // Still read (and dropped) after the answer, so the client's own close is seen at once.
    client.resume();
    writeRawResponse(client, failure.status, failure.body, failure.headers);
  };
  const onClientGone = (): void => {
    if (settled) return;
    detach();
    gateway.on('error', () => undefined);
    gateway.destroy();
    client.destroy();
  };
  const onClientData = (chunk: Buffer): void => {
    early = Buffer.concat([early, chunk]);
    // A client may not send frames before the 101 at all: a little is passed on, more is refused.
    if (early.length > MAX_EARLY_BYTES) onClientGone();
  };
  const onError = (error: Error & { code?: string }): void => fail(error.code, error);
  const onGatewayClose = (): void => fail(undefined, Object.assign(new Error('the gateway closed the connection before answering the WebSocket handshake'), { code: 'ECONNRESET' }));
  const onData = (chunk: Buffer): void => {
    received = received === null ? chunk : Buffer.concat([received, chunk]);
    const head = parseHandshakeHead(received, expectedAccept);
    if (head.kind === 'incomplete') return;
    if (head.kind === 'invalid') {
      fail(BAD_HANDSHAKE, Object.assign(new Error(`the gateway's WebSocket handshake answer was refused: ${head.reason}`), { code: BAD_HANDSHAKE }));
      return;
    }
    detach();
    upstream.incidents.succeeded();
    const rest = received.subarray(head.headLength);
    if (client.destroyed || !client.writable) {
      gateway.destroy();
      return;
    }
    if (head.kind === 'switching') {
      // The 101 and the gateway's first frames in one write.
      client.cork();
      client.write(responseHead(101, 'Switching Protocols', { ...endToEndResponseHeaders(head.headers), connection: 'Upgrade', upgrade: 'websocket' }));
      gateway.pause();
      client.pause();
      splice(client, early, gateway, rest, hooks);
      client.uncork();
      return;
    }
    const headers = endToEndResponseHeaders(head.headers);
    if (head.body === 'chunked') headers['transfer-encoding'] = 'chunked';
    client.write(responseHead(head.status, head.reason, { ...headers, connection: 'close' }));
    client.resume();
    relayBody(gateway, client, rest, head.body);
  };
  const timer = setTimeout(
    () => fail(gateway.connecting ? undefined : HANDSHAKE_TIMEOUT, Object.assign(new Error('the gateway did not answer the WebSocket handshake in time'), { code: HANDSHAKE_TIMEOUT })),
    HANDSHAKE_TIMEOUT_MS,
  );
  gateway.on('data', onData);
  gateway.on('error', onError);
  gateway.once('close', onGatewayClose);
  client.once('close', onClientGone);
  client.once('end', onClientGone);
  client.on('data', onClientData);
  gateway.write(serializeRequestHead(request));
}

/**
 * A refusal's body, then the end of the client's connection: `length` bytes, or all the gateway
 * sends until it closes (a chunked body is relayed as is, its header kept). Bounded like the
 * handshake: a refusal is short, and a gateway that keeps the connection open is cut.
 */
function relayBody(gateway: Socket, client: Duplex, first: Buffer, length: number | 'chunked' | 'close'): void {
  let left = typeof length === 'number' ? length : Infinity;
  let over = false;
  const done = (): void => {
    if (over) return;
    over = true;
    clearTimeout(deadline);
    gateway.destroy();
    endSocket(client);
  };
  const deadline = setTimeout(done, HANDSHAKE_TIMEOUT_MS);
  const take = (chunk: Buffer): void => {
    if (left <= 0) return;
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= part.length;
    if (part.length > 0) client.write(part);
    if (left <= 0) done();
  };
  gateway.on('error', () => gateway.destroy());
  gateway.once('close', done);
  client.once('close', done);
  if (left === 0) {
    done();
    return;
  }
  take(first);
  gateway.on('data', take);
}

function responseHead(status: number, reason: string, headers: Record<string, string | string[]>): string {
  let text = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (Array.isArray(value)) for (const line of value) text += `${name}: ${line}\r\n`;
    else text += `${name}: ${value}\r\n`;
  }
  return `${text}\r\n`;
}

/** The value of a header sent exactly once, else null. */
function soleHeader(raw: readonly string[], name: string): string | null {
  let value: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== name) continue;
    if (value !== null) return null;
    value = raw[i + 1]!;
  }
  return value;
}
