import { createHash } from 'node:crypto';

/**
 * The gateway's answer to a WebSocket upgrade, read from a raw socket. Strict on purpose: the
 * front door splices the two sockets on a 101, so any doubt about where the head ends or what it
 * says refuses the session (the socket is destroyed, never reused). Pure.
 */

/** Beyond this, the gateway's answer head is refused (Node's own server allows 16 KB too). */
export const MAX_HANDSHAKE_HEAD_BYTES = 16 * 1024;
/** Header lines an answer head may have. */
const MAX_HEADER_LINES = 100;

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const STATUS_LINE = /^HTTP\/1\.1 ([1-5][0-9][0-9]) ([\t\x20-\x7e\x80-\xff]*)$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[\t ]*([\t\x20-\x7e\x80-\xff]*?)[\t ]*$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');

export type HandshakeHead =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** Accepted: `headers` as sent (lower-case names); the bytes after `headLength` are the gateway's first frames. */
  | { readonly kind: 'switching'; readonly headers: Record<string, string | string[]>; readonly headLength: number }
  /**
   * Any final answer but 101 (a refusal), to relay. `body`: its length, `chunked`, or `close`
   * (it ends when the gateway closes).
   */
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly reason: string;
      readonly headers: Record<string, string | string[]>;
      readonly headLength: number;
      readonly body: number | 'chunked' | 'close';
    };

/** Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/**
 * Parses what the gateway sent so far. `expectedAccept`: what Sec-WebSocket-Accept must be (null
 * when the client sent no single key: then no 101 can be checked, and none is accepted).
 */
export function parseHandshakeHead(received: Buffer, expectedAccept: string | null): HandshakeHead {
  const end = received.indexOf(CRLFCRLF);
  if (end === -1) {
    if (received.length >= MAX_HANDSHAKE_HEAD_BYTES) return invalid('answer head too large');
    // Every byte before the head's end is head: a line ending in a bare LF will never end it well.
    return hasBareLineFeed(received) ? invalid('a bare LF in the answer head') : { kind: 'incomplete' };
  }
  const headLength = end + 4;
  if (headLength > MAX_HANDSHAKE_HEAD_BYTES) return invalid('answer head too large');
  const lines = received.toString('latin1', 0, end).split('\r\n');
  if (lines.length - 1 > MAX_HEADER_LINES) return invalid('too many header lines');
  const status = STATUS_LINE.exec(lines[0]!);
  if (status === null) return invalid('not an HTTP/1.1 status line');
  const code = Number(status[1]);
  // Names come from the gateway: a `__proto__` line must be a header like any other, not the object's prototype.
  const headers = Object.create(null) as Record<string, string | string[]>;
  const counts = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    // A bare CR or LF, an obs-fold, a control character or a bad name all fail here.
    const field = HEADER_LINE.exec(lines[i]!);
    if (field === null) return invalid('a malformed header line');
    const name = field[1]!.toLowerCase();
    const value = field[2]!;
    const had = headers[name];
    headers[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const contentLengths = counts.get('content-length') ?? 0;
  const transferEncodings = counts.get('transfer-encoding') ?? 0;
  if (code === 101) {
    if (contentLengths + transferEncodings > 0) return invalid('a 101 with a body length');
    if (counts.get('upgrade') !== 1 || (headers['upgrade'] as string).toLowerCase() !== 'websocket') return invalid('a 101 without exactly one Upgrade: websocket');
    if (counts.get('connection') !== 1 || !hasToken(headers['connection'] as string, 'upgrade')) return invalid('a 101 without exactly one Connection: upgrade');
    if (counts.get('sec-websocket-accept') !== 1) return invalid('a 101 without exactly one Sec-WebSocket-Accept');
    if (expectedAccept === null || headers['sec-websocket-accept'] !== expectedAccept) return invalid('a 101 whose Sec-WebSocket-Accept does not match the key');
    return { kind: 'switching', headers, headLength };
  }
  if (code < 200) return invalid(`an interim ${code} answer`);
  let body: number | 'chunked' | 'close' = 'close';
  if (contentLengths > 0 && transferEncodings > 0) return invalid('both Content-Length and Transfer-Encoding');
  if (contentLengths > 1) return invalid('several Content-Length headers');
  if (transferEncodings > 1 || (transferEncodings === 1 && (headers['transfer-encoding'] as string).toLowerCase() !== 'chunked')) return invalid('a Transfer-Encoding other than chunked');
  if (contentLengths === 1) {
    const length = headers['content-length'] as string;
    if (!/^[0-9]{1,15}$/.test(length)) return invalid('an invalid Content-Length');
    body = Number(length);
  } else if (transferEncodings === 1) {
    body = 'chunked';
  }
  if (code === 204 || code === 304) body = 0;
  return { kind: 'answer', status: code, reason: status[2]!, headers, headLength, body };
}

function hasBareLineFeed(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) if (at === 0 || bytes[at - 1] !== 13) return true;
  return false;
}

function hasToken(value: string, token: string): boolean {
  for (const item of value.split(',')) if (item.trim().toLowerCase() === token) return true;
  return false;
}

function invalid(reason: string): HandshakeHead {
  return { kind: 'invalid', reason };
}
