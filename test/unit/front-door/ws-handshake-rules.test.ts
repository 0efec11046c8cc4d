import { describe, expect, it } from 'vitest';
import { MAX_HANDSHAKE_HEAD_BYTES, acceptFor, parseHandshakeHead, type HandshakeHead } from '../../../src/front-door/ws-handshake.js';

/**
 * The gateway's answer to an upgrade, one row per input with the exact verdict (src/front-door/ws-handshake.ts):
 * every refusal names its reason, every bound is tried at and past its edge.
 */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = acceptFor(KEY);
const STATUS = 'HTTP/1.1 101 Switching Protocols\r\n';
const REQUIRED = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n`;
const GOOD = `${STATUS}${REQUIRED}\r\n`;
const parse = (text: string, accept: string | null = ACCEPT): HandshakeHead => parseHandshakeHead(Buffer.from(text, 'latin1'), accept);
const invalid = (reason: string): HandshakeHead => ({ kind: 'invalid', reason });
/** `count` filler header lines (`X-Fill-n: v`) after the required ones. */
const filler = (count: number): string => Array.from({ length: count }, (_, n) => `X-Fill-${n}: v\r\n`).join('');

describe('a 101: every refusal with its reason', () => {
  it.each<[string, string, string | null, HandshakeHead]>([
    ['a Content-Length', `${STATUS}${REQUIRED}Content-Length: 0\r\n\r\n`, ACCEPT, invalid('a 101 with a body length')],
    ['a Transfer-Encoding', `${STATUS}${REQUIRED}Transfer-Encoding: chunked\r\n\r\n`, ACCEPT, invalid('a 101 with a body length')],
    ['no Upgrade', GOOD.replace('Upgrade: websocket\r\n', ''), ACCEPT, invalid('a 101 without exactly one Upgrade: websocket')],
    ['Upgrade: h2c', GOOD.replace('Upgrade: websocket', 'Upgrade: h2c'), ACCEPT, invalid('a 101 without exactly one Upgrade: websocket')],
    ['two Upgrade lines', GOOD.replace('Upgrade: websocket', 'Upgrade: websocket\r\nUpgrade: websocket'), ACCEPT, invalid('a 101 without exactly one Upgrade: websocket')],
    ['no Connection', GOOD.replace('Connection: Upgrade\r\n', ''), ACCEPT, invalid('a 101 without exactly one Connection: upgrade')],
    ['Connection: keep-alive', GOOD.replace('Connection: Upgrade', 'Connection: keep-alive'), ACCEPT, invalid('a 101 without exactly one Connection: upgrade')],
    ['Connection: upgraded (a token is matched whole)', GOOD.replace('Connection: Upgrade', 'Connection: upgraded'), ACCEPT, invalid('a 101 without exactly one Connection: upgrade')],
    ['two Connection lines', GOOD.replace('Connection: Upgrade', 'Connection: Upgrade\r\nConnection: Upgrade'), ACCEPT, invalid('a 101 without exactly one Connection: upgrade')],
    ['no Accept', GOOD.replace(`Sec-WebSocket-Accept: ${ACCEPT}\r\n`, ''), ACCEPT, invalid('a 101 without exactly one Sec-WebSocket-Accept')],
    ['two Accept lines', GOOD.replace('\r\n\r\n', `\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`), ACCEPT, invalid('a 101 without exactly one Sec-WebSocket-Accept')],
    ['a wrong Accept', GOOD.replace(ACCEPT, acceptFor('another key')), ACCEPT, invalid('a 101 whose Sec-WebSocket-Accept does not match the key')],
    ['no key to check the Accept against', GOOD, null, invalid('a 101 whose Sec-WebSocket-Accept does not match the key')],
  ])('%s', (_name, text, accept, verdict) => {
    expect(parse(text, accept)).toEqual(verdict);
  });

  it('a good one: its headers as sent (lower-case names) and where the frames start', () => {
    expect(parse(`${GOOD}\x81\x00`)).toEqual({ kind: 'switching', headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': ACCEPT }, headLength: GOOD.length });
  });
});

describe('the head: syntax and bounds', () => {
  it.each<[string, string, HandshakeHead]>([
    ['HTTP/1.0', GOOD.replace('HTTP/1.1', 'HTTP/1.0'), invalid('not an HTTP/1.1 status line')],
    ['bytes before the status line', ` ${GOOD}`, invalid('not an HTTP/1.1 status line')],
    ['a control character after the reason', GOOD.replace('Protocols', 'Protocols\x01'), invalid('not an HTTP/1.1 status line')],
    ['a status out of range', GOOD.replace('101', '601'), invalid('not an HTTP/1.1 status line')],
    ['an obs-fold (a line starting with a space)', GOOD.replace('Connection: Upgrade\r\n', 'Connection: Upgrade\r\n continued\r\n'), invalid('a malformed header line')],
    ['a space before the colon', GOOD.replace('Upgrade: websocket', 'Upgrade : websocket'), invalid('a malformed header line')],
    ['a control character in a value', GOOD.replace('Upgrade: websocket', 'Upgrade: web\x01socket'), invalid('a malformed header line')],
    ['a bare LF inside an unfinished head', `${STATUS}Upgrade: websocket\n`, invalid('a bare LF in the answer head')],
    ['a bare LF as the first byte', '\n', invalid('a bare LF in the answer head')],
    ['CRLF line ends, not finished yet', `${STATUS}Upgrade: websocket\r\n`, { kind: 'incomplete' }],
    ['nothing yet', '', { kind: 'incomplete' }],
  ])('%s', (_name, text, verdict) => {
    expect(parse(text)).toEqual(verdict);
  });

  it('an unfinished head one byte short of the bound waits; at the bound it is refused', () => {
    const open = `${STATUS}X-Pad: `;
    expect(parse(open + 'a'.repeat(MAX_HANDSHAKE_HEAD_BYTES - 1 - open.length))).toEqual({ kind: 'incomplete' });
    expect(parse(open + 'a'.repeat(MAX_HANDSHAKE_HEAD_BYTES - open.length))).toEqual(invalid('answer head too large'));
  });

  it('a whole head of exactly the bound is read; one byte more is refused', () => {
    const fill = (bytes: number): string => `${STATUS}${REQUIRED}X-Pad: ${'a'.repeat(bytes)}\r\n\r\n`;
    const at = MAX_HANDSHAKE_HEAD_BYTES - fill(0).length;
    expect(parse(fill(at))).toMatchObject({ kind: 'switching', headLength: MAX_HANDSHAKE_HEAD_BYTES });
    expect(parse(fill(at + 1))).toEqual(invalid('answer head too large'));
  });

  it('100 header lines are read; 101 are refused', () => {
    expect(parse(`${STATUS}${REQUIRED}${filler(97)}\r\n`).kind).toBe('switching');
    expect(parse(`${STATUS}${REQUIRED}${filler(98)}\r\n`)).toEqual(invalid('too many header lines'));
  });
});

describe('any other answer: relayed with its body framing', () => {
  const answer = (status: string, headers: string): string => `HTTP/1.1 ${status}\r\n${headers}\r\n`;
  it.each<[string, string, HandshakeHead]>([
    ['401 with a length', answer('401 Unauthorized', 'Content-Length: 12\r\n'), { kind: 'answer', status: 401, reason: 'Unauthorized', headers: { 'content-length': '12' }, headLength: -1, body: 12 }],
    ['403 chunked', answer('403 Forbidden', 'Transfer-Encoding: Chunked\r\n'), { kind: 'answer', status: 403, reason: 'Forbidden', headers: { 'transfer-encoding': 'Chunked' }, headLength: -1, body: 'chunked' }],
    ['400 without a length: until the gateway closes', answer('400 Bad Request', 'X-A: 1\r\n'), { kind: 'answer', status: 400, reason: 'Bad Request', headers: { 'x-a': '1' }, headLength: -1, body: 'close' }],
    ['204: no body whatever it says', answer('204 No Content', ''), { kind: 'answer', status: 204, reason: 'No Content', headers: {}, headLength: -1, body: 0 }],
    ['304: no body', answer('304 Not Modified', 'Content-Length: 9\r\n'), { kind: 'answer', status: 304, reason: 'Not Modified', headers: { 'content-length': '9' }, headLength: -1, body: 0 }],
    ['repeated headers become a list, in order', answer('403 Forbidden', 'Set-Cookie: a\r\nSet-Cookie: b\r\nSet-Cookie: c\r\nContent-Length: 0\r\n'), { kind: 'answer', status: 403, reason: 'Forbidden', headers: { 'set-cookie': ['a', 'b', 'c'], 'content-length': '0' }, headLength: -1, body: 0 }],
    ['an interim 100', answer('100 Continue', ''), invalid('an interim 100 answer')],
    ['an interim 103', answer('103 Early Hints', 'Link: </a>\r\n'), invalid('an interim 103 answer')],
    ['both Content-Length and Transfer-Encoding', answer('400 Bad Request', 'Content-Length: 1\r\nTransfer-Encoding: chunked\r\n'), invalid('both Content-Length and Transfer-Encoding')],
    ['two Content-Length lines', answer('400 Bad Request', 'Content-Length: 1\r\nContent-Length: 1\r\n'), invalid('several Content-Length headers')],
    ['Transfer-Encoding: gzip', answer('400 Bad Request', 'Transfer-Encoding: gzip\r\n'), invalid('a Transfer-Encoding other than chunked')],
    ['two Transfer-Encoding lines', answer('400 Bad Request', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'), invalid('a Transfer-Encoding other than chunked')],
    ['a Content-Length with a letter after the digits', answer('400 Bad Request', 'Content-Length: 12a\r\n'), invalid('an invalid Content-Length')],
    ['a Content-Length with a letter before the digits', answer('400 Bad Request', 'Content-Length: a12\r\n'), invalid('an invalid Content-Length')],
    ['a Content-Length of 16 digits', answer('400 Bad Request', 'Content-Length: 1000000000000000\r\n'), invalid('an invalid Content-Length')],
  ])('%s', (_name, text, verdict) => {
    // The whole text is the head: an answer's headLength is its length (-1 in the rows).
    expect(parse(text)).toEqual(verdict.kind === 'answer' ? { ...verdict, headLength: text.length } : verdict);
  });
});

describe('header names are data', () => {
  it('a `__proto__` line is a header like any other, and gives the headers no prototype', () => {
    const head = parse('HTTP/1.1 403 Forbidden\r\n__proto__: x\r\n__proto__: y\r\nContent-Length: 0\r\n\r\n');
    expect(head.kind).toBe('answer');
    const headers = (head as Extract<HandshakeHead, { kind: 'answer' }>).headers;
    expect(Object.getPrototypeOf(headers)).toBe(null);
    expect(Object.keys(headers)).toEqual(['__proto__', 'content-length']);
    expect(headers['__proto__']).toEqual(['x', 'y']);
  });
});
