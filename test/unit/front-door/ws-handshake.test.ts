import { describe, expect, it } from 'vitest';
import { MAX_HANDSHAKE_HEAD_BYTES, acceptFor, parseHandshakeHead } from '../../../src/front-door/ws-handshake.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const GOOD = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`;
const parse = (text: string, accept: string | null = ACCEPT) => parseHandshakeHead(Buffer.from(text, 'latin1'), accept);

describe('acceptFor', () => {
  it('is RFC 6455 §1.3', () => expect(acceptFor(KEY)).toBe(ACCEPT));
});

describe('parseHandshakeHead: a 101', () => {
  it('accepts a good 101 and says where the frames after it start', () => {
    const frames = '\x81\x02hi';
    const head = parse(GOOD + frames);
    expect(head).toMatchObject({ kind: 'switching', headLength: GOOD.length });
    expect(head.kind === 'switching' && head.headers).toMatchObject({ upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': ACCEPT });
  });

  it('accepts case and list variants of the required headers', () => {
    expect(parse(GOOD.replace('Upgrade: websocket', 'upgrade:WebSocket ').replace('Connection: Upgrade', 'CONNECTION: keep-alive, upgrade')).kind).toBe('switching');
  });

  it.each<[string, string]>([
    ['no Accept', GOOD.replace(`Sec-WebSocket-Accept: ${ACCEPT}\r\n`, '')],
    ['a wrong Accept', GOOD.replace(ACCEPT, acceptFor('another key'))],
    ['two Accepts', GOOD.replace('\r\n\r\n', `\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`)],
    ['no Upgrade', GOOD.replace('Upgrade: websocket\r\n', '')],
    ['Upgrade: h2c', GOOD.replace('Upgrade: websocket', 'Upgrade: h2c')],
    ['two Upgrades', GOOD.replace('Upgrade: websocket', 'Upgrade: websocket\r\nUpgrade: websocket')],
    ['no Connection', GOOD.replace('Connection: Upgrade\r\n', '')],
    ['Connection without upgrade', GOOD.replace('Connection: Upgrade', 'Connection: keep-alive')],
    ['two Connections', GOOD.replace('Connection: Upgrade', 'Connection: Upgrade\r\nConnection: close')],
    ['a Content-Length', GOOD.replace('\r\n\r\n', '\r\nContent-Length: 0\r\n\r\n')],
    ['a Transfer-Encoding', GOOD.replace('\r\n\r\n', '\r\nTransfer-Encoding: chunked\r\n\r\n')],
    ['HTTP/1.0', GOOD.replace('HTTP/1.1', 'HTTP/1.0')],
    ['no reason separator', GOOD.replace('101 Switching Protocols', '101')],
    ['a bare LF ending a line', GOOD.replace('Upgrade: websocket\r\n', 'Upgrade: websocket\n')],
    ['a bare CR in a value', GOOD.replace('Upgrade: websocket', 'Upgrade: web\rsocket')],
    ['an obs-fold', GOOD.replace('Connection: Upgrade', 'Connection:\r\n Upgrade')],
    ['a space before the colon', GOOD.replace('Upgrade: websocket', 'Upgrade : websocket')],
    ['a NUL in a value', GOOD.replace('Upgrade: websocket', 'Upgrade: websocket\x00')],
    ['an empty header name', GOOD.replace('\r\n\r\n', '\r\n: x\r\n\r\n')],
    ['a 100 Continue first', `HTTP/1.1 100 Continue\r\n\r\n${GOOD}`],
    ['a 103 Early Hints', 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n'],
    ['garbage', 'SSH-2.0-OpenSSH_9.6\r\n\r\n'],
  ])('refuses a 101 with %s', (_name, text) => {
    expect(parse(text).kind).toBe('invalid');
  });

  it('refuses any 101 when the client sent no single key', () => {
    expect(parse(GOOD, null).kind).toBe('invalid');
  });

  it('waits for more while the head is incomplete, up to its bound', () => {
    for (let cut = 0; cut < GOOD.length - 1; cut++) expect(parse(GOOD.slice(0, cut)).kind, `cut at ${cut}`).toBe('incomplete');
    const long = `HTTP/1.1 101 Switching Protocols\r\nX-Pad: ${'a'.repeat(MAX_HANDSHAKE_HEAD_BYTES)}`;
    expect(parse(long)).toEqual({ kind: 'invalid', reason: 'answer head too large' });
    const complete = `HTTP/1.1 101 Switching Protocols\r\nX-Pad: ${'a'.repeat(MAX_HANDSHAKE_HEAD_BYTES)}\r\n\r\n`;
    expect(parse(complete)).toEqual({ kind: 'invalid', reason: 'answer head too large' });
    const many = `HTTP/1.1 101 Switching Protocols\r\n${'X-A: 1\r\n'.repeat(101)}\r\n`;
    expect(parse(many).kind).toBe('invalid');
  });

  it('refuses a head that a bare LF ends, before it grows', () => {
    expect(parse('HTTP/1.1 101 Switching Protocols\n\n')).toMatchObject({ kind: 'invalid' });
  });
});

describe('parseHandshakeHead: a refusal', () => {
  it.each<[string, string, number | 'chunked' | 'close']>([
    ['401 with a length', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nConnection: close\r\n\r\n', 12],
    ['400 chunked', 'HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n', 'chunked'],
    ['403 until close', 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n', 'close'],
    ['200 with a length', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n', 2],
    ['302 without a body', 'HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n', 0],
    ['304', 'HTTP/1.1 304 Not Modified\r\n\r\n', 0],
    ['an empty reason', 'HTTP/1.1 426 \r\nContent-Length: 0\r\n\r\n', 0],
  ])('relays %s', (_name, text, body) => {
    expect(parse(text)).toMatchObject({ kind: 'answer', body, headLength: text.length });
  });

  it.each<[string, string]>([
    ['two lengths', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['a length and chunked', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['a bad length', 'HTTP/1.1 401 Unauthorized\r\nContent-Length: -1\r\n\r\n'],
    ['gzip, chunked', 'HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'],
    ['a 600 status', 'HTTP/1.1 600 Odd\r\n\r\n'],
  ])('refuses one with %s', (_name, text) => {
    expect(parse(text).kind).toBe('invalid');
  });
});
