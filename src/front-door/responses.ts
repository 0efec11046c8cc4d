import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { markClosing } from './connections.js';
import { TIME_BOUNDS } from '../time-bounds.js';

/** A JSON answer of the front door's own on a ServerResponse; `close` ends the connection after it. */
export function sendJson(res: ServerResponse, status: number, body: object, headers: Readonly<Record<string, string>> = {}, close = false): void {
  const text = JSON.stringify(body);
  if (close) {
    res.shouldKeepAlive = false;
    if (res.req.socket) markClosing(res.req.socket);
  }
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/**
 * How long a socket we have ended may stay open waiting for its peer to read the rest and close:
 * a peer that never reads (a full send buffer, FIN never sent) must not hold it for ever.
 */
export const LINGER_MS = TIME_BOUNDS.frontDoorLinger.ms;

/** Ends a socket (after `last`, if given) and destroys it if it is still open after LINGER_MS. */
export function endSocket(socket: Duplex, last?: Buffer | string): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  if (socket.writableEnded) return;
  if (last === undefined) socket.end();
  else socket.end(last);
}

/** A whole HTTP response written on a raw socket (an upgrade request has no ServerResponse); always the last. */
export function writeRawResponse(socket: Duplex, status: number, body: object, headers: Readonly<Record<string, string>> = {}): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Cache-Control: no-store',
    'Connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  endSocket(socket, `${lines.join('\r\n')}\r\n\r\n${text}`);
}
